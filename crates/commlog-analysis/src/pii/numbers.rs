//! IBANs and US Social Security numbers, and the labels that mark a number as a reference.

use super::cards::digit_runs;
use super::{PiiKind, PiiSpan, alnum_at, alnum_before, context_before};

/// IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// ISO 13616 check: move the first four characters to the end, letters to 10..35, mod 97 = 1.
pub(crate) fn iban_valid(iban: &str) -> bool {
    let (head, tail) = iban.split_at(4.min(iban.len()));
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    iban.len() >= 15 && rem == 1
}

/// IBANs, compact or in groups of four separated by single spaces, upper case.
pub(super) fn ibans(text: &str) -> Vec<PiiSpan> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..bytes.len().saturating_sub(3) {
        let head = &bytes[i..i + 4];
        if !(head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
            || alnum_before(text, i)
        {
            continue;
        }
        let Some(&(_, len)) = IBAN_LENGTHS
            .iter()
            .find(|(c, _)| c.as_bytes() == &head[..2])
        else {
            continue;
        };
        let mut compact = String::with_capacity(len);
        let mut j = i;
        while compact.len() < len && j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                compact.push(b as char);
                j += 1;
            } else if b == b' '
                && compact.len().is_multiple_of(4)
                && bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                j += 1;
            } else {
                break;
            }
        }
        if compact.len() == len && !alnum_at(text, j) && iban_valid(&compact) {
            out.push(PiiSpan {
                kind: PiiKind::Iban,
                start: i,
                end: j,
            });
        }
    }
    out
}

/// Words that introduce a reference number rather than personal data.
const REFERENCE_LABELS: &[&str] = &[
    "order",
    "invoice",
    "ref",
    "reference",
    "ticket",
    "case",
    "tracking",
    "po",
    "sku",
    "part",
    "serial",
    "isbn",
    "booking",
    "confirmation",
    "transaction",
    "id",
    "version",
    "build",
    "item",
    "model",
    "shipment",
    "parcel",
    "receipt",
    "claim",
    "policy",
];

/// Whether one of the two words before `pos` names a reference number (order id, ticket…),
/// or a `#` directly precedes it.
pub(super) fn labelled_as_reference(text: &str, pos: usize) -> bool {
    let before = context_before(text, pos, 32);
    let tail = before.trim_end_matches([' ', ':', '.', '-', '\t', '(']);
    if tail.ends_with('#') {
        return true;
    }
    tail.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .rev()
        .take(2)
        .any(|w| REFERENCE_LABELS.contains(&w))
}

/// US SSNs written `AAA-GG-SSSS` or `AAA GG SSSS`, or nine digits right after an SSN label.
pub(super) fn ssns(text: &str) -> Vec<PiiSpan> {
    let mut out = Vec::new();
    for run in digit_runs(text, &['-', ' ']) {
        let end = *run.group_ends.last().unwrap_or(&run.start);
        let shaped = run.group_lens == [3, 2, 4] && run.separator.is_some();
        let labelled = run.group_lens == [9] && {
            let before = context_before(text, run.start, 30);
            ["ssn", "social security", "ss#", "ss no"]
                .iter()
                .any(|l| before.contains(l))
        };
        let glued = text.get(end..).is_some_and(|r| {
            r.starts_with(['-', '.', '/']) && r[1..].starts_with(|c: char| c.is_ascii_digit())
        }) || text
            .get(..run.start)
            .is_some_and(|b| b.ends_with(['-', '.', '/', '+']));
        if (shaped || labelled)
            && !alnum_at(text, end)
            && !glued
            && ssn_valid(&run.digits)
            && !labelled_as_reference(text, run.start)
        {
            out.push(PiiSpan {
                kind: PiiKind::NationalId,
                start: run.start,
                end,
            });
        }
    }
    out
}

/// SSA rules: area not 000, 666 or 900–999; group not 00; serial not 0000.
fn ssn_valid(d: &str) -> bool {
    let (Some(area), Some(group), Some(serial)) = (d.get(..3), d.get(3..5), d.get(5..9)) else {
        return false;
    };
    d.len() == 9
        && area != "000"
        && area != "666"
        && !area.starts_with('9')
        && group != "00"
        && serial != "0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_checksums_and_ssn_rules() {
        assert!(iban_valid("DE89370400440532013000") && !iban_valid("DE89370400440532013001"));
        assert!(!iban_valid("DE89") && !iban_valid("DE89-3704"));
        assert!(ssn_valid("123456789") && !ssn_valid("000456789") && !ssn_valid("666456789"));
        assert!(!ssn_valid("900456789") && !ssn_valid("123006789") && !ssn_valid("123450000"));
        assert!(
            labelled_as_reference("Order #", 7) && labelled_as_reference("tracking number: ", 17)
        );
        assert!(!labelled_as_reference("call support at ", 16));
    }
}
