//! End-to-end evaluations on the shared corpora, shared by the benchmark
//! example and the tests so both measure exactly the same thing.

use std::path::Path;

use serde::Serialize;

use super::{SentimentCorpus, banking77_few_shot, macro_f1, pearson, read_sentiment};
use crate::{EmbedError, Embedder, EmbeddingSentiment, ExampleClassifier};

/// Held-out sentiment figures for one corpus.
#[derive(Debug, Clone, Serialize)]
pub struct SentimentReport {
    /// Corpus name.
    pub corpus: &'static str,
    /// Held-out texts scored.
    pub texts: usize,
    /// Pearson r between engine score and human mean.
    pub pearson: f64,
    /// 3-class macro-F1 (see [`super::SentimentClass`]).
    pub macro_f1: f64,
}

/// Scores the held-out (30 %) texts of each corpus. `stride` > 1 keeps every
/// `stride`-th held-out text only, for quicker runs (1 = all).
pub fn evaluate_sentiment(
    engine: &EmbeddingSentiment,
    corpora: &Path,
    stride: usize,
) -> Result<Vec<SentimentReport>, EmbedError> {
    let mut reports = Vec::new();
    for corpus in SentimentCorpus::ALL {
        let held_out: Vec<_> = read_sentiment(corpora, corpus)?
            .into_iter()
            .filter(|t| !t.train)
            .step_by(stride.max(1))
            .collect();
        let texts: Vec<&str> = held_out.iter().map(|t| t.text.as_str()).collect();
        let truth: Vec<f64> = held_out.iter().map(|t| t.score).collect();
        let predicted = engine.score(&texts)?;
        reports.push(SentimentReport {
            corpus: corpus.name(),
            texts: texts.len(),
            pearson: pearson(&truth, &predicted).unwrap_or(0.0),
            macro_f1: macro_f1(&truth, &predicted),
        });
    }
    Ok(reports)
}

/// Few-shot classification figures on banking77.
#[derive(Debug, Clone, Serialize)]
pub struct FewShotReport {
    /// Examples given per intent.
    pub per_intent: usize,
    /// Intents.
    pub intents: usize,
    /// Queries classified.
    pub queries: usize,
    /// Share classified correctly (no threshold: every query gets an answer).
    pub accuracy: f64,
    /// Mean confidence reported, to compare with the accuracy.
    pub mean_confidence: f64,
    /// Accuracy of nearest centroid alone (centroid weight 1).
    pub accuracy_centroid_only: f64,
    /// Accuracy of the nearest example alone (centroid weight 0).
    pub accuracy_nearest_only: f64,
    /// `(threshold, share of queries answered, accuracy on those)`.
    pub thresholds: Vec<(f32, f64, f64)>,
}

/// Builds an [`ExampleClassifier`] from `per_intent` examples per banking77
/// intent and classifies every other query. `stride` > 1 classifies every
/// `stride`-th query only (1 = all).
pub fn evaluate_banking77(
    embedder: &Embedder,
    corpora: &Path,
    per_intent: usize,
    stride: usize,
) -> Result<FewShotReport, EmbedError> {
    let split = banking77_few_shot(corpora, per_intent)?;
    let example_texts: Vec<&str> = split.examples.iter().map(|(_, t)| t.as_str()).collect();
    let vectors = embedder.embed(&example_texts)?;
    let classifier = ExampleClassifier::from_examples(
        split
            .examples
            .iter()
            .map(|(intent, _)| intent.clone())
            .zip(vectors),
    )?;
    let test: Vec<_> = split.test.iter().step_by(stride.max(1)).collect();
    let test_texts: Vec<&str> = test.iter().map(|(_, t)| t.as_str()).collect();
    let embedded = embedder.embed(&test_texts)?;

    let accuracy_with = |c: &ExampleClassifier<String>| {
        let hits = test
            .iter()
            .zip(&embedded)
            .filter(|((intent, _), e)| c.classify(e).is_some_and(|(p, _)| &p == intent))
            .count();
        ratio(hits, test.len())
    };
    let answers: Vec<(bool, f32)> = test
        .iter()
        .zip(&embedded)
        .map(|((intent, _), e)| {
            classifier
                .classify(e)
                .map_or((false, 0.0), |(p, conf)| (&p == intent, conf))
        })
        .collect();
    let thresholds = [0.3f32, 0.5, 0.7, 0.9]
        .into_iter()
        .map(|t| {
            let kept: Vec<bool> = answers.iter().filter(|a| a.1 >= t).map(|a| a.0).collect();
            let hits = kept.iter().filter(|&&ok| ok).count();
            (t, ratio(kept.len(), answers.len()), ratio(hits, kept.len()))
        })
        .collect();
    Ok(FewShotReport {
        per_intent,
        intents: classifier.category_count(),
        queries: test.len(),
        accuracy: ratio(answers.iter().filter(|a| a.0).count(), answers.len()),
        mean_confidence: answers.iter().map(|a| f64::from(a.1)).sum::<f64>()
            / answers.len().max(1) as f64,
        accuracy_centroid_only: accuracy_with(&classifier.clone().with_centroid_weight(1.0)),
        accuracy_nearest_only: accuracy_with(&classifier.clone().with_centroid_weight(0.0)),
        thresholds,
    })
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
