//! Personal data in free text: where it is ([`detect`]) and a copy without it ([`mask`]).
//!
//! Detection favours precision on look-alikes that are everywhere in customer mail — order
//! numbers, timestamps, prices, versions, tracking numbers — so each kind is validated, not
//! just pattern-matched: phone numbers against libphonenumber's metadata, cards by Luhn and
//! issuer prefix, IBANs by country length and mod-97, SSNs by the SSA's allocation rules.

mod cards;
mod contact;
mod numbers;
mod phone;

pub use contact::KnownNames;

use serde::{Deserialize, Serialize};

/// What kind of personal data a span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A payment card number.
    Card,
    /// An International Bank Account Number.
    Iban,
    /// A national identity number (US SSN).
    NationalId,
    /// A telephone number.
    Phone,
    /// The name of a person the company knows.
    Name,
}

impl PiiKind {
    /// The placeholder that replaces this kind of data in masked text.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Email => "[EMAIL]",
            Self::Card => "[CARD]",
            Self::Iban => "[IBAN]",
            Self::NationalId => "[NATIONAL_ID]",
            Self::Phone => "[PHONE]",
            Self::Name => "[NAME]",
        }
    }
}

/// A byte range of personal data in a text; offsets are on character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PiiSpan {
    /// What the range holds.
    pub kind: PiiKind,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
}

/// What detection needs to know about the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiContext {
    /// Full names of people the company knows (contacts, customers, staff); each full name
    /// and, for names of two or more words, the surname are masked. Prepare it once per
    /// company ([`KnownNames::new`]) and reuse it for many texts.
    pub known_names: KnownNames,
    /// ISO 3166 region for numbers written without a country code, e.g. "US", "DE".
    pub default_region: String,
}

impl Default for PiiContext {
    fn default() -> Self {
        Self {
            known_names: KnownNames::default(),
            default_region: "US".to_owned(),
        }
    }
}

/// All personal data in `text`, sorted by start, without overlaps (see [`resolve`]).
pub fn detect(text: &str, ctx: &PiiContext) -> Vec<PiiSpan> {
    let mut spans = Vec::new();
    spans.extend(contact::emails(text));
    spans.extend(cards::cards(text));
    spans.extend(numbers::ibans(text));
    spans.extend(numbers::ssns(text));
    // A digit block that passed a checksum or the SSN rules is not re-read as a phone.
    let phones = phone::phones(text, &ctx.default_region);
    let strict = spans.clone();
    spans.extend(
        phones
            .into_iter()
            .filter(|p| !strict.iter().any(|s| s.start < p.end && p.start < s.end)),
    );
    spans.extend(contact::names(text, &ctx.known_names));
    resolve(spans)
}

/// Makes spans safe to apply: drops empty, out-of-range or off-boundary ones and merges
/// overlapping ones into their union, labelled with the kind of the longest member (ties:
/// the earlier [`PiiKind`] in declaration order). Deterministic for any input order.
pub fn resolve(mut spans: Vec<PiiSpan>) -> Vec<PiiSpan> {
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.kind));
    let mut out: Vec<(PiiSpan, usize)> = Vec::new();
    for s in spans.into_iter().filter(|s| s.start < s.end) {
        match out.last_mut() {
            Some((merged, best_len)) if s.start < merged.end => {
                if s.end - s.start > *best_len {
                    *best_len = s.end - s.start;
                    merged.kind = s.kind;
                }
                merged.end = merged.end.max(s.end);
            }
            _ => out.push((s, s.end - s.start)),
        }
    }
    out.into_iter().map(|(s, _)| s).collect()
}

/// `text` with each span replaced by its kind's placeholder. Spans are [`resolve`]d first;
/// spans outside `text` or not on character boundaries are ignored.
pub fn mask(text: &str, spans: &[PiiSpan]) -> String {
    let valid: Vec<PiiSpan> = spans
        .iter()
        .copied()
        .filter(|s| {
            s.end <= text.len() && text.is_char_boundary(s.start) && text.is_char_boundary(s.end)
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for s in resolve(valid) {
        out.push_str(text.get(cursor..s.start).unwrap_or(""));
        out.push_str(s.kind.placeholder());
        cursor = s.end;
    }
    out.push_str(text.get(cursor..).unwrap_or(""));
    out
}

/// Whether the character before byte `pos` is a letter or digit (so a match there would be
/// inside a longer token).
fn alnum_before(text: &str, pos: usize) -> bool {
    text.get(..pos)
        .and_then(|s| s.chars().next_back())
        .is_some_and(char::is_alphanumeric)
}

/// Whether the character at byte `pos` is a letter or digit.
fn alnum_at(text: &str, pos: usize) -> bool {
    text.get(pos..)
        .and_then(|s| s.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// The lower-cased text of up to `chars` characters before byte `pos`.
fn context_before(text: &str, pos: usize, chars: usize) -> String {
    let before = text.get(..pos).unwrap_or("");
    let start = before
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    before.get(start..).unwrap_or("").to_lowercase()
}
