//! Integration tests: decoding every supported format, resampling, hostile input, chunked and
//! per-channel transcription, and word error rate of the Whisper engine on the shared corpus.
//!
//! Model tests need `COMMLOG_MODELS_DIR` pointing at a directory containing `whisper-tiny.en/`;
//! without it they print why they are skipped and pass. The corpus is found through
//! `COMMLOG_CORPORA` or by walking up from the crate to a `shared/corpora` directory. Run them with
//! `--release`: inference in an unoptimised build is many times slower.

#[path = "speech/decoding.rs"]
mod decoding;
#[path = "speech/orchestration.rs"]
mod orchestration;
#[path = "speech/support.rs"]
mod support;
#[path = "speech/whisper.rs"]
mod whisper;
