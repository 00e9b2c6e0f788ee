//! A faithful port of VADER (Hutto & Gilbert, ICWSM 2014), `vaderSentiment` 3.3.2: the
//! same lexicon (vendored beside this file with its MIT license), the same rules for
//! negation, boosters and dampeners, "but", "least", ALL-CAPS and punctuation emphasis,
//! special-case idioms and emoji descriptions, and the same compound normalisation.
//!
//! Where the original has quirks they are kept, because the published accuracy figures were
//! measured with them: e.g. the "but" rule rescales the *first* word with an equal valence
//! (Python's `list.index`), and a capitalised word outside the lexicon still gets the caps
//! adjustment when it is checked.

use super::SentimentAnalyzer;
use super::vader_rules::{
    BOOSTER_DICT, C_INCR, N_SCALAR, NEGATE, SPECIAL_CASES, booster, but_check, is_upper,
    score_valence,
};
use std::collections::HashMap;

const LEXICON: &str = include_str!("vader_lexicon.txt");
const EMOJI_LEXICON: &str = include_str!("emoji_utf8_lexicon.txt");

/// VADER's four scores for one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    /// Share of negative valence, 0..=1.
    pub neg: f64,
    /// Share of neutral words, 0..=1.
    pub neu: f64,
    /// Share of positive valence, 0..=1.
    pub pos: f64,
    /// Normalised sum of valences, -1..=1: the single score to use.
    pub compound: f64,
}

/// The VADER analyser; build once and share (it holds the ~7,500-word lexicon).
#[derive(Debug, Clone)]
pub struct Vader {
    lexicon: HashMap<String, f64>,
    emojis: HashMap<char, String>,
}

impl Default for Vader {
    fn default() -> Self {
        Self::new()
    }
}

