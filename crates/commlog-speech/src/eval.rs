//! Word error rate, for measuring engines against reference transcripts.
//!
//! Both sides are normalised first so that only recognition errors count: lower case, no
//! punctuation, hyphenated words split, common abbreviations and small numbers spelled out.

/// Normalises a transcript into comparable words.
pub fn normalize(text: &str) -> Vec<String> {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '-' | '–' | '—' | '/' => ' ',
            c if c.is_alphanumeric() || c.is_whitespace() => c,
            _ => '\u{0}',
        })
        .filter(|c| *c != '\u{0}')
        .flat_map(char::to_lowercase)
        .collect();
    cleaned
        .split_whitespace()
        .flat_map(|w| {
            spell_out(w)
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Spells abbreviations and numbers below a million the way reference transcripts write them.
fn spell_out(word: &str) -> String {
    match word {
        "mr" => return "mister".into(),
        "mrs" => return "missus".into(),
        "dr" => return "doctor".into(),
        "ok" => return "okay".into(),
        _ => {}
    }
    match word.parse::<u32>() {
        Ok(n) if n < 1_000_000 => number_words(n),
        _ => word.to_owned(),
    }
}

fn number_words(n: u32) -> String {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let word = |i: u32, table: &[&'static str]| table.get(i as usize).copied().unwrap_or_default();
    match n {
        0..=19 => word(n, &ONES).to_owned(),
        20..=99 if n.is_multiple_of(10) => word(n / 10, &TENS).to_owned(),
        20..=99 => format!("{} {}", word(n / 10, &TENS), word(n % 10, &ONES)),
        100..=999 if n.is_multiple_of(100) => format!("{} hundred", word(n / 100, &ONES)),
        100..=999 => format!("{} hundred {}", word(n / 100, &ONES), number_words(n % 100)),
        _ if n.is_multiple_of(1000) => format!("{} thousand", number_words(n / 1000)),
        _ => format!(
            "{} thousand {}",
            number_words(n / 1000),
            number_words(n % 1000)
        ),
    }
}

/// Word-level edit distance between two word sequences.
pub fn edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut current = vec![i + 1; hypothesis.len() + 1];
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(r != h);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[hypothesis.len()]
}

/// Word error rate of `hypothesis` against `reference` after normalisation (0.0 = perfect).
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = normalize(reference);
    let hypothesis = normalize(hypothesis);
    edit_distance(&reference, &hypothesis) as f64 / reference.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_counts() {
        assert_eq!(
            normalize("Mr. Dashwood's ill-disposed, 21 cats!"),
            [
                "mister",
                "dashwoods",
                "ill",
                "disposed",
                "twenty",
                "one",
                "cats"
            ]
        );
        assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
        assert_eq!(word_error_rate("Hello, world.", "hello world"), 0.0);
    }
}
