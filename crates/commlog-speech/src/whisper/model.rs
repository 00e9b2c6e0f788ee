//! The Whisper encoder–decoder, loaded from CTranslate2 variable names.
//!
//! CTranslate2 fuses the self-attention query/key/value projections into one `linear_0`
//! (`[3d, d]`) and the cross-attention key/value projections into `linear_1` (`[2d, d]`); the
//! fused forms are kept, since one larger matrix product is faster than three small ones.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Slice};

use super::ct2::Ct2Model;
use super::layers::{FeedForward, LayerNorm, Linear, attention, cols, gelu, matrix};
use crate::error::SpeechError;

/// Model dimensions read from the weights.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dims {
    pub n_mels: usize,
    pub d_model: usize,
    pub vocab: usize,
    pub text_ctx: usize,
}

struct SelfAttention {
    norm: LayerNorm,
    qkv: Linear,
    out: Linear,
}

impl SelfAttention {
    fn load(m: &mut Ct2Model, prefix: &str, d: usize) -> Result<SelfAttention, SpeechError> {
        Ok(SelfAttention {
            norm: LayerNorm::load(m, &format!("{prefix}/layer_norm"), d)?,
            qkv: Linear::load(m, &format!("{prefix}/linear_0"), 3 * d, d)?,
            out: Linear::load(m, &format!("{prefix}/linear_1"), d, d)?,
        })
    }
}

/// A 1-D convolution with kernel 3 and padding 1, as a matrix product over unfolded input.
struct Conv {
    weight: Array2<f32>,
    bias: Array1<f32>,
    stride: usize,
}

impl Conv {
    fn load(
        m: &mut Ct2Model,
        prefix: &str,
        out: usize,
        inp: usize,
        stride: usize,
    ) -> Result<Conv, SpeechError> {
        let w = m.take(&format!("{prefix}/weight"), &[out, inp, 3])?;
        Ok(Conv {
            weight: matrix(w, out, inp * 3)?,
            bias: Array1::from(m.take(&format!("{prefix}/bias"), &[out])?),
            stride,
        })
    }

    /// `x` is `[time, channels]`; returns GELU(conv(x)) as `[time / stride, out]`.
    fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let (t_in, c_in) = x.dim();
        let t_out = (t_in + 2 - 3) / self.stride + 1;
        // Column c * 3 + k holds x[t * stride + k - 1, c], matching the [out, in, k] weights.
        let mut cols = Array2::<f32>::zeros((t_out, c_in * 3));
        for (t, mut row) in cols.axis_iter_mut(Axis(0)).enumerate() {
            for k in 0..3 {
                let Some(src) = (t * self.stride + k).checked_sub(1).filter(|&i| i < t_in) else {
                    continue;
                };
                row.slice_axis_mut(Axis(0), Slice::new(k as isize, None, 3))
                    .assign(&x.row(src));
            }
        }
        let mut y = cols.dot(&self.weight.t());
        y += &self.bias;
        y.mapv_inplace(gelu);
        y
    }
}

/// The audio encoder: two convolutions, sinusoidal positions, pre-norm transformer layers.
pub(crate) struct Encoder {
    conv1: Conv,
    conv2: Conv,
    positions: Array2<f32>,
    layers: Vec<(SelfAttention, FeedForward)>,
    norm: LayerNorm,
    heads: usize,
}

/// The text decoder with learned positions and tied output embedding.
pub(crate) struct Decoder {
    embeddings: Array2<f32>,
    positions: Array2<f32>,
    layers: Vec<DecoderLayer>,
    norm: LayerNorm,
    heads: usize,
}

struct DecoderLayer {
    self_attn: SelfAttention,
    cross_norm: LayerNorm,
    cross_q: Linear,
    cross_kv: Linear,
    cross_out: Linear,
    ffn: FeedForward,
}

