//! Building blocks of the Whisper transformer on `ndarray` (matrix products via `matrixmultiply`).
//!
//! Activations are row-major `[positions, features]`; weights keep CTranslate2's `[out, in]`
//! layout and are used transposed, which the matrix product handles through strides.

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};

use super::ct2::Ct2Model;
use crate::error::SpeechError;

/// Whisper's layer-norm epsilon.
const LN_EPS: f32 = 1e-5;

/// A dense layer `y = x Wᵀ + b`.
pub(crate) struct Linear {
    weight: Array2<f32>,
    bias: Option<Array1<f32>>,
}

impl Linear {
    /// Loads `{prefix}/weight` `[out, in]` and, if present, `{prefix}/bias`.
    pub fn load(
        m: &mut Ct2Model,
        prefix: &str,
        out: usize,
        inp: usize,
    ) -> Result<Linear, SpeechError> {
        let weight = matrix(m.take(&format!("{prefix}/weight"), &[out, inp])?, out, inp)?;
        let bias_name = format!("{prefix}/bias");
        let bias = match m.shape(&bias_name) {
            Some(_) => Some(Array1::from(m.take(&bias_name, &[out])?)),
            None => None,
        };
        Ok(Linear { weight, bias })
    }

    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut y = x.dot(&self.weight.t());
        if let Some(b) = &self.bias {
            y += b;
        }
        y
    }
}

/// Layer normalisation over the feature axis.
pub(crate) struct LayerNorm {
    gamma: Array1<f32>,
    beta: Array1<f32>,
}

impl LayerNorm {
    pub fn load(m: &mut Ct2Model, prefix: &str, dim: usize) -> Result<LayerNorm, SpeechError> {
        Ok(LayerNorm {
            gamma: Array1::from(m.take(&format!("{prefix}/gamma"), &[dim])?),
            beta: Array1::from(m.take(&format!("{prefix}/beta"), &[dim])?),
        })
    }

    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut y = x.to_owned();
        let n = x.ncols().max(1) as f32;
        for mut row in y.rows_mut() {
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
        y
    }
}

/// Two-layer GELU feed-forward block with its pre-norm.
pub(crate) struct FeedForward {
    norm: LayerNorm,
    up: Linear,
    down: Linear,
}

impl FeedForward {
    pub fn load(m: &mut Ct2Model, prefix: &str, dim: usize) -> Result<FeedForward, SpeechError> {
        let hidden = m
            .shape(&format!("{prefix}/linear_0/weight"))
            .and_then(|s| s.first().copied())
            .ok_or_else(|| SpeechError::Model(format!("missing {prefix}/linear_0")))?;
        Ok(FeedForward {
            norm: LayerNorm::load(m, &format!("{prefix}/layer_norm"), dim)?,
            up: Linear::load(m, &format!("{prefix}/linear_0"), hidden, dim)?,
            down: Linear::load(m, &format!("{prefix}/linear_1"), dim, hidden)?,
        })
    }

    /// Returns `x + FFN(LN(x))`.
    pub fn residual(&self, x: Array2<f32>) -> Array2<f32> {
        let mut h = self.up.forward(self.norm.forward(x.view()).view());
        h.mapv_inplace(gelu);
        x + self.down.forward(h.view())
    }
}

/// Multi-head scaled dot-product attention.
///
/// `q` is `[n, d]`, `k`/`v` are `[m, d]`. With `causal = Some(p)` query `i` sits at absolute
/// position `p + i` and only sees keys `0..=p + i` (keys are the cache plus the new positions).
pub(crate) fn attention(
    q: ArrayView2<f32>,
    k: ArrayView2<f32>,
    v: ArrayView2<f32>,
    heads: usize,
    causal: Option<usize>,
) -> Array2<f32> {
    let (n, d) = q.dim();
    let dh = d / heads.max(1);
    let scale = 1.0 / (dh as f32).sqrt();
    let mut out = Array2::<f32>::zeros((n, d));
    for h in 0..heads {
        let cols = Slice::from(h * dh..(h + 1) * dh);
        let mut scores = q
            .slice_axis(Axis(1), cols)
            .dot(&k.slice_axis(Axis(1), cols).t());
        scores *= scale;
        if let Some(past) = causal {
            for (i, mut row) in scores.axis_iter_mut(Axis(0)).enumerate() {
                let visible = (past + i + 1).min(row.len());
                row.slice_axis_mut(Axis(0), Slice::from(visible..))
                    .fill(f32::NEG_INFINITY);
            }
        }
        softmax_rows(&mut scores);
        ndarray::linalg::general_mat_mul(
            1.0,
            &scores,
            &v.slice_axis(Axis(1), cols),
            0.0,
            &mut out.slice_axis_mut(Axis(1), cols),
        );
    }
    out
}

