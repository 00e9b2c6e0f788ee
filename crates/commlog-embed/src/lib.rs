//! Sentence embeddings computed locally with all-MiniLM-L6-v2, and what Commlog
//! builds on them:
//!
//! - [`Embedder`]: text → 384-dimensional unit vector, the same vectors the
//!   sentence-transformers pipeline of this model produces (BERT encoder, mean
//!   pooling over real tokens, L2 normalisation), on the CPU, with no network.
//! - [`SentimentHead`] / [`EmbeddingSentiment`]: a linear head trained on
//!   human-rated sentences that maps an embedding to a sentiment in [-1, 1].
//! - [`ExampleClassifier`]: assigns a text to the category whose examples it
//!   resembles most, and learns from corrections by adding examples.
//! - [`eval`]: the corpus readers, deterministic splits and metrics used to
//!   train and to measure all of the above.
//!
//! The model directory (holding `config.json`, `vocab.txt` and
//! `model.safetensors`) is found through `COMMLOG_MODELS_DIR`; see
//! [`model_dir_from_env`].
#![forbid(unsafe_code)]

mod bert;
mod classify;
mod embedder;
mod error;
pub mod eval;
mod sentiment;
mod tokenizer;

pub use classify::{Classification, ExampleClassifier};
pub use embedder::{EMBEDDING_DIM, Embedder, cosine};
pub use error::EmbedError;
pub use sentiment::{EmbeddingSentiment, SentimentHead};
pub use tokenizer::Tokenizer;

use std::path::PathBuf;

/// Environment variable naming the directory that holds Commlog's models.
pub const MODELS_DIR_ENV: &str = "COMMLOG_MODELS_DIR";

/// Name of the all-MiniLM-L6-v2 folder inside the models directory.
pub const MINILM_DIR_NAME: &str = "all-minilm-l6-v2";

/// The all-MiniLM-L6-v2 folder under `$COMMLOG_MODELS_DIR`, if the variable
/// is set and the folder holds a model; `None` otherwise.
pub fn model_dir_from_env() -> Option<PathBuf> {
    let root = std::env::var_os(MODELS_DIR_ENV)?;
    let dir = PathBuf::from(root).join(MINILM_DIR_NAME);
    dir.join("model.safetensors").is_file().then_some(dir)
}
