//! Offline speech-to-text for Commlog.
//!
//! The pipeline is: [`decode`] turns a recording (WAV incl. G.711, raw µ-law/A-law, AU, MP3, FLAC,
//! Ogg/Vorbis) into 16 kHz per-channel samples; [`transcribe`] cuts each channel at silences into
//! pieces the engine can handle and asks a [`Transcriber`] for timed segments, which come back with
//! absolute timestamps and, for stereo calls, the channel (speaker side) they were heard on.
//!
//! The bundled engine is [`WhisperEngine`] (feature `whisper`): Whisper models in CTranslate2 format,
//! run on the CPU in plain Rust, so no native library or network access is needed at run time.
#![forbid(unsafe_code)]

pub mod audio;
pub mod chunk;
mod error;
pub mod eval;
mod transcript;
#[cfg(feature = "whisper")]
pub mod whisper;

pub use audio::{Audio, Limits, TARGET_SAMPLE_RATE, decode, decode_with_limits};
pub use error::SpeechError;
pub use transcript::{Segment, Transcriber, Transcript, transcribe};
#[cfg(feature = "whisper")]
pub use whisper::WhisperEngine;
