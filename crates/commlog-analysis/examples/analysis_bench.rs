//! Measures commlog-analysis on the shared corpora and prints one JSON object (used by
//! `bench/analysis.py`, which writes `bench/ANALYSIS.md`):
//!
//! - VADER's Pearson r and 3-class macro-F1 against human ratings, per corpus;
//! - precision and recall of PII detection on `tests/data/pii_labelled.tsv`;
//! - banking77 accuracy of keywords learnt from 10 examples per intent;
//! - texts per second for sentiment + topics + PII + language on one thread.
//!
//! Run: `cargo run --release -p commlog-analysis --example analysis_bench`.

#[path = "../tests/common/mod.rs"]
mod common;

use commlog_analysis::categorize::{KeywordMatcher, learn_keywords};
use commlog_analysis::pii::{self, PiiContext};
use commlog_analysis::sentiment::{self, SentimentAnalyzer, Vader};
use commlog_analysis::text::Utterance;
use commlog_analysis::{language, topics};
use common::{
    SENTIMENT_CORPORA, corpora_dir, evaluate_pii, macro_f1, pearson, rating_class, read_banking77,
    read_ground_truth, read_pii_labelled, score_class, split_per_class,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Instant;

/// Snippets joined into one message for the "e-mail sized" throughput run.
const SNIPPETS_PER_MESSAGE: usize = 8;

fn main() {
    let Some(dir) = corpora_dir() else {
        eprintln!("shared/corpora not found: set COMMLOG_CORPORA");
        std::process::exit(2);
    };
    let vader = Vader::new();
    let mut report = serde_json::Map::new();

    let mut all_texts: Vec<String> = Vec::new();
    let mut corpora = Vec::new();
    for (name, file) in SENTIMENT_CORPORA {
        let rows = read_ground_truth(&dir.join("sentiment").join(file)).unwrap_or_default();
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let scores = vader.score(&texts);
        let ratings: Vec<f64> = rows.iter().map(|r| r.rating).collect();
        let truth: Vec<usize> = ratings.iter().map(|&r| rating_class(r)).collect();
        let predicted: Vec<usize> = scores.iter().map(|&s| score_class(s)).collect();
        corpora.push(json!({
            "corpus": name, "texts": rows.len(), "pearson_r": pearson(&scores, &ratings),
            "macro_f1": macro_f1(&truth, &predicted, 3),
            "distinct_ids": rows.iter().map(|r| r.id.as_str()).collect::<HashSet<_>>().len(),
        }));
        all_texts.extend(rows.into_iter().map(|r| r.text));
    }
    report.insert("vader".into(), Value::Array(corpora));

    let (names, cases) = read_pii_labelled();
    let (tp, fp, fn_, errors) = evaluate_pii();
    report.insert(
        "pii".into(),
        json!({
            "expected_items": cases.iter().map(|c| c.expected.len()).sum::<usize>(),
            "lookalike_lines": cases.iter().filter(|c| c.expected.is_empty()).count(),
            "known_names": names.len(),
            "tp": tp, "fp": fp, "fn": fn_,
            "precision": tp as f64 / (tp + fp).max(1) as f64,
            "recall": tp as f64 / (tp + fn_).max(1) as f64,
            "errors": errors,
        }),
    );

    let rows = read_banking77(&dir.join("categorization").join("banking77")).unwrap_or_default();
    let (train, test) = split_per_class(&rows, 10);
    let examples: Vec<(String, &str)> =
        train.iter().map(|(t, c)| (c.clone(), t.as_str())).collect();
    let started = Instant::now();
    let rules = learn_keywords(&examples, 15);
    let learn_ms = started.elapsed().as_secs_f64() * 1e3;
    let matcher = KeywordMatcher::new(&rules);
    let started = Instant::now();
    let predictions: Vec<Option<String>> = test
        .iter()
        .map(|(t, _)| matcher.classify(t).map(|(id, _)| id))
        .collect();
    let classify_s = started.elapsed().as_secs_f64();
    let correct = predictions
        .iter()
        .zip(&test)
        .filter(|(p, (_, c))| p.as_ref() == Some(c))
        .count();
    let answered = predictions.iter().filter(|p| p.is_some()).count();
    report.insert(
        "banking77".into(),
        json!({
            "intents": rules.len(), "train": train.len(), "test": test.len(),
            "accuracy": correct as f64 / test.len().max(1) as f64,
            "answered": answered as f64 / test.len().max(1) as f64,
            "learn_ms": learn_ms, "classify_per_s": test.len() as f64 / classify_s.max(1e-9),
        }),
    );

    let messages: Vec<String> = all_texts
        .chunks(SNIPPETS_PER_MESSAGE)
        .map(|c| c.join(" "))
        .collect();
    report.insert(
        "throughput".into(),
        json!([
            throughput("snippets", &all_texts, &vader),
            throughput("messages", &messages, &vader)
        ]),
    );
    println!("{}", Value::Object(report));
}

/// Texts per second for the full per-text analysis on this thread.
fn throughput(name: &str, texts: &[String], vader: &Vader) -> Value {
    let ctx = PiiContext {
        known_names: vec!["Jane Doe".into(), "Robert O'Brien".into()].into(),
        default_region: "US".into(),
    };
    let started = Instant::now();
    let mut checksum = 0.0;
    for text in texts {
        let result = sentiment::analyse(
            vader,
            &[Utterance {
                speaker: None,
                text: text.clone(),
            }],
        );
        let key = topics::key_topics(text, 5);
        let spans = pii::detect(text, &ctx);
        let lang = language::detect(text);
        checksum += result.score
            + key.len() as f64
            + spans.len() as f64
            + lang.map_or(0.0, |l| l.confidence);
    }
    let seconds = started.elapsed().as_secs_f64();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    json!({
        "set": name, "texts": texts.len(), "mean_chars": chars as f64 / texts.len().max(1) as f64,
        "seconds": seconds, "texts_per_s": texts.len() as f64 / seconds.max(1e-9), "checksum": checksum,
    })
}