impl Vader {
    /// Loads the vendored lexicons.
    pub fn new() -> Self {
        let mut lexicon = HashMap::new();
        for line in LEXICON.lines() {
            let mut fields = line.trim().split('\t');
            if let (Some(word), Some(Ok(measure))) =
                (fields.next(), fields.next().map(str::parse::<f64>))
            {
                lexicon.insert(word.to_owned(), measure);
            }
        }
        // The original looks emojis up one character at a time, so multi-character entries
        // (sequences with joiners or variation selectors) can never match there either.
        let mut emojis = HashMap::new();
        for line in EMOJI_LEXICON.lines() {
            let mut fields = line.trim().split('\t');
            if let (Some(emoji), Some(description)) = (fields.next(), fields.next()) {
                let mut chars = emoji.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    emojis.insert(c, description.to_owned());
                }
            }
        }
        Self { lexicon, emojis }
    }

    /// VADER's scores for `text`, best used on a single sentence.
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        let text = self.describe_emojis(text);
        let text = text.trim();
        let words: Vec<&str> = text.split_whitespace().map(strip_punc_if_word).collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let upper_count = words.iter().filter(|w| is_upper(w)).count();
        let is_cap_diff = upper_count > 0 && upper_count < words.len();

        let mut sentiments = Vec::with_capacity(words.len());
        for i in 0..words.len() {
            if BOOSTER_DICT.iter().any(|(b, _)| *b == lower[i])
                || (lower[i] == "kind" && lower.get(i + 1).is_some_and(|n| n == "of"))
            {
                sentiments.push(0.0);
                continue;
            }
            let valence = self.sentiment_valence(&words, &lower, i, is_cap_diff);
            sentiments.push(valence);
        }
        but_check(&lower, &mut sentiments);
        score_valence(&sentiments, text)
    }

    fn in_lexicon(&self, word: &str) -> bool {
        self.lexicon.contains_key(word)
    }

    fn sentiment_valence(&self, words: &[&str], lower: &[String], i: usize, cap_diff: bool) -> f64 {
        let Some(&base) = self.lexicon.get(&lower[i]) else {
            return 0.0;
        };
        let mut valence = base;
        let last = words.len() - 1;
        if lower[i] == "no" && i != last && self.in_lexicon(&lower[i + 1]) {
            valence = 0.0;
        }
        if (i > 0 && lower[i - 1] == "no")
            || (i > 1 && lower[i - 2] == "no")
            || (i > 2 && lower[i - 3] == "no" && (lower[i - 1] == "or" || lower[i - 1] == "nor"))
        {
            valence = base * N_SCALAR;
        }
        if is_upper(words[i]) && cap_diff {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start_i in 0..3 {
            if i > start_i && !self.in_lexicon(&lower[i - (start_i + 1)]) {
                let mut s = scalar_inc_dec(
                    words[i - (start_i + 1)],
                    &lower[i - (start_i + 1)],
                    valence,
                    cap_diff,
                );
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, lower, start_i, i);
                if start_i == 2 {
                    valence = special_idioms_check(valence, lower, i);
                }
            }
        }
        self.least_check(valence, lower, i)
    }

    fn least_check(&self, valence: f64, lower: &[String], i: usize) -> f64 {
        if i > 1 && !self.in_lexicon(&lower[i - 1]) && lower[i - 1] == "least" {
            if lower[i - 2] != "at" && lower[i - 2] != "very" {
                return valence * N_SCALAR;
            }
        } else if i > 0 && !self.in_lexicon(&lower[i - 1]) && lower[i - 1] == "least" {
            return valence * N_SCALAR;
        }
        valence
    }

    /// Replaces each emoji by its description, as the original does before tokenising.
    fn describe_emojis(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut prev_space = true;
        for c in text.chars() {
            if let Some(description) = self.emojis.get(&c) {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        out
    }
}

impl SentimentAnalyzer for Vader {
    fn engine(&self) -> &str {
        "vader"
    }

    fn version(&self) -> &str {
        "3.3.2"
    }

    fn score(&self, sentences: &[&str]) -> Vec<f64> {
        sentences
            .iter()
            .map(|s| self.polarity_scores(s).compound)
            .collect()
    }
}

/// Strips leading and trailing ASCII punctuation unless that leaves two characters or fewer
/// (then the token was probably an emoticon such as `:)`).
fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

fn scalar_inc_dec(word: &str, lower: &str, valence: f64, cap_diff: bool) -> f64 {
    let Some(mut scalar) = booster(lower) else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar = -scalar;
    }
    if is_upper(word) && cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

fn negation_check(valence: f64, w: &[String], start_i: usize, i: usize) -> f64 {
    match start_i {
        0 if negated(&w[i - 1]) => valence * N_SCALAR,
        1 if w[i - 2] == "never" && (w[i - 1] == "so" || w[i - 1] == "this") => valence * 1.25,
        1 if w[i - 2] == "without" && w[i - 1] == "doubt" => valence,
        1 if negated(&w[i - 2]) => valence * N_SCALAR,
        // Python precedence: `a and b or c`.
        2 if (w[i - 3] == "never" && (w[i - 2] == "so" || w[i - 2] == "this"))
            || (w[i - 1] == "so" || w[i - 1] == "this") =>
        {
            valence * 1.25
        }
        2 if w[i - 3] == "without" && (w[i - 2] == "doubt" || w[i - 1] == "doubt") => valence,
        2 if negated(&w[i - 3]) => valence * N_SCALAR,
        _ => valence,
    }
}

fn special_idioms_check(mut valence: f64, w: &[String], i: usize) -> f64 {
    let onezero = format!("{} {}", w[i - 1], w[i]);
    let twoonezero = format!("{} {} {}", w[i - 2], w[i - 1], w[i]);
    let twoone = format!("{} {}", w[i - 2], w[i - 1]);
    let threetwoone = format!("{} {} {}", w[i - 3], w[i - 2], w[i - 1]);
    let threetwo = format!("{} {}", w[i - 3], w[i - 2]);
    let special = |seq: &str| {
        SPECIAL_CASES
            .iter()
            .find(|(k, _)| *k == seq)
            .map(|&(_, v)| v)
    };
    for seq in [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo] {
        if let Some(v) = special(seq) {
            valence = v;
            break;
        }
    }
    if w.len() - 1 > i
        && let Some(v) = special(&format!("{} {}", w[i], w[i + 1]))
    {
        valence = v;
    }
    if w.len() - 1 > i + 1
        && let Some(v) = special(&format!("{} {} {}", w[i], w[i + 1], w[i + 2]))
    {
        valence = v;
    }
    for n_gram in [&threetwoone, &threetwo, &twoone] {
        if let Some(b) = booster(n_gram) {
            valence += b;
        }
    }
    valence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_original_demo_scores() {
        let v = Vader::new();
        // Values printed by vaderSentiment 3.3.2's own demo.
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("At least it isn't a horrible book.", 0.431),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875),
            ("Not bad at all", 0.431),
        ];
        for (text, expected) in cases {
            let got = v.polarity_scores(text).compound;
            assert!((got - expected).abs() < 1e-4, "{text}: {got} != {expected}");
        }
    }
}