/// Per-utterance decoder state: cross-attention keys/values and the self-attention cache.
pub(crate) struct DecoderState {
    cross: Vec<(Array2<f32>, Array2<f32>)>,
    keys: Vec<Array2<f32>>,
    values: Vec<Array2<f32>>,
    len: usize,
}

fn count_layers(m: &Ct2Model, prefix: &str) -> usize {
    (0..)
        .take_while(|i| {
            m.shape(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))
                .is_some()
        })
        .count()
}

/// Loads both halves of the model.
pub(crate) fn load(m: &mut Ct2Model) -> Result<(Dims, Encoder, Decoder), SpeechError> {
    let missing = |what: &str| SpeechError::Model(format!("cannot determine {what}"));
    let conv1 = m
        .shape("encoder/conv1/weight")
        .ok_or_else(|| missing("mel bands"))?
        .to_vec();
    let (d, n_mels) = match conv1.as_slice() {
        [d, n_mels, 3] => (*d, *n_mels),
        _ => return Err(missing("encoder width")),
    };
    let audio_ctx = m
        .shape("encoder/position_encodings/encodings")
        .and_then(|s| s.first().copied())
        .ok_or_else(|| missing("audio context"))?;
    let (vocab, text_ctx) = match (
        m.shape("decoder/embeddings/weight"),
        m.shape("decoder/position_encodings/encodings"),
    ) {
        (Some([v, _]), Some([t, _])) => (*v, *t),
        _ => return Err(missing("vocabulary size")),
    };
    let heads = m.scalar("encoder/num_heads").map_or(d / 64, |h| h as usize);
    let dec_heads = m.scalar("decoder/num_heads").map_or(heads, |h| h as usize);
    if heads == 0 || d % heads != 0 || dec_heads == 0 || d % dec_heads != 0 {
        return Err(missing("attention heads"));
    }
    let dims = Dims {
        n_mels,
        d_model: d,
        vocab,
        text_ctx,
    };

    let enc_layers = count_layers(m, "encoder");
    let mut layers = Vec::with_capacity(enc_layers);
    for i in 0..enc_layers {
        let p = format!("encoder/layer_{i}");
        layers.push((
            SelfAttention::load(m, &format!("{p}/self_attention"), d)?,
            FeedForward::load(m, &format!("{p}/ffn"), d)?,
        ));
    }
    let encoder = Encoder {
        conv1: Conv::load(m, "encoder/conv1", d, n_mels, 1)?,
        conv2: Conv::load(m, "encoder/conv2", d, d, 2)?,
        positions: matrix(
            m.take("encoder/position_encodings/encodings", &[audio_ctx, d])?,
            audio_ctx,
            d,
        )?,
        layers,
        norm: LayerNorm::load(m, "encoder/layer_norm", d)?,
        heads,
    };

    let dec_layers = count_layers(m, "decoder");
    let mut layers = Vec::with_capacity(dec_layers);
    for i in 0..dec_layers {
        let p = format!("decoder/layer_{i}");
        layers.push(DecoderLayer {
            self_attn: SelfAttention::load(m, &format!("{p}/self_attention"), d)?,
            cross_norm: LayerNorm::load(m, &format!("{p}/attention/layer_norm"), d)?,
            cross_q: Linear::load(m, &format!("{p}/attention/linear_0"), d, d)?,
            cross_kv: Linear::load(m, &format!("{p}/attention/linear_1"), 2 * d, d)?,
            cross_out: Linear::load(m, &format!("{p}/attention/linear_2"), d, d)?,
            ffn: FeedForward::load(m, &format!("{p}/ffn"), d)?,
        });
    }
    let decoder = Decoder {
        embeddings: matrix(m.take("decoder/embeddings/weight", &[vocab, d])?, vocab, d)?,
        positions: matrix(
            m.take("decoder/position_encodings/encodings", &[text_ctx, d])?,
            text_ctx,
            d,
        )?,
        layers,
        norm: LayerNorm::load(m, "decoder/layer_norm", d)?,
        heads: dec_heads,
    };
    Ok((dims, encoder, decoder))
}

