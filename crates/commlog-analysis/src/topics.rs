//! Key topics of a text, after YAKE (Campos et al., 2020): an unsupervised, single-document
//! keyword extractor that scores words by casing, position, frequency, the variety of their
//! neighbours and spread over sentences, then scores 1–3-word phrases from their words.
//!
//! Scores follow YAKE: lower is more important. They compare phrases within one text, not
//! across texts.

use crate::stopwords::is_stopword;
use crate::text::{Word, sentence_spans, stem, words};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Longest phrase considered, in words.
const MAX_NGRAM: usize = 3;
/// Phrases at least this similar (edit-distance ratio) to a better one are dropped.
const DEDUP_SIMILARITY: f64 = 0.8;

/// A key phrase with its YAKE score (lower is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// The phrase, lower-cased except for acronyms.
    pub phrase: String,
    /// YAKE score, > 0; lower means more important.
    pub score: f64,
}

#[derive(Default)]
struct TermStats {
    tf: f64,
    upper: f64,
    acronym: f64,
    sentences: Vec<usize>,
    left: HashMap<String, usize>,
    right: HashMap<String, usize>,
}

/// The `max` best key phrases of `text`, best first, near-duplicates removed.
pub fn key_topics(text: &str, max: usize) -> Vec<Topic> {
    // Chunks: runs of words inside one sentence not interrupted by punctuation.
    let mut chunks: Vec<(usize, Vec<Word<'_>>)> = Vec::new();
    let spans = sentence_spans(text);
    for (si, span) in spans.iter().enumerate() {
        let Some(sentence) = text.get(span.clone()) else {
            continue;
        };
        let mut current: Vec<Word<'_>> = Vec::new();
        let ws = words(sentence);
        for (i, w) in ws.iter().enumerate() {
            let gap = |a: usize, b: usize| sentence.get(a..b).unwrap_or("");
            let prev_gap = i.checked_sub(1).map_or("", |p| gap(ws[p].end, w.start));
            // Identifiers such as "INV-2041" or "A4-B": a word glued to a number by a
            // hyphen is part of a code, not a topic word.
            let glued_to_number = |other: Option<&Word<'_>>, between: &str| {
                between == "-" && other.is_some_and(|o| o.text.chars().any(|c| c.is_ascii_digit()))
            };
            let next_gap = ws.get(i + 1).map_or("", |n| gap(w.end, n.start));
            let code = glued_to_number(i.checked_sub(1).and_then(|p| ws.get(p)), prev_gap)
                || glued_to_number(ws.get(i + 1), next_gap);
            if !current.is_empty()
                && (code || prev_gap.chars().any(|c| !c.is_whitespace() && c != '-'))
            {
                chunks.push((si, std::mem::take(&mut current)));
            }
            if !code {
                current.push(*w);
            }
        }
        if !current.is_empty() {
            chunks.push((si, current));
        }
    }

    let mut stats: HashMap<String, TermStats> = HashMap::new();
    let mut prev_sentence = usize::MAX;
    for (si, chunk) in &chunks {
        let lower: Vec<String> = chunk.iter().map(|w| w.text.to_lowercase()).collect();
        for (i, w) in chunk.iter().enumerate() {
            let entry = stats.entry(lower[i].clone()).or_default();
            entry.tf += 1.0;
            entry.sentences.push(*si);
            if is_acronym(w.text) {
                entry.acronym += 1.0;
            } else if w.text.chars().next().is_some_and(char::is_uppercase) && prev_sentence == *si
            {
                entry.upper += 1.0;
            }
            prev_sentence = *si;
            // Co-occurrence within a window of two words, as YAKE does.
            for l in &lower[i.saturating_sub(2)..i] {
                *entry.left.entry(l.clone()).or_default() += 1;
            }
            for r in lower.iter().skip(i + 1).take(2) {
                *entry.right.entry(r.clone()).or_default() += 1;
            }
        }
    }
    let scores = term_scores(&stats, spans.len().max(1));

    let mut candidates: HashMap<String, (f64, String)> = HashMap::new();
    for (_, chunk) in &chunks {
        for start in 0..chunk.len() {
            for n in 1..=MAX_NGRAM.min(chunk.len() - start) {
                let gram = &chunk[start..start + n];
                if !is_candidate(gram) {
                    continue;
                }
                let key = gram
                    .iter()
                    .map(|w| w.text.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" ");
                let display = gram
                    .iter()
                    .map(|w| display_word(w.text))
                    .collect::<Vec<_>>()
                    .join(" ");
                candidates.entry(key).or_insert((0.0, display)).0 += 1.0;
            }
        }
    }

    let mut scored: Vec<Topic> = candidates
        .into_iter()
        .map(|(key, (kf, phrase))| {
            let (mut prod, mut sum) = (1.0, 0.0);
            for t in key.split(' ').filter(|t| !is_stopword(t)) {
                let s = scores.get(t).copied().unwrap_or(1.0);
                prod *= s;
                sum += s;
            }
            Topic {
                phrase,
                score: prod / (kf * (1.0 + sum)),
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| a.phrase.cmp(&b.phrase))
    });

    let mut out: Vec<Topic> = Vec::new();
    for t in scored {
        if out.len() >= max {
            break;
        }
        if !out
            .iter()
            .any(|o| similar(&o.phrase, &t.phrase) || overlaps(&o.phrase, &t.phrase))
        {
            out.push(t);
        }
    }
    out
}

