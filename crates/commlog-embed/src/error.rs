//! The crate's error type.

use std::path::{Path, PathBuf};

/// Why loading a model, embedding text or reading a corpus failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The model files are missing pieces or are inconsistent.
    #[error("invalid model: {0}")]
    Model(String),
    /// The tensor computation failed (shapes, allocation, …).
    #[error("embedding computation failed: {0}")]
    Compute(String),
    /// A sentiment head file is malformed or does not fit the embeddings.
    #[error("invalid sentiment head: {0}")]
    Head(String),
    /// A classifier example is unusable (wrong length, not finite, zero).
    #[error("invalid example: {0}")]
    Example(String),
    /// A corpus file is malformed.
    #[error("invalid corpus {path}: {reason}")]
    Corpus {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl EmbedError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

// Candle's error is kept out of the public API so that a candle upgrade is not
// a breaking change for callers.
impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        Self::Compute(e.to_string())
    }
}
