//! Telephone numbers: candidates are cut from the text by shape, look-alikes (dates, IP
//! addresses, versions, prices, labelled references) are set aside, and what remains must be
//! a valid number for its region per libphonenumber's metadata.

use super::numbers::labelled_as_reference;
use super::{PiiKind, PiiSpan, alnum_at, alnum_before};
use phonenumber::country;

/// Fewer digits than this are never a full number (local extensions are not personal data
/// on their own); more than libphonenumber's E.164 maximum cannot be one.
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// Valid phone numbers in `text`; national formats are read for `default_region`
/// (ISO 3166 alpha-2), international ones (`+…`, `00…`) for any country.
pub(super) fn phones(text: &str, default_region: &str) -> Vec<PiiSpan> {
    let region = default_region
        .trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .ok();
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let Some(c) = text.get(i..).and_then(|s| s.chars().next()) else {
            break;
        };
        let starts = (c == '+' || c == '(' || c.is_ascii_digit()) && !alnum_before(text, i);
        if !starts {
            i += c.len_utf8();
            continue;
        }
        let end = candidate_end(text, i);
        if let Some(candidate) = text.get(i..end)
            && plausible(text, i, end, candidate)
            && valid(candidate, region)
        {
            out.push(PiiSpan {
                kind: PiiKind::Phone,
                start: i,
                end,
            });
            i = end;
        } else {
            // Skip the rest of this digit block so that its tail is not tried as a number.
            i += c.len_utf8();
            while let Some(n) = text.get(i..).and_then(|s| s.chars().next()) {
                if !n.is_ascii_digit() {
                    break;
                }
                i += 1;
            }
        }
    }
    out
}

/// The end of a run of digits and phone punctuation starting at `start`, without trailing
/// separators; single spaces only.
fn candidate_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut j = start;
    let mut last_digit_end = start;
    let mut depth = 0usize;
    while j < bytes.len() {
        let b = bytes[j];
        let ok = match b {
            b'0'..=b'9' => true,
            b'+' => j == start,
            b'(' => {
                depth += 1;
                true
            }
            b')' if depth > 0 => {
                depth -= 1;
                true
            }
            b'-' | b'.' | b'/' => true,
            b' ' => bytes
                .get(j + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == b'('),
            _ => false,
        };
        if !ok {
            break;
        }
        j += 1;
        if b.is_ascii_digit() || b == b')' {
            last_digit_end = j;
        }
    }
    last_digit_end
}

/// Shape checks that keep dates, times, IPs, versions, prices and references out.
fn plausible(text: &str, start: usize, end: usize, candidate: &str) -> bool {
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) || alnum_at(text, end) {
        return false;
    }
    // Money ("$ 1500000") and numbers glued to a preceding token ("10:30", "v-2", "a/1").
    let before = text.get(..start).unwrap_or("");
    if before.trim_end().ends_with(['$', '€', '£', '¥', '#'])
        || before.ends_with(['-', '.', '/', ':', '_'])
    {
        return false;
    }
    let after = text.get(end..).unwrap_or("");
    if after.starts_with(['%', '-', '/'])
        || (after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        return false;
    }
    if labelled_as_reference(text, start) {
        return false;
    }
    let groups: Vec<&str> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let seps: Vec<char> = candidate
        .chars()
        .filter(|c| matches!(c, '.' | '/' | '-'))
        .collect();
    // Dates: 2026-03-14, 14.03.2026, 03/14/2026 (three groups, one four-digit year).
    if groups.len() == 3
        && !seps.is_empty()
        && groups.iter().any(|g| g.len() == 4)
        && groups.iter().filter(|g| g.len() <= 2).count() == 2
    {
        return false;
    }
    // Dotted versions and IP addresses: 10.2.15, 192.168.100.200.
    if seps.contains(&'.')
        && groups.len() >= 3
        && groups.iter().all(|g| g.len() <= 3)
        && !candidate.contains(' ')
    {
        return false;
    }
    // A slash joins two numbers ("12/2026", "1/2"), it does not format one.
    !seps.contains(&'/')
}

fn valid(candidate: &str, region: Option<country::Id>) -> bool {
    // "00" is the international call prefix in most of the world; read it as "+".
    let normalised = match candidate.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => candidate.to_owned(),
    };
    let international = normalised.starts_with('+');
    if !international && region.is_none() {
        return false;
    }
    match phonenumber::parse(if international { None } else { region }, &normalised) {
        Ok(number) => phonenumber::is_valid(&number),
        Err(_) => false,
    }
}
