//! Trains the sentiment head and writes `assets/sentiment_head.json`.
//!
//! ```text
//! COMMLOG_MODELS_DIR=… cargo run --release -p commlog-embed --example train_sentiment_head
//! ```
//!
//! Data: the three human-rated corpora under `shared/corpora/sentiment`
//! (found via `COMMLOG_CORPORA` or by walking up from this crate), each split
//! 70 % train / 30 % held out by a hash of its id
//! ([`commlog_embed::eval::in_train_split`]). Only the training part is used
//! to fit; the ridge penalty is chosen by 5-fold cross-validation inside it;
//! the held-out figures are recorded in the asset for reference.

use std::path::{Path, PathBuf};

use commlog_embed::eval::{self, RatedText, SentimentCorpus, macro_f1, pearson};
use commlog_embed::{EMBEDDING_DIM, EmbedError, Embedder, SentimentHead};
use serde_json::json;

/// Ridge penalties tried.
const LAMBDAS: [f64; 7] = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0];
const FOLDS: u64 = 5;

struct Row {
    corpus: SentimentCorpus,
    text: RatedText,
    embedding: Vec<f32>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model_dir = commlog_embed::model_dir_from_env()
        .ok_or("set COMMLOG_MODELS_DIR to the folder holding all-minilm-l6-v2")?;
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpora = eval::find_corpora(crate_dir).ok_or("corpora not found (COMMLOG_CORPORA)")?;
    let out = std::env::args_os().nth(1).map_or_else(
        || crate_dir.join("assets/sentiment_head.json"),
        PathBuf::from,
    );

    let rows = embed_corpora(&model_dir, &corpora)?;
    let (train, test): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.text.train);

    // Cross-validate on the training part only; folds come from a hash of
    // the id, so they are deterministic too. The penalty is chosen for
    // correlation; then the output scale for 3-class macro-F1: ridge shrinks
    // predictions towards 0, so unscaled they fall into "neutral" too often.
    // Scaling the targets scales the fitted weights exactly (the solution is
    // linear in the targets), so the scale is applied by fitting on y·scale.
    let fold_of = |r: &Row| eval::fnv1a(format!("fold:{}", r.text.id).as_bytes()) % FOLDS;
    let mut best = (f64::NEG_INFINITY, LAMBDAS[0], Vec::new());
    for lambda in LAMBDAS {
        let mut out_of_fold = Vec::new();
        for fold in 0..FOLDS {
            let (fit_rows, val_rows): (Vec<&Row>, Vec<&Row>) =
                train.iter().partition(|r| fold_of(r) != fold);
            let head = fit(&fit_rows, lambda, 1.0, json!(null))?;
            out_of_fold.extend(val_rows.into_iter().map(|r| (r, head.score(&r.embedding))));
        }
        let mean_r = per_corpus_mean(&out_of_fold, 1.0, |t, p| pearson(t, p).unwrap_or(0.0));
        println!("lambda {lambda:>6}: mean cross-validated r {mean_r:.4}");
        if mean_r > best.0 {
            best = (mean_r, lambda, out_of_fold);
        }
    }
    let (_, lambda, out_of_fold) = best;
    let mut scale = (f64::NEG_INFINITY, 1.0);
    for step in 0..=20 {
        let factor = 1.0 + f64::from(step) * 0.05;
        let f1 = per_corpus_mean(&out_of_fold, factor, macro_f1);
        println!("scale {factor:.2}: mean cross-validated macro-F1 {f1:.4}");
        if f1 > scale.0 {
            scale = (f1, factor);
        }
    }
    let scale = scale.1;

    let mut held_out = serde_json::Map::new();
    let mut counts = serde_json::Map::new();
    let head = fit(&train, lambda, scale, json!(null))?;
    for corpus in SentimentCorpus::ALL {
        let part: Vec<&&Row> = test.iter().filter(|r| r.corpus == corpus).collect();
        let truth: Vec<f64> = part.iter().map(|r| r.text.score).collect();
        let pred: Vec<f64> = part.iter().map(|r| head.score(&r.embedding)).collect();
        let r = pearson(&truth, &pred).unwrap_or(0.0);
        let f1 = macro_f1(&truth, &pred);
        println!(
            "{:>7}: held-out n={} r={r:.3} macro-F1={f1:.3}",
            corpus.name(),
            part.len()
        );
        held_out.insert(
            corpus.name().into(),
            json!({"n": part.len(), "pearson": round(r), "macro_f1": round(f1)}),
        );
        let n_train = train.iter().filter(|r| r.corpus == corpus).count();
        counts.insert(
            corpus.name().into(),
            json!({"train": n_train, "held_out": part.len()}),
        );
    }
    let training = json!({
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2 (mean pooling, L2-normalised)",
        "method": format!(
            "ridge regression, lambda {lambda} (for Pearson r) and target scale {scale:.2} \
             (for 3-class macro-F1) chosen by {FOLDS}-fold cross-validation on the training part"
        ),
        "target": format!("mean human rating / 4 x {scale:.2}, clamped to [-1, 1] at prediction"),
        "corpora": "VADER ground truth (Hutto & Gilbert, ICWSM 2014): tweets, Amazon review snippets, movie review snippets",
        "split": format!("per corpus, FNV-1a-64 of \"<corpus>:<id>\" modulo 100 < {} is train, the rest held out", eval::TRAIN_PERCENT),
        "counts": counts,
        "held_out": held_out,
        "command": "cargo run --release -p commlog-embed --example train_sentiment_head",
    });
    let head = fit(&train, lambda, scale, training)?;
    std::fs::write(&out, head.to_json()? + "\n")?;
    println!("wrote {} ({})", out.display(), head.version);
    Ok(())
}

