//! Signal generators, measurements and WAV/G.711 writers shared by the tests.

use std::f32::consts::PI;
use std::path::Path;

pub fn sine(freq: f32, rate: u32, seconds: f32, amplitude: f32) -> Vec<f32> {
    let n = (rate as f32 * seconds) as usize;
    (0..n)
        .map(|i| amplitude * (2.0 * PI * freq * i as f32 / rate as f32).sin())
        .collect()
}

/// (frequency from positive-going zero crossings, peak amplitude from RMS) over the middle half.
pub fn measure(samples: &[f32], rate: u32) -> (f32, f32) {
    let mid = &samples[samples.len() / 4..3 * samples.len() / 4];
    let crossings = mid.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
    let freq = crossings as f32 * rate as f32 / mid.len() as f32;
    let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
    (freq, rms * 2f32.sqrt())
}

pub fn assert_tone(samples: &[f32], rate: u32, freq: f32, amplitude: f32, what: &str) {
    let (f, a) = measure(samples, rate);
    assert!(
        (f - freq).abs() < freq * 0.02,
        "{what}: frequency {f}, expected {freq}"
    );
    assert!(
        (a - amplitude).abs() < 0.05,
        "{what}: amplitude {a}, expected {amplitude}"
    );
}

/// A RIFF/WAVE file with a plain 16-byte `fmt ` chunk.
pub fn wav(format_tag: u16, bits: u16, channels: u16, rate: u32, data: &[u8]) -> Vec<u8> {
    wav_with(format_tag, bits, channels, rate, data, false)
}

/// With `extended`, the `fmt ` chunk has the 18-byte form and a `fact` chunk follows, as
/// writers of non-PCM WAV (sox, Windows) produce.
pub fn wav_with(
    format_tag: u16,
    bits: u16,
    channels: u16,
    rate: u32,
    data: &[u8],
    extended: bool,
) -> Vec<u8> {
    let block = channels * bits.div_ceil(8);
    let extra: u32 = if extended { 2 + 12 } else { 0 };
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + extra + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&(if extended { 18u32 } else { 16 }).to_le_bytes());
    out.extend_from_slice(&format_tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    if extended {
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32 / u32::from(block)).to_le_bytes());
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

pub fn pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

/// ITU-T G.711 µ-law compression of one sample.
pub fn mulaw(sample: f32) -> u8 {
    let x = (sample * 32767.0).round() as i32;
    let sign = if x < 0 { 0x80 } else { 0 };
    let magnitude = (x.abs().min(32635) + 0x84) as u32;
    let exponent = (31 - magnitude.leading_zeros()).saturating_sub(7).min(7);
    let mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// ITU-T G.711 A-law compression of one sample.
pub fn alaw(sample: f32) -> u8 {
    let x = ((sample * 32767.0).round() as i32) >> 3;
    let (sign, magnitude) = if x >= 0 { (0x80u8, x) } else { (0, -x - 1) };
    let magnitude = magnitude.min(0xfff) as u32;
    let byte = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        let exponent = 31 - magnitude.leading_zeros() - 4;
        ((exponent << 4) | ((magnitude >> exponent) & 0x0f)) as u8
    };
    (sign | byte) ^ 0x55
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
