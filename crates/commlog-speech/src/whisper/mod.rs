//! The local Whisper engine: CTranslate2-format Whisper models run on the CPU in plain Rust.
//!
//! A model directory holds `model.bin` (weights, any float precision), `config.json` (token
//! suppression lists) and `vocabulary.txt`, as produced by CTranslate2's Whisper converter
//! (e.g. the `faster-whisper` model repositories). English-only (`*.en`) and multilingual models
//! are both supported; multilingual ones detect the language per 30 s window unless one is set.

mod ct2;
mod decode;
mod layers;
mod mel;
mod model;
mod tokens;

use std::path::Path;

use ndarray::Array1;
use serde::Deserialize;

use crate::audio::TARGET_SAMPLE_RATE;
use crate::chunk::{MAX_CHUNK_SECONDS, split_at_silences};
use crate::error::SpeechError;
use crate::transcript::{Segment, Transcriber, Transcript};
use decode::Rules;
use model::{Decoder, DecoderState, Dims, Encoder};
use tokens::Vocabulary;

/// Whisper skips a window as silence when the no-speech probability is above this and…
const NO_SPEECH_THRESHOLD: f32 = 0.6;
/// …the decoded text was this unlikely on average (log-probability per token).
const LOGPROB_THRESHOLD: f32 = -1.0;

/// The fields of `config.json` used here.
#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
}

/// A loaded Whisper model.
pub struct WhisperEngine {
    version: String,
    dims: Dims,
    mel: mel::MelExtractor,
    encoder: Encoder,
    decoder: Decoder,
    vocab: Vocabulary,
    rules: Rules,
    language: Option<String>,
}

