//! Band-limited resampling with a Kaiser-windowed sinc kernel.
//!
//! Linear interpolation would fold everything above the new Nyquist frequency back into the
//! speech band (and dull the highs when upsampling); a windowed sinc low-pass at the lower of the
//! two Nyquist frequencies avoids both. The kernel is tabulated finely once per call and read with
//! linear interpolation, which works for any pair of rates (8 k, 11.025 k, 44.1 k, 48 k, …).

use std::f64::consts::PI;

/// Zero crossings of the sinc on each side: ~80 dB stop-band with the Kaiser window below.
const ZERO_CROSSINGS: f64 = 16.0;
/// Kaiser window shape parameter.
const KAISER_BETA: f64 = 8.0;
/// Table entries per input sample of kernel offset.
const TABLE_RESOLUTION: usize = 512;
/// Fraction of the lower Nyquist frequency kept: leaves room for the transition band.
const ROLL_OFF: f64 = 0.94;

/// Resamples one channel from `from_rate` to `to_rate` Hz.
///
/// The output has `ceil(len * to_rate / from_rate)` samples and is aligned with the input
/// (output sample `n` is the signal at time `n / to_rate`).
pub fn resample(input: &[f32], from_rate: u32, to_rate: u32) -> Vec<f32> {
    if from_rate == to_rate || input.is_empty() || from_rate == 0 || to_rate == 0 {
        return input.to_vec();
    }
    let (from, to) = (u64::from(from_rate), u64::from(to_rate));
    // Cut-off as a fraction of the input Nyquist frequency.
    let cutoff = ROLL_OFF * (to as f64 / from as f64).min(1.0);
    // Kernel half-width in input samples: wider when downsampling (narrower pass band).
    let half_width = ZERO_CROSSINGS / cutoff;
    let table = kernel_table(cutoff, half_width);
    let reach = half_width.ceil() as i64;
    let out_len = (input.len() as u64 * to).div_ceil(from) as usize;
    let len = input.len() as i64;
    let mut output = Vec::with_capacity(out_len);
    for n in 0..out_len as u64 {
        // Exact position in input samples, split into integer and fraction to avoid drift.
        let numerator = n * from;
        let base = (numerator / to) as i64;
        let frac = (numerator % to) as f64 / to as f64;
        let first = (base - reach + 1).max(0);
        let last = (base + reach).min(len - 1);
        let mut acc = 0.0f64;
        for k in first..=last {
            let distance = ((k - base) as f64 - frac).abs();
            if let Some(sample) = input.get(k as usize) {
                acc += f64::from(*sample) * lookup(&table, distance);
            }
        }
        output.push(acc as f32);
    }
    output
}

/// Kernel values at offsets `0, 1/R, 2/R, …, half_width` input samples.
fn kernel_table(cutoff: f64, half_width: f64) -> Vec<f64> {
    let entries = (half_width * TABLE_RESOLUTION as f64).ceil() as usize + 2;
    let norm = bessel_i0(KAISER_BETA);
    (0..entries)
        .map(|i| {
            let x = i as f64 / TABLE_RESOLUTION as f64;
            if x >= half_width {
                return 0.0;
            }
            let r = x / half_width;
            let window = bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm;
            cutoff * sinc(cutoff * x) * window
        })
        .collect()
}

fn lookup(table: &[f64], distance: f64) -> f64 {
    let position = distance * TABLE_RESOLUTION as f64;
    let index = position as usize;
    let t = position - index as f64;
    match (table.get(index), table.get(index + 1)) {
        (Some(a), Some(b)) => a + (b - a) * t,
        _ => 0.0,
    }
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast here).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    #[test]
    fn dc_gain_is_unity() {
        let out = resample(&vec![0.25; 4410], 44_100, 16_000);
        let mid = &out[out.len() / 4..3 * out.len() / 4];
        assert!(
            mid.iter().all(|v| (v - 0.25).abs() < 1e-3),
            "{:?}",
            &mid[..4]
        );
    }

    #[test]
    fn removes_content_above_new_nyquist() {
        // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz without filtering.
        let out = resample(&sine(12_000.0, 48_000, 0.5), 48_000, 16_000);
        let mid = &out[800..out.len() - 800];
        let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
        assert!(rms < 1e-3, "aliased energy, rms {rms}");
    }
}
