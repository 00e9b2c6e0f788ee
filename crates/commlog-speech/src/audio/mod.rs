//! Decoding recordings into 16 kHz per-channel samples.
//!
//! Containers and codecs are handled by `symphonia` (WAV with PCM/float/G.711/ADPCM, MP3, FLAC,
//! Ogg/Vorbis); headerless G.711 (`.ul`/`.al`, as telephony systems store it) and Sun AU are decoded
//! here. Everything is then resampled with a band-limited resampler to [`TARGET_SAMPLE_RATE`].

mod container;
mod g711;
mod limits;
mod resample;

pub use g711::{alaw_to_linear, mulaw_to_linear};
pub use limits::Limits;
pub use resample::resample;

use crate::error::SpeechError;

/// The sample rate [`decode`] delivers and the engines expect.
pub const TARGET_SAMPLE_RATE: u32 = 16_000;
/// Most channels accepted; more is not a call or voice recording.
pub const MAX_CHANNELS: usize = 8;

/// Decoded audio: one vector of samples in [-1, 1] per channel, all of the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// Per-channel samples (0 = left).
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        let frames = self.channels.first().map_or(0, Vec::len);
        frames as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Resamples every channel to `rate` (a no-op when it already is at that rate).
    pub fn resampled(self, rate: u32) -> Audio {
        if self.sample_rate == rate {
            return self;
        }
        let channels = self
            .channels
            .iter()
            .map(|c| resample(c, self.sample_rate, rate))
            .collect();
        Audio {
            sample_rate: rate,
            channels,
        }
    }
}

/// Decodes a recording and resamples it to 16 kHz, keeping channels separate.
///
/// `mime_hint` is the content type the recording came with, if any; it is needed for headerless
/// G.711 (`audio/basic`, `audio/PCMU`, `audio/x-mulaw`, `audio/PCMA`, `audio/x-alaw`, 8 kHz mono)
/// and helps format detection otherwise. Garbage, truncated-beyond-use or oversized inputs are
/// errors, never panics. The default [`Limits`] apply (4 hours, 2 GiB).
pub fn decode(bytes: &[u8], mime_hint: Option<&str>) -> Result<Audio, SpeechError> {
    decode_with_limits(bytes, mime_hint, &Limits::default())
}

/// [`decode`] with explicit size and duration limits.
pub fn decode_with_limits(
    bytes: &[u8],
    mime_hint: Option<&str>,
    limits: &Limits,
) -> Result<Audio, SpeechError> {
    if bytes.len() > limits.max_bytes {
        return Err(SpeechError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(SpeechError::EmptyAudio);
    }
    let mime = mime_hint.map(|m| {
        m.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let audio = if bytes.starts_with(b".snd") {
        g711::decode_au(bytes)?
    } else if let Some(law) = mime.as_deref().and_then(g711::Law::from_mime) {
        g711::decode_raw(bytes, law)
    } else if let Some(audio) = g711::decode_wav(bytes) {
        audio
    } else {
        container::decode(bytes, mime.as_deref(), limits)?
    };
    check(&audio, limits)?;
    Ok(audio.resampled(TARGET_SAMPLE_RATE))
}

/// Rejects decoded audio that is empty, too long or malformed.
fn check(audio: &Audio, limits: &Limits) -> Result<(), SpeechError> {
    let frames = audio.channels.first().map_or(0, Vec::len);
    if frames == 0 || audio.sample_rate == 0 {
        return Err(SpeechError::EmptyAudio);
    }
    if audio.channels.len() > MAX_CHANNELS {
        return Err(SpeechError::UnsupportedFormat(format!(
            "{} channels",
            audio.channels.len()
        )));
    }
    limits.check_frames(frames, audio.sample_rate)
}

/// Splits interleaved samples into per-channel vectors (a trailing partial frame is dropped).
pub(crate) fn deinterleave(interleaved: &[f32], channels: usize, out: &mut [Vec<f32>]) {
    if channels == 0 {
        return;
    }
    for frame in interleaved.chunks_exact(channels) {
        for (sample, channel) in frame.iter().zip(out.iter_mut()) {
            channel.push(*sample);
        }
    }
}