impl WhisperEngine {
    /// Loads a model directory (`model.bin`, `config.json`, `vocabulary.txt`).
    pub fn load(dir: &Path) -> Result<WhisperEngine, SpeechError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| {
                SpeechError::Model(format!("cannot read {}: {e}", dir.join(name).display()))
            })
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| SpeechError::Model(format!("config.json: {e}")))?;
        let vocab_text = String::from_utf8(read("vocabulary.txt")?)
            .map_err(|_| SpeechError::Model("vocabulary.txt is not UTF-8".into()))?;
        let vocab = Vocabulary::parse(&vocab_text)?;
        let mut weights = ct2::Ct2Model::parse(&read("model.bin")?)?;
        if weights.spec != "WhisperSpec" {
            return Err(SpeechError::Model(format!(
                "{} is not a Whisper model",
                weights.spec
            )));
        }
        let (dims, encoder, decoder) = model::load(&mut weights)?;
        if dims.vocab < vocab.specials.timestamp_begin as usize {
            return Err(SpeechError::Model(
                "vocabulary does not match the weights".into(),
            ));
        }
        let size = match dims.d_model {
            384 => "tiny",
            512 => "base",
            768 => "small",
            1024 => "medium",
            1280 => "large",
            _ => "custom",
        };
        let version = if vocab.multilingual() {
            size.to_owned()
        } else {
            format!("{size}.en")
        };
        Ok(WhisperEngine {
            version,
            dims,
            mel: mel::MelExtractor::new(dims.n_mels),
            encoder,
            decoder,
            rules: Rules {
                suppress: config.suppress_ids,
                suppress_begin: config.suppress_ids_begin,
                max_tokens: dims.text_ctx / 2,
            },
            language: (!vocab.multilingual()).then(|| "en".to_owned()),
            vocab,
        })
    }

    /// Fixes the spoken language (ISO 639-1 code) instead of detecting it; `None` detects.
    /// English-only models accept only `"en"`.
    pub fn with_language(mut self, language: Option<&str>) -> Result<WhisperEngine, SpeechError> {
        match language {
            Some(code)
                if self.language_token(code).is_some()
                    || (!self.is_multilingual() && code == "en") =>
            {
                self.language = Some(code.to_owned());
            }
            Some(code) => {
                return Err(SpeechError::Model(format!(
                    "the model does not know language {code}"
                )));
            }
            None if self.is_multilingual() => self.language = None,
            None => {}
        }
        Ok(self)
    }

    /// Whether the model covers other languages than English.
    pub fn is_multilingual(&self) -> bool {
        self.vocab.multilingual()
    }

    fn language_token(&self, code: &str) -> Option<u32> {
        self.vocab
            .specials
            .languages
            .iter()
            .find(|(_, c)| c == code)
            .map(|(t, _)| *t)
    }

    /// Transcribes one window of at most 30 s; times are relative to the window start.
    fn transcribe_window(&self, samples: &[f32]) -> Result<Transcript, SpeechError> {
        let sp = &self.vocab.specials;
        let mel = self.mel.compute(samples);
        let audio = self.encoder.forward(mel.view());
        let mut state = self.decoder.start(audio.view());
        let at_sot = self.step(&mut state, &[sp.sot])?;
        let no_speech = sp
            .no_speech
            .and_then(|t| {
                decode::log_softmax(&at_sot)
                    .get(t as usize)
                    .map(|l| l.exp())
            })
            .unwrap_or(0.0);
        let (language, logits) = if self.is_multilingual() {
            let (language, token) = match &self.language {
                Some(code) => (code.clone(), self.language_token(code)),
                None => self.detect_language(&at_sot),
            };
            let mut prompt: Vec<u32> = token.into_iter().collect();
            prompt.extend(sp.transcribe);
            (language, self.step(&mut state, &prompt)?)
        } else {
            ("en".to_owned(), at_sot)
        };
        let decoded = decode::greedy(&self.decoder, &mut state, logits, sp, &self.rules)?;
        if no_speech > NO_SPEECH_THRESHOLD && decoded.avg_logprob < LOGPROB_THRESHOLD {
            return Ok(Transcript {
                segments: Vec::new(),
                language: Some(language),
            });
        }
        let duration = samples.len() as f64 / f64::from(TARGET_SAMPLE_RATE);
        Ok(Transcript {
            segments: decode::segments(&decoded.tokens, &self.vocab, duration),
            language: Some(language),
        })
    }

    /// Feeds tokens and returns the logits after the last one.
    fn step(&self, state: &mut DecoderState, tokens: &[u32]) -> Result<Array1<f32>, SpeechError> {
        let hidden = self.decoder.forward(state, tokens)?;
        let last = hidden
            .rows()
            .into_iter()
            .next_back()
            .ok_or_else(|| SpeechError::Model("empty decoder step".into()))?;
        Ok(self.decoder.logits(last))
    }

    /// The most likely language token after `<|startoftranscript|>`.
    fn detect_language(&self, logits: &Array1<f32>) -> (String, Option<u32>) {
        self.vocab
            .specials
            .languages
            .iter()
            .filter_map(|(t, code)| logits.get(*t as usize).map(|l| (*l, *t, code)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(
                ("en".to_owned(), self.language_token("en")),
                |(_, t, code)| (code.clone(), Some(t)),
            )
    }
}

impl Transcriber for WhisperEngine {
    fn engine(&self) -> &str {
        "whisper"
    }

    fn version(&self) -> &str {
        &self.version
    }

    /// Windows longer than 30 s (when called directly) are cut at silences first.
    fn transcribe_mono(&self, samples_16k: &[f32]) -> Result<Transcript, SpeechError> {
        let window = (MAX_CHUNK_SECONDS * f64::from(TARGET_SAMPLE_RATE)) as usize;
        if samples_16k.len() <= window {
            return self.transcribe_window(samples_16k);
        }
        let mut all = Transcript::default();
        for chunk in split_at_silences(samples_16k, TARGET_SAMPLE_RATE, MAX_CHUNK_SECONDS) {
            let Some(piece) = samples_16k.get(chunk.start..chunk.end) else {
                continue;
            };
            let offset = chunk.start as f64 / f64::from(TARGET_SAMPLE_RATE);
            let part = self.transcribe_window(piece)?;
            all.language = all.language.or(part.language);
            all.segments
                .extend(part.segments.into_iter().map(|s| Segment {
                    start: s.start + offset,
                    end: s.end + offset,
                    ..s
                }));
        }
        Ok(all)
    }
}

impl std::fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("version", &self.version)
            .field("dims", &self.dims)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}
