//! Whisper's log-mel spectrogram: 25 ms Hann windows every 10 ms, 80 Slaney mel bands.
//!
//! This reproduces `whisper.audio.log_mel_spectrogram` (torch STFT with centre reflect padding,
//! librosa's Slaney-normalised mel filters, log10 clamped to 8 decades below the peak, scaled to
//! roughly [-1, 1]) so the model sees the features it was trained on.

use std::f64::consts::PI;
use std::sync::Arc;

use ndarray::Array2;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Samples per analysis window.
pub const N_FFT: usize = 400;
/// Samples between windows.
pub const HOP: usize = 160;
/// Samples in one 30 s model input.
pub const N_SAMPLES: usize = 480_000;
/// Frames in one model input.
pub const N_FRAMES: usize = N_SAMPLES / HOP;

/// Precomputed window, filters and FFT plan.
pub struct MelExtractor {
    n_mels: usize,
    window: Vec<f32>,
    /// `[n_mels, N_FFT / 2 + 1]`
    filters: Array2<f32>,
    fft: Arc<dyn Fft<f32>>,
}

impl MelExtractor {
    /// Builds the extractor for `n_mels` bands at 16 kHz.
    pub fn new(n_mels: usize) -> MelExtractor {
        // Periodic Hann, as torch.hann_window.
        let window = (0..N_FFT)
            .map(|n| (0.5 - 0.5 * (2.0 * PI * n as f64 / N_FFT as f64).cos()) as f32)
            .collect();
        MelExtractor {
            n_mels,
            window,
            filters: mel_filters(16_000.0, N_FFT, n_mels),
            fft: FftPlanner::new().plan_fft_forward(N_FFT),
        }
    }

    /// Features `[n_mels, N_FRAMES]` for up to 30 s of audio, zero-padded to 30 s.
    pub fn compute(&self, samples: &[f32]) -> Array2<f32> {
        let pad = N_FFT / 2;
        let mut padded = vec![0.0f32; N_SAMPLES + 2 * pad];
        let len = samples.len().min(N_SAMPLES);
        padded[pad..pad + len].copy_from_slice(&samples[..len]);
        // Reflect padding at the start (the end reflects zero padding, i.e. stays zero).
        for i in 0..pad {
            padded[pad - 1 - i] = padded[pad + 1 + i];
        }
        let bins = N_FFT / 2 + 1;
        let mut power = Array2::<f32>::zeros((N_FRAMES, bins));
        let mut buffer = vec![Complex::new(0.0f32, 0.0); N_FFT];
        let mut scratch = vec![Complex::new(0.0f32, 0.0); self.fft.get_inplace_scratch_len()];
        for (frame, mut row) in power.rows_mut().into_iter().enumerate() {
            let start = frame * HOP;
            for ((b, x), w) in buffer
                .iter_mut()
                .zip(&padded[start..start + N_FFT])
                .zip(&self.window)
            {
                *b = Complex::new(x * w, 0.0);
            }
            self.fft.process_with_scratch(&mut buffer, &mut scratch);
            for (p, c) in row.iter_mut().zip(&buffer) {
                *p = c.norm_sqr();
            }
        }
        // [n_mels, bins] x [bins, frames]
        let mut mel = self.filters.dot(&power.t());
        mel.mapv_inplace(|v| v.max(1e-10).log10());
        let peak = mel.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        mel.mapv_inplace(|v| (v.max(peak - 8.0) + 4.0) / 4.0);
        debug_assert_eq!(mel.dim(), (self.n_mels, N_FRAMES));
        mel
    }
}

/// librosa.filters.mel(sr, n_fft, n_mels) with the Slaney mel scale and area normalisation.
fn mel_filters(sample_rate: f64, n_fft: usize, n_mels: usize) -> Array2<f32> {
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|i| i as f64 * sample_rate / n_fft as f64)
        .collect();
    let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(min_mel + (max_mel - min_mel) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut filters = Array2::<f32>::zeros((n_mels, bins));
    for m in 0..n_mels {
        let (lo, centre, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let rising = (f - lo) / (centre - lo);
            let falling = (hi - f) / (hi - centre);
            filters[(m, k)] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    filters
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_librosa() {
        let f = mel_filters(16_000.0, 400, 80);
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)[0, 1] and [79, 190].
        assert!((f[(0, 1)] - 0.024_862_4).abs() < 1e-5, "{}", f[(0, 1)]);
        assert!(f.row(79).iter().all(|v| v.is_finite()));
        assert!(f.sum() > 0.0);
    }
}
