//! E-mail addresses and the names of people the company knows.

use super::{PiiKind, PiiSpan};
use crate::stopwords::is_stopword;
use crate::text::{Word, words};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

/// E-mail addresses: a local part, `@`, and a domain with at least one dot and an
/// alphabetic top-level label of two or more letters.
pub(super) fn emails(text: &str) -> Vec<PiiSpan> {
    let mut out: Vec<PiiSpan> = Vec::new();
    for (at, _) in text.match_indices('@') {
        let before = text.get(..at).unwrap_or("");
        let after = text.get(at + 1..).unwrap_or("");
        let local_len: usize = before
            .chars()
            .rev()
            .take_while(|&c| is_local_char(c))
            .map(char::len_utf8)
            .sum();
        let local = before
            .get(before.len() - local_len..)
            .unwrap_or("")
            .trim_start_matches(['.', '\'', '-']);
        let domain_len: usize = after
            .chars()
            .take_while(|&c| is_domain_char(c))
            .map(char::len_utf8)
            .sum();
        let domain = after
            .get(..domain_len)
            .unwrap_or("")
            .trim_end_matches(['.', '-']);
        let tld = domain.rsplit('.').next().unwrap_or("");
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-'));
        if local.is_empty()
            || !domain.contains('.')
            || !labels_ok
            || tld.chars().count() < 2
            || !tld.chars().all(char::is_alphabetic)
        {
            continue;
        }
        let start = at - local.len();
        let end = at + 1 + domain.len();
        if out.last().is_none_or(|l| l.end <= start) {
            out.push(PiiSpan {
                kind: PiiKind::Email,
                start,
                end,
            });
        }
    }
    out
}

/// The names of people a company knows, prepared once so that a text is scanned in one pass
/// however many names there are: full names by their first word, and the surnames of names of
/// two or more words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct KnownNames {
    names: Vec<String>,
    /// Lowercased word sequences of full names, by their first word.
    by_first: HashMap<String, Vec<Vec<String>>>,
    /// Lowercased surnames, with whether they must be capitalised to count (a surname that is
    /// also a common word, "Will", "May": "I will call" must not mask "will").
    surnames: HashMap<String, bool>,
}

impl KnownNames {
    pub fn new(names: Vec<String>) -> Self {
        let mut by_first: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let mut surnames = HashMap::new();
        for name in &names {
            let parts: Vec<String> = words(name).iter().map(|w| w.text.to_lowercase()).collect();
            let Some(first) = parts.first().cloned() else {
                continue;
            };
            if parts.len() >= 2
                && let Some(surname) = parts.last().filter(|s| s.chars().count() >= 2)
            {
                surnames.insert(surname.clone(), is_stopword(surname));
            }
            let entry = by_first.entry(first).or_default();
            if !entry.contains(&parts) {
                entry.push(parts);
            }
        }
        Self {
            names,
            by_first,
            surnames,
        }
    }

    /// The names as given.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl From<Vec<String>> for KnownNames {
    fn from(names: Vec<String>) -> Self {
        Self::new(names)
    }
}

impl From<KnownNames> for Vec<String> {
    fn from(k: KnownNames) -> Self {
        k.names
    }
}

/// Known people's full names and surnames, case-insensitively on word boundaries.
pub(super) fn names(text: &str, known: &KnownNames) -> Vec<PiiSpan> {
    if known.by_first.is_empty() {
        return Vec::new();
    }
    // A possessive "Doe's" is the name "Doe" followed by "'s": match and mask only the name.
    let text_words: Vec<Word<'_>> = words(text)
        .into_iter()
        .map(|w| {
            match w
                .text
                .strip_suffix("'s")
                .or_else(|| w.text.strip_suffix("’s"))
            {
                Some(base) if !base.is_empty() => Word {
                    text: base,
                    start: w.start,
                    end: w.start + base.len(),
                },
                _ => w,
            }
        })
        .collect();
    let lower: Vec<String> = text_words.iter().map(|w| w.text.to_lowercase()).collect();
    let mut out = Vec::new();
    for (i, word) in lower.iter().enumerate() {
        for parts in known.by_first.get(word).into_iter().flatten() {
            if let Some(span) = sequence_at(text, &text_words, &lower, parts, i) {
                out.push(span);
            }
        }
        if let Some(&needs_capital) = known.surnames.get(word)
            && (!needs_capital || text_words[i].text.starts_with(char::is_uppercase))
        {
            out.push(PiiSpan {
                kind: PiiKind::Name,
                start: text_words[i].start,
                end: text_words[i].end,
            });
        }
    }
    out
}

/// The name `parts` starting at word `i`, when its words follow each other separated only by
/// whitespace.
fn sequence_at(
    text: &str,
    tw: &[Word<'_>],
    lower: &[String],
    parts: &[String],
    i: usize,
) -> Option<PiiSpan> {
    let last = i + parts.len().checked_sub(1)?;
    if last >= tw.len() {
        return None;
    }
    let matches = parts.iter().enumerate().all(|(k, p)| {
        lower[i + k] == *p
            && (k == 0
                || text
                    .get(tw[i + k - 1].end..tw[i + k].start)
                    .is_some_and(|g| g.chars().all(char::is_whitespace)))
    });
    matches.then(|| PiiSpan {
        kind: PiiKind::Name,
        start: tw[i].start,
        end: tw[last].end,
    })
}