impl Encoder {
    /// Encodes mel features `[n_mels, frames]` into `[frames / 2, d]` audio features.
    pub fn forward(&self, mel: ArrayView2<f32>) -> Array2<f32> {
        let x = self.conv1.forward(mel.t());
        let x = self.conv2.forward(x.view());
        let frames = x.nrows().min(self.positions.nrows());
        let mut x = x.slice_axis(Axis(0), Slice::from(..frames)).to_owned();
        x += &self.positions.slice_axis(Axis(0), Slice::from(..frames));
        for (attn, ffn) in &self.layers {
            let h = attn.qkv.forward(attn.norm.forward(x.view()).view());
            let d = x.ncols();
            let h = h.view();
            let a = attention(
                cols(h, 0..d),
                cols(h, d..2 * d),
                cols(h, 2 * d..3 * d),
                self.heads,
                None,
            );
            x += &attn.out.forward(a.view());
            x = ffn.residual(x);
        }
        self.norm.forward(x.view())
    }
}

impl Decoder {
    /// Precomputes cross-attention keys/values for one encoded utterance.
    pub fn start(&self, audio: ArrayView2<f32>) -> DecoderState {
        let d = audio.ncols();
        let cross = self
            .layers
            .iter()
            .map(|l| {
                let kv = l.cross_kv.forward(audio);
                let kv = kv.view();
                (cols(kv, 0..d).to_owned(), cols(kv, d..2 * d).to_owned())
            })
            .collect();
        let empty = || Array2::<f32>::zeros((self.positions.nrows(), d));
        DecoderState {
            cross,
            keys: self.layers.iter().map(|_| empty()).collect(),
            values: self.layers.iter().map(|_| empty()).collect(),
            len: 0,
        }
    }

    /// Feeds `tokens` after those already in `state`; returns final-norm hidden states `[n, d]`.
    pub fn forward(
        &self,
        state: &mut DecoderState,
        tokens: &[u32],
    ) -> Result<Array2<f32>, SpeechError> {
        let past = state.len;
        let end = past + tokens.len();
        if end > self.positions.nrows() {
            return Err(SpeechError::Model("decoder context exhausted".into()));
        }
        let d = self.embeddings.ncols();
        let mut x = Array2::<f32>::zeros((tokens.len(), d));
        for (i, &t) in tokens.iter().enumerate() {
            let row = ((t as usize) < self.embeddings.nrows())
                .then(|| self.embeddings.row(t as usize))
                .ok_or_else(|| SpeechError::Model(format!("token {t} outside the vocabulary")))?;
            x.row_mut(i).assign(&(&row + &self.positions.row(past + i)));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let sa = &layer.self_attn;
            let h = sa.qkv.forward(sa.norm.forward(x.view()).view());
            let h = h.view();
            let new = Slice::from(past..end);
            state.keys[i]
                .slice_axis_mut(Axis(0), new)
                .assign(&cols(h, d..2 * d));
            state.values[i]
                .slice_axis_mut(Axis(0), new)
                .assign(&cols(h, 2 * d..3 * d));
            let seen = Slice::from(..end);
            let a = attention(
                cols(h, 0..d),
                state.keys[i].slice_axis(Axis(0), seen),
                state.values[i].slice_axis(Axis(0), seen),
                self.heads,
                Some(past),
            );
            x += &sa.out.forward(a.view());

            let q = layer
                .cross_q
                .forward(layer.cross_norm.forward(x.view()).view());
            let (k, v) = &state.cross[i];
            let a = attention(q.view(), k.view(), v.view(), self.heads, None);
            x += &layer.cross_out.forward(a.view());
            x = layer.ffn.residual(x);
        }
        state.len = end;
        Ok(self.norm.forward(x.view()))
    }

    /// Vocabulary logits for one hidden state (output projection tied to the embeddings).
    pub fn logits(&self, hidden: ArrayView1<f32>) -> Array1<f32> {
        self.embeddings.dot(&hidden)
    }
}
