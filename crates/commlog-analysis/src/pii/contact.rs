//! E-mail addresses and the names of people the company knows.

use super::{PiiKind, PiiSpan};
use crate::stopwords::is_stopword;
use crate::text::{Word, words};

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

/// Known people's full names and surnames, case-insensitively on word boundaries.
///
/// A surname that is also a common word ("Will", "May") must be capitalised to count, so
/// that "I will call" does not mask "will".
pub(super) fn names(text: &str, known_names: &[String]) -> Vec<PiiSpan> {
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
    for name in known_names {
        let parts: Vec<String> = words(name).iter().map(|w| w.text.to_lowercase()).collect();
        if parts.is_empty() {
            continue;
        }
        out.extend(find_sequence(text, &text_words, &lower, &parts));
        if parts.len() >= 2
            && let Some(surname) = parts.last().filter(|s| s.chars().count() >= 2)
        {
            let needs_capital = is_stopword(surname);
            for (i, w) in lower.iter().enumerate() {
                if w == surname
                    && (!needs_capital || text_words[i].text.starts_with(char::is_uppercase))
                {
                    out.push(PiiSpan {
                        kind: PiiKind::Name,
                        start: text_words[i].start,
                        end: text_words[i].end,
                    });
                }
            }
        }
    }
    out
}

/// Where `parts` occur as consecutive words separated only by whitespace.
fn find_sequence(text: &str, tw: &[Word<'_>], lower: &[String], parts: &[String]) -> Vec<PiiSpan> {
    let mut out = Vec::new();
    if parts.len() > tw.len() {
        return out;
    }
    for i in 0..=tw.len() - parts.len() {
        let matches = parts.iter().enumerate().all(|(k, p)| {
            lower[i + k] == *p
                && (k == 0
                    || text
                        .get(tw[i + k - 1].end..tw[i + k].start)
                        .is_some_and(|g| g.chars().all(char::is_whitespace)))
        });
        if matches {
            out.push(PiiSpan {
                kind: PiiKind::Name,
                start: tw[i].start,
                end: tw[i + parts.len() - 1].end,
            });
        }
    }
    out
}
