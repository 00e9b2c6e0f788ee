//! The BERT encoder of all-MiniLM-L6-v2 (6 layers, 384 wide, 12 heads) on
//! candle, written out here because it is about a hundred lines, whereas the
//! crate that ships a generic BERT also compiles hundreds of unrelated models.
//!
//! Only what sentence embedding needs is implemented: absolute positions, a
//! single token type, an attention mask for padded batches, exact (erf) GELU,
//! and no pooler (mean pooling happens in [`crate::Embedder`]).

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use crate::EmbedError;

/// The fields of the Hugging Face `config.json` this encoder depends on.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

/// Self-attention, its output projection and the feed-forward block of one
/// encoder layer (post-layer-norm, as in the original BERT).
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    ffn_norm: LayerNorm,
}

/// The encoder: embeddings followed by the transformer layers.
pub(crate) struct Bert {
    words: Embedding,
    positions: Embedding,
    /// Row 0 of the token-type table: every input is a single segment.
    token_type: Tensor,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    pub max_positions: usize,
}

impl Bert {
    /// Builds the encoder from the tensors of `model.safetensors`.
    pub fn new(config: &BertConfig, tensors: HashMap<String, Tensor>) -> Result<Self, EmbedError> {
        if config.hidden_act != "gelu" {
            return Err(EmbedError::Model(format!(
                "unsupported activation {:?}",
                config.hidden_act
            )));
        }
        let heads = config.num_attention_heads;
        if heads == 0 || !config.hidden_size.is_multiple_of(heads) {
            return Err(EmbedError::Model(
                "hidden size not divisible by heads".into(),
            ));
        }
        let device = Device::Cpu;
        // Some exports prefix every name with "bert."; accept both layouts.
        let prefixed = tensors.contains_key("bert.embeddings.word_embeddings.weight");
        let root = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let root = if prefixed { root.pp("bert") } else { root };
        let (h, eps) = (config.hidden_size, config.layer_norm_eps);

        let emb = root.pp("embeddings");
        let token_types = emb
            .get((2, h), "token_type_embeddings.weight")
            .or_else(|_| emb.get((1, h), "token_type_embeddings.weight"))?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = root.pp(format!("encoder.layer.{i}"));
            let inter = config.intermediate_size;
            layers.push(Layer {
                query: candle_nn::linear(h, h, l.pp("attention.self.query"))?,
                key: candle_nn::linear(h, h, l.pp("attention.self.key"))?,
                value: candle_nn::linear(h, h, l.pp("attention.self.value"))?,
                attn_out: candle_nn::linear(h, h, l.pp("attention.output.dense"))?,
                attn_norm: candle_nn::layer_norm(h, eps, l.pp("attention.output.LayerNorm"))?,
                ffn_in: candle_nn::linear(h, inter, l.pp("intermediate.dense"))?,
                ffn_out: candle_nn::linear(inter, h, l.pp("output.dense"))?,
                ffn_norm: candle_nn::layer_norm(h, eps, l.pp("output.LayerNorm"))?,
            });
        }
        Ok(Self {
            words: candle_nn::embedding(config.vocab_size, h, emb.pp("word_embeddings"))?,
            positions: candle_nn::embedding(
                config.max_position_embeddings,
                h,
                emb.pp("position_embeddings"),
            )?,
            token_type: token_types.get(0)?,
            embed_norm: candle_nn::layer_norm(h, eps, emb.pp("LayerNorm"))?,
            layers,
            heads,
            head_dim: h / heads,
            max_positions: config.max_position_embeddings,
        })
    }

    /// Hidden states `[batch, seq, hidden]` for token ids `[batch, seq]`
    /// (u32) with `mask` `[batch, seq]` (f32, 1 for tokens, 0 for padding).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, EmbedError> {
        let (batch, seq) = ids.dims2()?;
        let seq_u32 =
            u32::try_from(seq).map_err(|_| EmbedError::Model("sequence too long".into()))?;
        let positions = Tensor::arange(0u32, seq_u32, ids.device())?;
        let x = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = self.embed_norm.forward(&x)?;
        // Padding keys get a large negative bias so softmax gives them ~0.
        let bias = ((mask.reshape((batch, 1, 1, seq))? - 1.0)? * 10_000.0)?;
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, &bias)?;
        }
        Ok(x)
    }

    fn layer_forward(&self, l: &Layer, x: &Tensor, bias: &Tensor) -> Result<Tensor, EmbedError> {
        let (batch, seq, hidden) = x.dims3()?;
        let split = |t: Tensor| -> Result<Tensor, EmbedError> {
            Ok(t.reshape((batch, seq, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = split(l.query.forward(x)?)?;
        let k = split(l.key.forward(x)?)?;
        let v = split(l.value.forward(x)?)?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(bias)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, seq, hidden))?;
        let x = l.attn_norm.forward(&(l.attn_out.forward(&context)? + x)?)?;
        let ffn = l.ffn_out.forward(&l.ffn_in.forward(&x)?.gelu_erf()?)?;
        Ok(l.ffn_norm.forward(&(ffn + x)?)?)
    }
}