/// YAKE's per-word score: relatedness × position / (casing + frequency/relatedness + spread/relatedness).
fn term_scores(stats: &HashMap<String, TermStats>, n_sentences: usize) -> HashMap<String, f64> {
    let content: Vec<f64> = stats
        .iter()
        .filter(|(k, _)| !is_stopword(k))
        .map(|(_, s)| s.tf)
        .collect();
    let n = content.len().max(1) as f64;
    let mean = content.iter().sum::<f64>() / n;
    let std = (content.iter().map(|tf| (tf - mean).powi(2)).sum::<f64>() / n).sqrt();
    let max_tf = stats.values().map(|s| s.tf).fold(1.0, f64::max);
    stats
        .iter()
        .map(|(term, s)| {
            let case = s.upper.max(s.acronym) / (1.0 + s.tf.ln());
            let mut sents = s.sentences.clone();
            sents.sort_unstable();
            let median = sents.get(sents.len() / 2).copied().unwrap_or(0) as f64;
            let position = (3.0 + median).ln().ln();
            let freq = s.tf / (mean + std).max(f64::EPSILON);
            let spread = |m: &HashMap<String, usize>| {
                let total: usize = m.values().sum();
                if total == 0 {
                    0.0
                } else {
                    m.len() as f64 / total as f64
                }
            };
            let relatedness = 1.0 + (spread(&s.left) + spread(&s.right)) * s.tf / max_tf;
            let mut distinct = sents;
            distinct.dedup();
            let different = distinct.len() as f64 / n_sentences as f64;
            let score =
                relatedness * position / (case + freq / relatedness + different / relatedness);
            (term.clone(), score)
        })
        .collect()
}

/// A phrase may not start or end with a stopword nor contain numbers or one- and two-letter
/// words (which are mostly noise in conversations: "ok", "pm", "re").
fn is_candidate(gram: &[Word<'_>]) -> bool {
    let (Some(first), Some(last)) = (gram.first(), gram.last()) else {
        return false;
    };
    if is_stopword(first.text) || is_stopword(last.text) {
        return false;
    }
    gram.iter().all(|w| {
        !w.text.chars().any(|c| c.is_ascii_digit())
            && (w.text.chars().count() > 2 || is_acronym(w.text) || is_stopword(w.text))
    })
}

fn is_acronym(word: &str) -> bool {
    word.chars().count() >= 2
        && word.chars().all(|c| c.is_uppercase() || c.is_ascii_digit())
        && word.chars().any(char::is_uppercase)
}

fn display_word(word: &str) -> String {
    if is_acronym(word) {
        word.to_owned()
    } else {
        word.to_lowercase()
    }
}

/// Same stems word for word, or a Levenshtein ratio of at least [`DEDUP_SIMILARITY`].
fn similar(a: &str, b: &str) -> bool {
    let sa: Vec<String> = a.split(' ').map(stem).collect();
    let sb: Vec<String> = b.split(' ').map(stem).collect();
    if sa == sb {
        return true;
    }
    let (ca, cb): (Vec<char>, Vec<char>) = (
        a.to_lowercase().chars().collect(),
        b.to_lowercase().chars().collect(),
    );
    let longest = ca.len().max(cb.len()).max(1) as f64;
    1.0 - levenshtein(&ca, &cb) as f64 / longest >= DEDUP_SIMILARITY
}

/// Whether one phrase is the other plus or minus whole words ("software license" within
/// "annual software license"): the shorter adds nothing once the longer is listed.
fn overlaps(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.contains(' ') && format!(" {long} ").contains(&format!(" {short} "))
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Counts, over many logs, in how many logs each topic phrase appeared (per log a topic
/// counts once; plural and singular forms are merged under the first spelling seen). Most
/// frequent first, ties alphabetical. Takes the phrases only, as logs keep them.
pub fn company_topics<'a, L>(per_log_phrases: impl IntoIterator<Item = L>) -> Vec<(String, usize)>
where
    L: IntoIterator<Item = &'a str>,
{
    let mut counts: HashMap<String, (String, usize)> = HashMap::new();
    for phrases in per_log_phrases {
        let mut seen: Vec<String> = Vec::new();
        for phrase in phrases {
            let key = phrase.split(' ').map(stem).collect::<Vec<_>>().join(" ");
            if seen.contains(&key) {
                continue;
            }
            counts
                .entry(key.clone())
                .or_insert_with(|| (phrase.to_owned(), 0))
                .1 += 1;
            seen.push(key);
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_values().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}
