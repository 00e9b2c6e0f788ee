//! Payment card numbers: 13–19 digits, Luhn-valid, with a known issuer prefix and a grouping
//! people actually write; and the digit-run scanner shared with the other number kinds.

use super::{PiiKind, PiiSpan, alnum_at, alnum_before};

/// A run of digit groups separated by single spaces or dashes.
pub(super) struct DigitRun {
    pub(super) start: usize,
    /// End byte offset after each group.
    pub(super) group_ends: Vec<usize>,
    /// Digits per group.
    pub(super) group_lens: Vec<usize>,
    pub(super) digits: String,
    pub(super) separator: Option<char>,
}

/// Digit runs in `text` that do not start inside a word; groups are joined by one `sep`.
pub(super) fn digit_runs(text: &str, seps: &[char]) -> Vec<DigitRun> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || alnum_before(text, i) {
            i += 1;
            continue;
        }
        let mut run = DigitRun {
            start: i,
            group_ends: Vec::new(),
            group_lens: Vec::new(),
            digits: String::new(),
            separator: None,
        };
        let mut j = i;
        loop {
            let g = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            run.digits.push_str(&text[g..j]);
            run.group_lens.push(j - g);
            run.group_ends.push(j);
            let sep = bytes.get(j).map(|&b| b as char);
            let continues = sep
                .is_some_and(|c| seps.contains(&c) && run.separator.is_none_or(|s| s == c))
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit);
            if !continues {
                break;
            }
            run.separator = sep;
            j += 1;
        }
        i = j.max(i + 1);
        out.push(run);
    }
    out
}

/// Luhn checksum over ASCII digits.
pub(crate) fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Whether the issuer prefix and length belong to a card network (Visa, Mastercard, Amex,
/// Discover, Diners, JCB, UnionPay, Maestro, Mir).
fn known_issuer(d: &str) -> bool {
    let len = d.len();
    let p = |n: usize| d.get(..n).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let in_range = |n, lo, hi| (lo..=hi).contains(&p(n));
    (d.starts_with('4') && matches!(len, 13 | 16 | 19))
        || ((in_range(2, 51, 55) || in_range(4, 2221, 2720)) && len == 16)
        || ((p(2) == 34 || p(2) == 37) && len == 15)
        || ((p(4) == 6011 || in_range(3, 644, 649) || p(2) == 65) && (16..=19).contains(&len))
        || ((in_range(3, 300, 305) || p(4) == 3095 || matches!(p(2), 36 | 38 | 39))
            && (14..=19).contains(&len))
        || (in_range(4, 3528, 3589) && (16..=19).contains(&len))
        || (p(2) == 62 && (16..=19).contains(&len))
        || ((matches!(p(4), 5018 | 5020 | 5038 | 5893 | 6304 | 6759) || in_range(4, 6761, 6763))
            && (13..=19).contains(&len))
        || (in_range(4, 2200, 2204) && (16..=19).contains(&len))
}

/// Groupings people and card faces use: one block, or blocks of four (the last may be
/// shorter), or Amex/Diners 4-6-5 / 4-6-4.
fn card_grouping(lens: &[usize]) -> bool {
    match lens {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        [init @ .., last] => init.iter().all(|&l| l == 4) && (1..=4).contains(last),
        [] => false,
    }
}

/// Payment card numbers: 13–19 digits, Luhn-valid, known issuer, plausible grouping.
pub(super) fn cards(text: &str) -> Vec<PiiSpan> {
    let mut out = Vec::new();
    for run in digit_runs(text, &[' ', '-']) {
        // A card may be followed by more digits in the same run ("… 1111 12/27"): try the
        // longest group prefix that forms a card.
        for k in (1..=run.group_lens.len()).rev() {
            let n: usize = run.group_lens[..k].iter().sum();
            let end = run.group_ends[k - 1];
            let digits = &run.digits[..n];
            if (13..=19).contains(&n)
                && !alnum_at(text, end)
                && card_grouping(&run.group_lens[..k])
                && known_issuer(digits)
                && luhn_valid(digits)
            {
                out.push(PiiSpan {
                    kind: PiiKind::Card,
                    start: run.start,
                    end,
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_issuer_and_grouping() {
        assert!(luhn_valid("4111111111111111") && !luhn_valid("4111111111111112"));
        assert!(known_issuer("378282246310005") && !known_issuer("1234567890123452"));
        assert!(
            card_grouping(&[4, 4, 4, 4]) && card_grouping(&[4, 6, 5]) && !card_grouping(&[3, 5, 8])
        );
        let found = cards("a 4111-1111-1111-1111 b 4111 1111-1111 1111");
        assert_eq!(found.len(), 1, "mixed separators are not one number");
    }
}
