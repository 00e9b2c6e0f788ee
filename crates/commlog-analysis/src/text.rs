//! Text plumbing shared by the analysers: sentence splitting, transcript parsing, word
//! tokens with byte offsets, light stemming, and the word-boundary phrase matcher used by
//! keyword rules. Quoted replies and signatures are removed in [`crate::cleanup`].

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One turn of a conversation: a whole message, or what one speaker said on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utterance {
    /// Who spoke, when known (transcripts); `None` for messages.
    pub speaker: Option<String>,
    /// What was said or written.
    pub text: String,
}

impl Utterance {
    /// An utterance by a named speaker.
    pub fn spoken(speaker: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            speaker: Some(speaker.into()),
            text: text.into(),
        }
    }

    /// A written message body with quoted replies and the signature removed, so that text the
    /// sender did not write this time does not count towards the message's tone.
    pub fn message(body: &str) -> Self {
        Self {
            speaker: None,
            text: crate::cleanup::strip_quoted_and_signature(body),
        }
    }
}

/// Abbreviations whose trailing period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "corp", "no", "approx", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "ref",
];

/// Byte ranges of the sentences of `text`, trimmed, in order.
///
/// A sentence ends at `.`, `!`, `?` or `…` (runs of them and closing quotes or brackets stay
/// with the sentence) when whitespace follows and the period does not close a known
/// abbreviation or a single initial; a blank line always ends one. A single line break does
/// not, because mail bodies are hard-wrapped mid-sentence.
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '\n' {
            // A blank line (only whitespace between two line breaks) is a paragraph break.
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_whitespace() && chars[j].1 != '\n' {
                j += 1;
            }
            if j < chars.len() && chars[j].1 == '\n' {
                push_trimmed(text, start..pos, &mut spans);
                start = chars[j].0;
                i = j;
                continue;
            }
        } else if matches!(c, '.' | '!' | '?' | '…') {
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j].1, '.' | '!' | '?' | '…') {
                j += 1;
            }
            while j < chars.len() && matches!(chars[j].1, '"' | '\'' | ')' | ']' | '”' | '’') {
                j += 1;
            }
            let at_end = j >= chars.len();
            let space_follows = !at_end && chars[j].1.is_whitespace();
            if (at_end || space_follows) && !(c == '.' && j == i + 1 && is_abbreviation(text, pos))
            {
                let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
                push_trimmed(text, start..end, &mut spans);
                start = end;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut spans);
    spans
}

/// The sentences of `text` (see [`sentence_spans`]).
pub fn sentences(text: &str) -> Vec<&str> {
    sentence_spans(text)
        .into_iter()
        .filter_map(|r| text.get(r))
        .collect()
}

/// Whether the period at `dot` closes an abbreviation or a one-letter initial.
fn is_abbreviation(text: &str, dot: usize) -> bool {
    let before = text.get(..dot).unwrap_or("");
    let word_start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map_or(0, |p| {
            p + before[p..].chars().next().map_or(1, char::len_utf8)
        });
    let word = before.get(word_start..).unwrap_or("");
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let Some(slice) = text.get(range.clone()) else {
        return;
    };
    let lead = slice.len() - slice.trim_start().len();
    let trimmed = slice.trim();
    if !trimmed.is_empty() {
        let s = range.start + lead;
        out.push(s..s + trimmed.len());
    }
}

/// Parses a transcript of `Speaker: text` lines into utterances. Lines without a speaker
/// label continue the previous utterance; a transcript without any labels becomes one
/// utterance without a speaker.
pub fn parse_transcript(transcript: &str) -> Vec<Utterance> {
    let mut out: Vec<Utterance> = Vec::new();
    for line in transcript.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match speaker_label(line) {
            Some((speaker, rest)) => out.push(Utterance::spoken(speaker, rest.trim())),
            None => match out.last_mut() {
                Some(last) => {
                    if !last.text.is_empty() {
                        last.text.push(' ');
                    }
                    last.text.push_str(line);
                }
                None => out.push(Utterance {
                    speaker: None,
                    text: line.to_owned(),
                }),
            },
        }
    }
    out
}

