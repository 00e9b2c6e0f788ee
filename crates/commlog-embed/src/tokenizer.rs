//! The BERT "uncased" tokenizer: text cleaning, lowercasing with accent
//! stripping, splitting on whitespace, punctuation and CJK ideographs, then
//! greedy longest-match WordPiece against `vocab.txt`.
//!
//! It reproduces the `BertNormalizer` + `BertPreTokenizer` + `WordPiece`
//! pipeline of the model's `tokenizer.json`, so the ids match what the model
//! was trained with; the tests compare them with ids produced by the reference
//! implementation.

use std::collections::HashMap;
use std::path::Path;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

use crate::EmbedError;

/// Marker the vocabulary uses for a piece that continues a word.
const CONTINUATION: &str = "##";
/// Words longer than this (in chars) become `[UNK]` instead of being split:
/// the reference does the same, and it bounds the quadratic WordPiece search.
const MAX_WORD_CHARS: usize = 100;

/// WordPiece tokenizer built from a BERT `vocab.txt` (one token per line, the
/// line number is the id).
#[derive(Debug, Clone)]
pub struct Tokenizer {
    vocab: HashMap<String, u32>,
    cls: u32,
    sep: u32,
    unk: u32,
}

impl Tokenizer {
    /// Reads `vocab.txt` from `path`.
    pub fn from_file(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
        Self::from_vocab(&text)
    }

    /// Builds the tokenizer from the contents of a `vocab.txt`.
    pub fn from_vocab(text: &str) -> Result<Self, EmbedError> {
        let mut vocab = HashMap::new();
        for (id, line) in text.lines().enumerate() {
            let id =
                u32::try_from(id).map_err(|_| EmbedError::Model("vocabulary too large".into()))?;
            // Keep the first id if a token repeats, as the reference does.
            vocab
                .entry(line.trim_end_matches('\r').to_owned())
                .or_insert(id);
        }
        let special = |name: &str| {
            vocab
                .get(name)
                .copied()
                .ok_or_else(|| EmbedError::Model(format!("vocabulary lacks {name}")))
        };
        Ok(Self {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            vocab,
        })
    }

    /// Token ids for `text`: `[CLS] pieces… [SEP]`, keeping at most
    /// `max_len` ids in total (the pieces are truncated at the end, the two
    /// markers are always present). `max_len` below 2 is treated as 2.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let budget = max_len.max(2) - 2;
        let mut ids = Vec::with_capacity(budget.min(64) + 2);
        ids.push(self.cls);
        // Normalising one whitespace-separated chunk at a time gives the same
        // result as normalising the whole text (every step is per character
        // and whitespace never composes), and lets a huge input stop costing
        // anything once the budget is full.
        'chunks: for chunk in text.split(is_whitespace).filter(|c| !c.is_empty()) {
            let normalized = normalize(chunk);
            for word in pre_tokenize(&normalized) {
                if ids.len() > budget {
                    break 'chunks;
                }
                self.word_piece(word, &mut ids);
            }
        }
        ids.truncate(budget + 1);
        ids.push(self.sep);
        ids
    }

    /// Appends the WordPiece ids of one word: longest vocabulary prefix first,
    /// then longest `##` continuation, and so on; a word that cannot be fully
    /// covered becomes a single `[UNK]`.
    fn word_piece(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let start_len = out.len();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + CONTINUATION.len());
        while start < word.len() {
            // Char boundaries after `start`, longest first.
            let ends = word[start..]
                .char_indices()
                .map(|(i, c)| start + i + c.len_utf8())
                .rev();
            let mut found = None;
            for end in ends {
                candidate.clear();
                if start > 0 {
                    candidate.push_str(CONTINUATION);
                }
                candidate.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(candidate.as_str()) {
                    found = Some((id, end));
                    break;
                }
            }
            match found {
                Some((id, end)) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(start_len);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// BERT normalisation: drop NUL, U+FFFD and control/format characters, turn
/// any whitespace into a space, surround CJK ideographs with spaces, strip
/// accents (NFD, then drop non-spacing marks) and lowercase.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned
        .nfd()
        .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits normalised text on whitespace, and makes every punctuation
/// character a word of its own.
fn pre_tokenize(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for chunk in text.split(char::is_whitespace) {
        let mut start = 0;
        for (i, c) in chunk.char_indices() {
            if is_punctuation(c) {
                if start < i {
                    words.push(&chunk[start..i]);
                }
                let end = i + c.len_utf8();
                words.push(&chunk[i..end]);
                start = end;
            }
        }
        if start < chunk.len() {
            words.push(&chunk[start..]);
        }
    }
    words
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control in BERT's sense: Unicode "Other" categories, except the three
/// whitespace controls, which `is_whitespace` handles.
fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
    )
}

/// ASCII symbols such as `$`, `+`, `^` count as punctuation for BERT even
/// though Unicode files them as symbols.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            GeneralCategory::ConnectorPunctuation
                | GeneralCategory::DashPunctuation
                | GeneralCategory::OpenPunctuation
                | GeneralCategory::ClosePunctuation
                | GeneralCategory::InitialPunctuation
                | GeneralCategory::FinalPunctuation
                | GeneralCategory::OtherPunctuation
        )
}

/// The CJK Unified Ideograph blocks BERT splits per character (Hangul and
/// kana are not included, as in the original).
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Tokenizer {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n,\n!\nun\n##aff\n##able\ncafe\n你";
        Tokenizer::from_vocab(vocab).expect("toy vocabulary is valid")
    }

    #[test]
    fn normalizes_case_accents_and_controls() {
        assert_eq!(normalize("HÉllo\tWörld\u{7}\u{200b}"), "hello world");
        assert_eq!(normalize("a你b"), "a 你 b");
    }

    #[test]
    fn splits_punctuation_into_words() {
        assert_eq!(
            pre_tokenize("hi, you!! $5"),
            ["hi", ",", "you", "!", "!", "$", "5"]
        );
    }

    #[test]
    fn word_piece_prefers_longest_match_and_falls_back_to_unk() {
        let t = toy();
        assert_eq!(t.encode("unaffable", 16), [2, 8, 9, 10, 3]);
        assert_eq!(t.encode("Hello, CAFÉ! unknown", 16), [2, 4, 6, 11, 7, 1, 3]);
        assert_eq!(t.encode("你好", 16), [2, 12, 1, 3]);
    }

    #[test]
    fn truncates_but_keeps_markers() {
        let t = toy();
        assert_eq!(t.encode("hello world hello world", 4), [2, 4, 5, 3]);
        assert_eq!(t.encode("hello", 0), [2, 3]);
        assert_eq!(t.encode("", 256), [2, 3]);
        let long = "x".repeat(10_000);
        assert_eq!(t.encode(&long, 256), [2, 1, 3]);
    }
}