fn fit(
    rows: &[&Row],
    lambda: f64,
    scale: f64,
    training: serde_json::Value,
) -> Result<SentimentHead, EmbedError> {
    let xs: Vec<Vec<f32>> = rows.iter().map(|r| r.embedding.clone()).collect();
    let ys: Vec<f64> = rows.iter().map(|r| r.text.score * scale).collect();
    SentimentHead::fit(&xs, &ys, lambda, training)
}

/// Mean over the corpora of `metric(truth, prediction × factor)`, the
/// prediction clamped to [−1, 1] as the head does.
fn per_corpus_mean(
    scored: &[(&Row, f64)],
    factor: f64,
    metric: impl Fn(&[f64], &[f64]) -> f64,
) -> f64 {
    let total: f64 = SentimentCorpus::ALL
        .iter()
        .map(|&corpus| {
            let (truth, pred): (Vec<f64>, Vec<f64>) = scored
                .iter()
                .filter(|(r, _)| r.corpus == corpus)
                .map(|(r, p)| (r.text.score, (p * factor).clamp(-1.0, 1.0)))
                .unzip();
            metric(&truth, &pred)
        })
        .sum();
    total / SentimentCorpus::ALL.len() as f64
}

/// Embeds every text of the three corpora. With `COMMLOG_EMBED_CACHE` set to
/// a file path, the embeddings are stored there and reused while the texts
/// are unchanged, which makes re-running the fit take seconds.
fn embed_corpora(model_dir: &Path, corpora: &Path) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let mut texts = Vec::new();
    for corpus in SentimentCorpus::ALL {
        texts.extend(
            eval::read_sentiment(corpora, corpus)?
                .into_iter()
                .map(|t| (corpus, t)),
        );
    }
    let key = texts.iter().fold(String::new(), |acc, (_, t)| {
        format!("{:016x}", eval::fnv1a((acc + &t.text).as_bytes()))
    });
    let cache = std::env::var_os("COMMLOG_EMBED_CACHE").map(PathBuf::from);
    let cached = cache
        .as_ref()
        .and_then(|p| read_cache(p, &key, texts.len()));
    let embeddings = match cached {
        Some(e) => e,
        None => {
            let embedder = Embedder::load(model_dir)?;
            let started = std::time::Instant::now();
            let refs: Vec<&str> = texts.iter().map(|(_, t)| t.text.as_str()).collect();
            let e = embedder.embed(&refs)?;
            println!("embedded {} texts in {:.1?}", refs.len(), started.elapsed());
            if let Some(path) = &cache {
                write_cache(path, &key, &e)?;
            }
            e
        }
    };
    Ok(texts
        .into_iter()
        .zip(embeddings)
        .map(|((corpus, text), embedding)| Row {
            corpus,
            text,
            embedding,
        })
        .collect())
}

/// Cache layout: the 16-hex-digit text key, then the little-endian f32s.
fn read_cache(path: &Path, key: &str, rows: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(key.as_bytes())?;
    if body.len() != rows * EMBEDDING_DIM * 4 {
        return None;
    }
    let floats: Vec<f32> = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    println!("reusing embeddings from {}", path.display());
    Some(floats.chunks(EMBEDDING_DIM).map(<[f32]>::to_vec).collect())
}

fn write_cache(path: &Path, key: &str, embeddings: &[Vec<f32>]) -> std::io::Result<()> {
    let mut bytes = key.as_bytes().to_vec();
    for value in embeddings.iter().flatten() {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    std::fs::write(path, bytes)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