/// Splits `Name: text` when the label looks like a speaker (at most four words, starting with
/// a letter, no digits), so that `Note: 10:30` style lines are not mistaken for one.
fn speaker_label(line: &str) -> Option<(&str, &str)> {
    let (label, rest) = line.split_once(':')?;
    let label = label.trim();
    let ok = label.chars().next().is_some_and(char::is_alphabetic)
        && label.chars().count() <= 40
        && label.split_whitespace().count() <= 4
        && label
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-' | '_'))
        && rest.starts_with(char::is_whitespace);
    ok.then_some((label, rest))
}

/// A word of a text with its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word as written.
    pub text: &'a str,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// The words of `text`: runs of letters and digits, keeping an apostrophe between two letters
/// (`don't`, `O'Brien`) inside the word.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((pos, c)) = iter.next() {
        let inner_apostrophe = matches!(c, '\'' | '’')
            && start.is_some()
            && iter.peek().is_some_and(|&(_, n)| n.is_alphabetic());
        if c.is_alphanumeric() || inner_apostrophe {
            start.get_or_insert(pos);
        } else if let Some(s) = start.take() {
            out.push(Word {
                text: &text[s..pos],
                start: s,
                end: pos,
            });
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: &text[s..],
            start: s,
            end: text.len(),
        });
    }
    out
}

/// Lower-cases `word` and strips common English inflections (plural `-s`/`-es`/`-ies`,
/// `-ing`, `-ed`, a final `-e`, a doubled final consonant) so that "refunds", "refunded"
/// and "refunding" all match "refund". Deliberately light: it only has to make a word and its
/// inflections agree, not produce dictionary stems.
pub fn stem(word: &str) -> String {
    let mut w = word.to_lowercase().replace('’', "'");
    if let Some(base) = w.strip_suffix("'s") {
        w = base.to_owned();
    }
    let len = w.chars().count();
    if len <= 3 || !w.is_ascii() {
        return w;
    }
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        return format!("{base}y");
    }
    let mut stemmed = if let Some(base) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        base.to_owned()
    } else if let Some(base) = w.strip_suffix("ed").filter(|b| b.len() >= 3) {
        base.to_owned()
    } else if ["sses", "xes", "zes", "ches", "shes"]
        .iter()
        .any(|s| w.ends_with(s))
    {
        w[..w.len() - 2].to_owned()
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_owned()
    } else {
        w
    };
    if stemmed.len() > 3 && stemmed.ends_with('e') {
        stemmed.pop();
    }
    let bytes = stemmed.as_bytes();
    if let [.., a, b] = bytes
        && a == b
        && b.is_ascii_alphabetic()
        && !matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b's')
        && stemmed.len() > 3
    {
        stemmed.pop();
    }
    stemmed
}

/// Stemmed words of a text, each with its byte range, for phrase matching.
pub fn stemmed_words(text: &str) -> Vec<(String, Range<usize>)> {
    words(text)
        .into_iter()
        .map(|w| (stem(w.text), w.start..w.end))
        .collect()
}

/// Byte ranges where the stemmed phrase `phrase` (as from [`stem_phrase`]) occurs in
/// `tokens` as whole, consecutive words.
pub fn find_phrase(tokens: &[(String, Range<usize>)], phrase: &[String]) -> Vec<Range<usize>> {
    if phrase.is_empty() || phrase.len() > tokens.len() {
        return Vec::new();
    }
    tokens
        .windows(phrase.len())
        .filter(|win| win.iter().zip(phrase).all(|((t, _), p)| t == p))
        .filter_map(|win| Some(win.first()?.1.start..win.last()?.1.end))
        .collect()
}

/// The stemmed words of a keyword or phrase.
pub fn stem_phrase(phrase: &str) -> Vec<String> {
    words(phrase).into_iter().map(|w| stem(w.text)).collect()
}
