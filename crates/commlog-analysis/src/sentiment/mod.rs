//! The tone of a conversation: a pluggable sentence scorer ([`SentimentAnalyzer`], with
//! [`Vader`] built in) and the aggregation of sentence scores into one result per log, per
//! speaker, and the most negative moment.

mod vader;
mod vader_rules;

pub use vader::{Polarity, Vader};

pub use crate::text::Utterance;

use crate::text::sentences;
use commlog_domain::Sentiment;
use serde::{Deserialize, Serialize};

/// Scores at or above this are positive, at or below its negation negative: VADER's
/// published convention for its compound score.
pub const LABEL_THRESHOLD: f64 = 0.05;

/// A sentence-level sentiment engine. Scores are in `[-1, 1]`, one per sentence, in order.
pub trait SentimentAnalyzer: Send + Sync {
    /// The engine's stable name, stored with each result.
    fn engine(&self) -> &str;
    /// The engine's version (lexicon or model), stored with each result.
    fn version(&self) -> &str;
    /// One score in `[-1, 1]` per sentence.
    fn score(&self, sentences: &[&str]) -> Vec<f64>;
}

/// A sentence with its externally computed score, input to [`aggregate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredSentence<'a> {
    /// Who said it, if known.
    pub speaker: Option<&'a str>,
    /// The sentence.
    pub text: &'a str,
    /// Its score in `[-1, 1]` (clamped if outside).
    pub score: f64,
}

/// A piece of text with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPart {
    /// The sentence.
    pub text: String,
    /// Its score in `[-1, 1]`.
    pub score: f64,
}

/// The tone of one speaker in a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerSentiment {
    /// The speaker's label from the transcript.
    pub speaker: String,
    /// Length-weighted mean score of the speaker's sentences.
    pub score: f64,
    /// The score's label.
    pub label: Sentiment,
    /// How many sentences the speaker said.
    pub sentences: usize,
}

/// The tone of a whole log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentResult {
    /// Engine name, from [`SentimentAnalyzer::engine`].
    pub engine: String,
    /// Engine version, from [`SentimentAnalyzer::version`].
    pub engine_version: String,
    /// Length-weighted mean of the sentence scores, in `[-1, 1]`; 0 without sentences.
    pub score: f64,
    /// The score's label (see [`label`]).
    pub label: Sentiment,
    /// The most negative sentence, when any sentence scored below zero.
    pub most_negative: Option<ScoredPart>,
    /// Per-speaker results in order of first appearance; empty when no speaker is known.
    pub speakers: Vec<SpeakerSentiment>,
    /// How many sentences were scored.
    pub sentences: usize,
}

/// The label of a score: positive at or above [`LABEL_THRESHOLD`], negative at or below its
/// negation, otherwise neutral.
pub fn label(score: f64) -> Sentiment {
    if score >= LABEL_THRESHOLD {
        Sentiment::Positive
    } else if score <= -LABEL_THRESHOLD {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    }
}

/// Splits the utterances into sentences, scores them with `engine` and aggregates.
///
/// Pass mail bodies through [`Utterance::message`] (or
/// [`crate::cleanup::strip_quoted_and_signature`]) first, so quoted history is not scored.
pub fn analyse(engine: &dyn SentimentAnalyzer, utterances: &[Utterance]) -> SentimentResult {
    let mut parts: Vec<(Option<&str>, &str)> = Vec::new();
    for u in utterances {
        for s in sentences(&u.text) {
            parts.push((u.speaker.as_deref(), s));
        }
    }
    let texts: Vec<&str> = parts.iter().map(|&(_, t)| t).collect();
    let scores = engine.score(&texts);
    // An engine returning too few scores must not shift scores onto the wrong sentences;
    // missing ones count as neutral.
    let scored: Vec<ScoredSentence<'_>> = parts
        .iter()
        .enumerate()
        .map(|(i, &(speaker, text))| ScoredSentence {
            speaker,
            text,
            score: scores.get(i).copied().unwrap_or(0.0),
        })
        .collect();
    aggregate(engine.engine(), engine.version(), &scored)
}

/// Aggregates sentence scores computed elsewhere: each sentence weighs by its word count
/// (so a long complaint outweighs "Hi."), non-finite scores count as 0, others are clamped
/// to `[-1, 1]`.
pub fn aggregate(engine: &str, version: &str, sentences: &[ScoredSentence<'_>]) -> SentimentResult {
    let clean = |s: f64| {
        if s.is_finite() {
            s.clamp(-1.0, 1.0)
        } else {
            0.0
        }
    };
    let weight = |text: &str| text.split_whitespace().count().max(1) as f64;

    let score = weighted_mean(sentences.iter().map(|s| (clean(s.score), weight(s.text))));
    let most_negative = sentences
        .iter()
        .filter(|s| clean(s.score) < 0.0)
        .min_by(|a, b| clean(a.score).total_cmp(&clean(b.score)))
        .map(|s| ScoredPart {
            text: s.text.to_owned(),
            score: clean(s.score),
        });

    let mut order: Vec<&str> = Vec::new();
    for s in sentences {
        if let Some(sp) = s.speaker
            && !order.contains(&sp)
        {
            order.push(sp);
        }
    }
    let speakers = order
        .into_iter()
        .map(|sp| {
            let own: Vec<&ScoredSentence<'_>> =
                sentences.iter().filter(|s| s.speaker == Some(sp)).collect();
            let score = weighted_mean(own.iter().map(|s| (clean(s.score), weight(s.text))));
            SpeakerSentiment {
                speaker: sp.to_owned(),
                score,
                label: label(score),
                sentences: own.len(),
            }
        })
        .collect();

    SentimentResult {
        engine: engine.to_owned(),
        engine_version: version.to_owned(),
        score,
        label: label(score),
        most_negative,
        speakers,
        sentences: sentences.len(),
    }
}

fn weighted_mean(items: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (sum, weights) = items.fold((0.0, 0.0), |(s, w), (score, weight)| {
        (s + score * weight, w + weight)
    });
    if weights > 0.0 {
        (sum / weights).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}
