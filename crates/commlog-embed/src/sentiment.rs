//! Sentiment from embeddings: a linear (ridge-regression) head over the
//! 384-dimensional sentence embedding, trained on human-rated sentences and
//! shipped in `assets/sentiment_head.json`.
//!
//! A linear head is enough because the embedding already separates tone
//! well; it is trained in closed form, deterministically, in seconds, and its
//! weights are small enough to review and embed in the binary.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{EMBEDDING_DIM, EmbedError, Embedder};

mod ridge;

/// The head trained by `examples/train_sentiment_head.rs`, compiled in.
const BUNDLED_HEAD: &str = include_str!("../assets/sentiment_head.json");

/// Format tag of the head file, checked on load.
const HEAD_FORMAT: &str = "commlog-sentiment-head/1";

/// A linear map from an embedding to a sentiment score in [−1, 1]
/// (−1 most negative, +1 most positive; the training target was the mean
/// human rating / 4).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentimentHead {
    format: String,
    /// Identifies these weights; part of [`EmbeddingSentiment::version`].
    pub version: String,
    /// Free-form description of the training data and split, kept in the file
    /// so the weights document their own provenance.
    pub training: serde_json::Value,
    bias: f64,
    weights: Vec<f64>,
}

impl SentimentHead {
    /// The head shipped with the crate.
    pub fn bundled() -> Result<Self, EmbedError> {
        Self::from_json(BUNDLED_HEAD)
    }

    /// Parses and checks a head file.
    pub fn from_json(text: &str) -> Result<Self, EmbedError> {
        let head: Self = serde_json::from_str(text).map_err(|e| EmbedError::Head(e.to_string()))?;
        if head.format != HEAD_FORMAT {
            return Err(EmbedError::Head(format!(
                "unknown format {:?}",
                head.format
            )));
        }
        if head.weights.len() != EMBEDDING_DIM {
            return Err(EmbedError::Head(format!(
                "{} weights for {EMBEDDING_DIM}-dimensional embeddings",
                head.weights.len()
            )));
        }
        if !head.bias.is_finite() || head.weights.iter().any(|w| !w.is_finite()) {
            return Err(EmbedError::Head("non-finite weight".into()));
        }
        Ok(head)
    }

    /// Serialises the head (pretty-printed, for a reviewable asset).
    pub fn to_json(&self) -> Result<String, EmbedError> {
        serde_json::to_string_pretty(self).map_err(|e| EmbedError::Head(e.to_string()))
    }

    /// Fits the head by ridge regression of `targets` on `embeddings` with
    /// penalty `lambda` (the intercept is not penalised). `training` is
    /// stored as-is to describe the data.
    pub fn fit(
        embeddings: &[Vec<f32>],
        targets: &[f64],
        lambda: f64,
        training: serde_json::Value,
    ) -> Result<Self, EmbedError> {
        if embeddings.iter().any(|e| e.len() != EMBEDDING_DIM) {
            return Err(EmbedError::Head("embedding of the wrong length".into()));
        }
        let (bias, weights) = ridge::fit(embeddings, targets, lambda)
            .ok_or_else(|| EmbedError::Head("ridge system is not solvable".into()))?;
        // Name the weights by their content, so equal weights share a version.
        let digest = weights
            .iter()
            .chain(std::iter::once(&bias))
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, w| {
                (h ^ w.to_bits()).wrapping_mul(0x0000_0100_0000_01b3)
            });
        Ok(Self {
            format: HEAD_FORMAT.into(),
            version: format!("ridge-{:08x}", digest >> 32),
            training,
            bias,
            weights,
        })
    }

    /// Sentiment of one embedding, clamped to [−1, 1]. An embedding of the
    /// wrong length scores 0 (neutral) rather than failing.
    pub fn score(&self, embedding: &[f32]) -> f64 {
        if embedding.len() != self.weights.len() {
            return 0.0;
        }
        let raw = self.bias
            + self
                .weights
                .iter()
                .zip(embedding)
                .map(|(w, &x)| w * f64::from(x))
                .sum::<f64>();
        raw.clamp(-1.0, 1.0)
    }
}

/// Sentiment engine: the embedder followed by a [`SentimentHead`].
#[derive(Debug)]
pub struct EmbeddingSentiment {
    embedder: Embedder,
    head: SentimentHead,
    version: String,
}

impl EmbeddingSentiment {
    /// Combines an embedder with a head.
    pub fn new(embedder: Embedder, head: SentimentHead) -> Self {
        let version = format!("all-MiniLM-L6-v2+{}", head.version);
        Self {
            embedder,
            head,
            version,
        }
    }

    /// Loads the model from `model_dir` and uses the bundled head.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        Ok(Self::new(
            Embedder::load(model_dir)?,
            SentimentHead::bundled()?,
        ))
    }

    /// Engine name, as stored next to each score.
    pub fn engine(&self) -> &str {
        "minilm-head"
    }

    /// Model and head version, so stored scores can be traced and recomputed
    /// when either changes.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The embedder, to reuse it for other purposes without loading it twice.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The head.
    pub fn head(&self) -> &SentimentHead {
        &self.head
    }

    /// One score in [−1, 1] per sentence, in order.
    pub fn score(&self, sentences: &[&str]) -> Result<Vec<f64>, EmbedError> {
        Ok(self
            .embedder
            .embed(sentences)?
            .iter()
            .map(|e| self.head.score(e))
            .collect())
    }
}
