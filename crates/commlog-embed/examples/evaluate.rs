//! Measures the crate on the shared corpora and prints one JSON object:
//! held-out sentiment figures, banking77 few-shot accuracy and embedding
//! throughput. Used by `bench/embeddings.py`.
//!
//! ```text
//! COMMLOG_MODELS_DIR=… cargo run --release -p commlog-embed --example evaluate [-- STRIDE]
//! ```
//!
//! STRIDE (default 1) evaluates every STRIDE-th held-out text only.

use std::path::Path;
use std::time::Instant;

use commlog_embed::eval::{self, SentimentCorpus};
use commlog_embed::{Embedder, EmbeddingSentiment};
use serde_json::json;

/// Texts timed for throughput: enough for a stable rate, few enough to keep
/// the benchmark short on one core.
const THROUGHPUT_TEXTS: usize = 1000;
/// Texts embedded one call at a time, for per-call latency.
const LATENCY_TEXTS: usize = 100;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stride: usize = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    let model_dir = commlog_embed::model_dir_from_env()
        .ok_or("set COMMLOG_MODELS_DIR to the folder holding all-minilm-l6-v2")?;
    let corpora = eval::find_corpora(Path::new(env!("CARGO_MANIFEST_DIR")))
        .ok_or("corpora not found (COMMLOG_CORPORA)")?;

    let started = Instant::now();
    let engine = EmbeddingSentiment::load(&model_dir)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let throughput = throughput(engine.embedder(), &corpora)?;

    let started = Instant::now();
    let sentiment = eval::evaluate_sentiment(&engine, &corpora, stride)?;
    let sentiment_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let banking = eval::evaluate_banking77(engine.embedder(), &corpora, 10, stride)?;
    let banking_seconds = started.elapsed().as_secs_f64();

    let report = json!({
        "engine": engine.engine(),
        "version": engine.version(),
        "threads": std::thread::available_parallelism().map_or(1, usize::from),
        "load_seconds": load_seconds,
        "throughput": throughput,
        "sentiment": sentiment,
        "sentiment_seconds": sentiment_seconds,
        "banking77": banking,
        "banking77_seconds": banking_seconds,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Embeds the first held-out texts of the three sentiment corpora, in
/// batches (as the engine is used in bulk) and one per call (as for a single
/// new message).
fn throughput(
    embedder: &Embedder,
    corpora: &Path,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let mut texts = Vec::new();
    for corpus in SentimentCorpus::ALL {
        let held_out = eval::read_sentiment(corpora, corpus)?
            .into_iter()
            .filter(|t| !t.train);
        texts.extend(held_out.take(THROUGHPUT_TEXTS / 3 + 1).map(|t| t.text));
    }
    texts.truncate(THROUGHPUT_TEXTS);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs
        .iter()
        .map(|t| embedder.tokenizer().encode(t, embedder.max_tokens()).len())
        .sum();

    let started = Instant::now();
    embedder.embed(&refs)?;
    let batched = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for text in refs.iter().take(LATENCY_TEXTS) {
        embedder.embed(&[text])?;
    }
    let single = started.elapsed().as_secs_f64();
    Ok(json!({
        "texts": refs.len(),
        "mean_tokens": tokens as f64 / refs.len().max(1) as f64,
        "batched_texts_per_second": refs.len() as f64 / batched,
        "single_call_ms": single * 1000.0 / LATENCY_TEXTS as f64,
    }))
}
