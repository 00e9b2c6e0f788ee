//! Transcripts, the engine trait and the channel/chunk orchestration around it.

use serde::{Deserialize, Serialize};

use crate::audio::{Audio, TARGET_SAMPLE_RATE};
use crate::chunk::{MAX_CHUNK_SECONDS, split_at_silences};
use crate::error::SpeechError;

/// One timed piece of recognised speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, in seconds from the beginning of the recording.
    pub start: f64,
    /// End, in seconds from the beginning of the recording.
    pub end: f64,
    /// Recognised text, trimmed.
    pub text: String,
    /// Channel the speech was heard on, for multi-channel recordings (0 = left); `None` for mono.
    pub channel: Option<usize>,
}

/// The result of transcribing a recording (or, from an engine, one mono piece of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Segments in time order.
    pub segments: Vec<Segment>,
    /// Spoken language as an ISO 639-1 code (`"en"`), when the engine knows it.
    pub language: Option<String>,
}

impl Transcript {
    /// The whole text: segment texts in time order, separated by single spaces.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .segments
            .iter()
            .map(|s| s.text.trim())
            .filter(|t| !t.is_empty())
            .collect();
        parts.join(" ")
    }
}

/// A speech recognition engine working on one channel of 16 kHz audio at a time.
///
/// Implementations are synchronous and CPU-bound; async callers should run them on a blocking
/// thread. The input is at most [`MAX_CHUNK_SECONDS`] long when it comes through [`transcribe`].
pub trait Transcriber: Send + Sync {
    /// Engine name, recorded with stored transcripts (e.g. `"whisper"`).
    fn engine(&self) -> &str;
    /// Model/version string, recorded with stored transcripts (e.g. `"tiny.en"`).
    fn version(&self) -> &str;
    /// Transcribes mono 16 kHz samples; segment times are relative to the start of `samples_16k`
    /// and `channel` is left `None` (the caller fills it in).
    fn transcribe_mono(&self, samples_16k: &[f32]) -> Result<Transcript, SpeechError>;
}

/// Transcribes a whole decoded recording.
///
/// Each channel is transcribed on its own (on a call recording the two sides are usually the two
/// parties), cut at silences into pieces of at most [`MAX_CHUNK_SECONDS`]; the segments get absolute
/// times and their channel index (only when there is more than one channel) and are merged in time
/// order. The language is the one the engine reported for the most audio.
pub fn transcribe(engine: &dyn Transcriber, audio: &Audio) -> Result<Transcript, SpeechError> {
    if audio.sample_rate != TARGET_SAMPLE_RATE {
        return Err(SpeechError::UnsupportedFormat(format!(
            "transcription needs {TARGET_SAMPLE_RATE} Hz audio, got {} Hz",
            audio.sample_rate
        )));
    }
    let multi = audio.channels.len() > 1;
    let mut segments = Vec::new();
    // (language, seconds of audio it was reported for)
    let mut languages: Vec<(String, f64)> = Vec::new();
    for (index, samples) in audio.channels.iter().enumerate() {
        for chunk in split_at_silences(samples, TARGET_SAMPLE_RATE, MAX_CHUNK_SECONDS) {
            let Some(piece) = samples.get(chunk.start..chunk.end) else {
                continue;
            };
            let offset = chunk.start as f64 / f64::from(TARGET_SAMPLE_RATE);
            let part = engine.transcribe_mono(piece)?;
            if let Some(lang) = part.language {
                let seconds = piece.len() as f64 / f64::from(TARGET_SAMPLE_RATE);
                match languages.iter_mut().find(|(l, _)| *l == lang) {
                    Some(entry) => entry.1 += seconds,
                    None => languages.push((lang, seconds)),
                }
            }
            segments.extend(part.segments.into_iter().map(|s| Segment {
                start: s.start + offset,
                end: s.end + offset,
                text: s.text,
                channel: multi.then_some(index),
            }));
        }
    }
    // Stable sort keeps each channel's own order for equal start times.
    segments.sort_by(|a, b| a.start.total_cmp(&b.start));
    let language = languages
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(l, _)| l);
    Ok(Transcript { segments, language })
}