/// In-place softmax over each row.
pub(crate) fn softmax_rows(x: &mut Array2<f32>) {
    for mut row in x.rows_mut() {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        match row.as_slice_mut() {
            Some(values) => {
                // Plain loops over a slice so the compiler vectorises `fast_exp`.
                for v in values.iter_mut() {
                    *v = fast_exp(*v - max);
                }
                let sum: f32 = values.iter().sum();
                let inv = 1.0 / sum;
                for v in values.iter_mut() {
                    *v *= inv;
                }
            }
            None => {
                row.mapv_inplace(|v| fast_exp(v - max));
                let sum = row.sum();
                row /= sum;
            }
        }
    }
}

/// `e^x` to about 3e-6 relative error, branch-free so loops over it vectorise; the encoder's
/// attention takes tens of millions of exponentials per window and `f32::exp` is a scalar call.
pub(crate) fn fast_exp(x: f32) -> f32 {
    // e^x = 2^n · 2^f with n = round(x·log2 e) and |f| <= 1/2; 2^f by a degree-6 polynomial.
    let clamped = x.clamp(-87.0, 88.0);
    let t = clamped * std::f32::consts::LOG2_E;
    let n = t.round();
    let f = t - n;
    // Plain multiply-add: `mul_add` is a library call unless FMA is enabled at compile time.
    let p = 1.535_336_2e-4_f32;
    let p = p * f + 1.339_887_4e-3;
    let p = p * f + 9.618_437e-3;
    let p = p * f + 5.550_332_5e-2;
    let p = p * f + 2.402_264_8e-1;
    let p = p * f + 6.931_472e-1;
    let p = p * f + 1.0;
    // n is in [-126, 127] after the clamp, so the exponent field stays valid.
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    // Masked attention scores are -inf and must give exactly 0 (a select, still vectorisable).
    if x < -87.0 { 0.0 } else { p * scale }
}

/// Columns `range` of a matrix (the `s!` macro cannot be used under `forbid(unsafe_code)`).
pub(crate) fn cols<'a>(
    x: ArrayView2<'a, f32>,
    range: std::ops::Range<usize>,
) -> ArrayView2<'a, f32> {
    x.slice_axis_move(Axis(1), Slice::from(range))
}

/// Builds a matrix from row-major data.
pub(crate) fn matrix(data: Vec<f32>, rows: usize, cols: usize) -> Result<Array2<f32>, SpeechError> {
    Array2::from_shape_vec((rows, cols), data).map_err(|e| SpeechError::Model(e.to_string()))
}

/// Exact (erf-based) GELU, as Whisper uses.
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below f32 resolution of the GELU output).
fn erf(x: f32) -> f32 {
    let sign = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    sign * (1.0 - poly * fast_exp(-x * x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_exp() {
        for i in -2000..=800 {
            let x = i as f32 * 0.1;
            let (fast, exact) = (fast_exp(x), x.exp());
            assert!(
                (fast - exact).abs() <= exact * 1e-5 + 1e-37,
                "exp({x}): {fast} vs {exact}"
            );
        }
    }

    #[test]
    fn gelu_reference_values() {
        // torch.nn.functional.gelu(torch.tensor([-1.0, 0.5, 2.0]))
        for (x, y) in [(-1.0, -0.158_655_3), (0.5, 0.345_731_1), (2.0, 1.954_5)] {
            assert!((gelu(x) - y).abs() < 1e-5, "gelu({x}) = {}", gelu(x));
        }
    }
}
