//! The local models processing runs on, loaded on first use and kept for the life of the
//! process: loading Whisper or MiniLM takes about a second, running them far less.

use commlog_embed::EmbeddingSentiment;
use commlog_speech::WhisperEngine;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where models are installed, and the ones loaded so far.
pub struct Engines {
    models_dir: Option<PathBuf>,
    whisper: Mutex<HashMap<String, Arc<WhisperEngine>>>,
    /// The MiniLM embedder with Commlog's sentiment head (categorisation uses its embedder).
    embedding: Mutex<Option<Arc<EmbeddingSentiment>>>,
}

impl Engines {
    /// `models_dir`: where `commlog models install` put the models (`None`: no local models).
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Self {
            models_dir,
            whisper: Mutex::new(HashMap::new()),
            embedding: Mutex::new(None),
        }
    }

    pub fn models_dir(&self) -> Option<&PathBuf> {
        self.models_dir.as_ref()
    }

    /// The local Whisper model `name`, or why it cannot run.
    pub fn whisper(&self, name: &str) -> Result<Arc<WhisperEngine>, String> {
        let mut loaded = self.whisper.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(engine) = loaded.get(name) {
            return Ok(engine.clone());
        }
        let dir = self.model_dir(name).ok_or_else(|| {
            format!("the model {name} is not installed (commlog models install {name})")
        })?;
        let engine =
            Arc::new(WhisperEngine::load(&dir).map_err(|e| format!("loading {name}: {e}"))?);
        loaded.insert(name.to_owned(), engine.clone());
        Ok(engine)
    }

    /// The sentence embedder with its sentiment head, or why it cannot run.
    pub fn embedding(&self) -> Result<Arc<EmbeddingSentiment>, String> {
        let mut loaded = self.embedding.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = loaded.as_ref() {
            return Ok(e.clone());
        }
        let name = commlog_embed::MINILM_DIR_NAME;
        let dir = self.model_dir(name).ok_or_else(|| {
            format!("the model {name} is not installed (commlog models install {name})")
        })?;
        let engine =
            Arc::new(EmbeddingSentiment::load(&dir).map_err(|e| format!("loading {name}: {e}"))?);
        *loaded = Some(engine.clone());
        Ok(engine)
    }

    fn model_dir(&self, name: &str) -> Option<PathBuf> {
        let dir = self.models_dir.as_ref()?.join(name);
        dir.is_dir().then_some(dir)
    }
}
