//! Text → sentence embedding: tokenise, run the encoder on padded batches,
//! mean-pool the real tokens and L2-normalise, as the sentence-transformers
//! pipeline of all-MiniLM-L6-v2 (`modules.json`: Transformer, Pooling with
//! `pooling_mode_mean_tokens`, Normalize) does.

use std::path::Path;

use candle_core::{D, DType, Device, Tensor};
use serde::Deserialize;

use crate::EmbedError;
use crate::bert::{Bert, BertConfig};
use crate::tokenizer::Tokenizer;

/// Length of the vectors all-MiniLM-L6-v2 produces.
pub const EMBEDDING_DIM: usize = 384;

/// Tokens per text when the model folder does not say (`max_seq_length` of
/// `sentence_bert_config.json`); the model was trained with this limit.
const DEFAULT_MAX_TOKENS: usize = 256;
/// Upper bound on texts per batch.
const MAX_BATCH: usize = 64;
/// Upper bound on padded tokens per batch, which keeps the attention matrices
/// (batch × heads × len² floats) around 100 MB at most.
const MAX_BATCH_TOKENS: usize = 8192;

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// A loaded all-MiniLM-L6-v2 model. Cheap to share behind an `Arc`; `embed`
/// takes `&self` and may be called from several threads.
pub struct Embedder {
    tokenizer: Tokenizer,
    model: Bert,
    max_tokens: usize,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from a folder holding `config.json`, `vocab.txt`,
    /// `model.safetensors` and, optionally, `sentence_bert_config.json`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let config: BertConfig = read_json(&dir.join("config.json"))?;
        let tokenizer = Tokenizer::from_file(&dir.join("vocab.txt"))?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(EmbedError::Model(format!(
                "{} is missing",
                weights.display()
            )));
        }
        let device = Device::Cpu;
        // `load` reads the file into memory; the memory-mapped variant would
        // need unsafe code for a 90 MB file that is read once anyway.
        let tensors = candle_core::safetensors::load(&weights, &device)?;
        let model = Bert::new(&config, tensors)?;
        let st_config = dir.join("sentence_bert_config.json");
        let max_tokens = if st_config.is_file() {
            read_json::<SentenceBertConfig>(&st_config)?.max_seq_length
        } else {
            None
        }
        .unwrap_or(DEFAULT_MAX_TOKENS)
        .clamp(2, model.max_positions);
        Ok(Self {
            tokenizer,
            model,
            max_tokens,
            device,
        })
    }

    /// The tokenizer, e.g. to count tokens.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Token limit per text; longer texts are truncated to their beginning.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// One unit-length embedding of [`EMBEDDING_DIM`] floats per text, in
    /// input order. Any string is accepted: empty text embeds the markers
    /// alone, long text is truncated.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokenizer.encode(t, self.max_tokens))
            .collect();
        // Batching texts of similar length keeps padding, hence wasted work, low.
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![Vec::new(); encoded.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len()
                && end - start < MAX_BATCH
                && (end - start + 1) * encoded[order[end]].len() <= MAX_BATCH_TOKENS
            {
                end += 1;
            }
            let batch: Vec<&[u32]> = order[start..end]
                .iter()
                .map(|&i| encoded[i].as_slice())
                .collect();
            for (&i, vector) in order[start..end].iter().zip(self.embed_batch(&batch)?) {
                out[i] = vector;
            }
            start = end;
        }
        Ok(out)
    }

    /// Embeds one batch of token id sequences, padding them to the longest.
    fn embed_batch(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for seq in batch {
            ids.extend_from_slice(seq);
            ids.resize(ids.len() + len - seq.len(), 0);
            mask.extend(std::iter::repeat_n(1f32, seq.len()));
            mask.resize(mask.len() + len - seq.len(), 0.0);
        }
        let ids = Tensor::from_vec(ids, (batch.len(), len), &self.device)?;
        let mask = Tensor::from_vec(mask, (batch.len(), len), &self.device)?;
        let hidden = self.model.forward(&ids, &mask)?;
        // Mean over real tokens only: padding is zeroed and not counted.
        let mask3 = mask.unsqueeze(D::Minus1)?;
        let summed = hidden.broadcast_mul(&mask3)?.sum(1)?;
        let counts = mask3.sum(1)?.clamp(1e-9, f64::INFINITY)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::INFINITY)?;
        Ok(mean
            .broadcast_div(&norms)?
            .to_dtype(DType::F32)?
            .to_vec2()?)
    }
}

/// Cosine similarity of two vectors (their dot product if both are unit
/// length, as embeddings are); 0 when either is all zeros or lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    let denom = (na * nb).sqrt();
    if denom > 0.0 { dot / denom } else { 0.0 }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmbedError> {
    let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| EmbedError::Model(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedder_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Embedder>();
    }

    #[test]
    fn cosine_handles_degenerate_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }
}
