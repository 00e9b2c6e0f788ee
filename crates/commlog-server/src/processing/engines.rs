//! What processing keeps between jobs: the local models, loaded on first use and kept for
//! the life of the process (loading Whisper or MiniLM takes about a second, running them far
//! less), and each company's PII context (its people's names, prepared for matching), read
//! again once a minute so new contacts are found without reading every name for every log.

use commlog_analysis::pii::PiiContext;
use commlog_embed::{EmbeddingSentiment, ExampleClassifier};
use commlog_speech::WhisperEngine;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a company's prepared PII context serves before it is read again.
const PII_CONTEXT_TTL: Duration = Duration::from_secs(60);

/// A company's categories told apart by their examples.
pub type CategoryClassifier = ExampleClassifier<Uuid>;

/// Where models are installed, and the ones loaded so far.
pub struct Engines {
    models_dir: Option<PathBuf>,
    whisper: Mutex<HashMap<String, Arc<WhisperEngine>>>,
    /// The MiniLM embedder with Commlog's sentiment head (categorisation uses its embedder).
    embedding: Mutex<Option<Arc<EmbeddingSentiment>>>,
    pii: Mutex<HashMap<Uuid, (Instant, Arc<PiiContext>)>>,
    /// Each company's example classifier, with the signature of the examples it was built
    /// from: rebuilt (every example embedded again) only when the examples change.
    classifiers: Mutex<HashMap<Uuid, (u64, Arc<CategoryClassifier>)>>,
}

impl Engines {
    /// `models_dir`: where `commlog models install` put the models (`None`: no local models).
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Self {
            models_dir,
            whisper: Mutex::new(HashMap::new()),
            embedding: Mutex::new(None),
            pii: Mutex::new(HashMap::new()),
            classifiers: Mutex::new(HashMap::new()),
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

    /// The company's PII context for `region`, when one was prepared in the last minute.
    pub fn pii_context(&self, company: Uuid, region: &str) -> Option<Arc<PiiContext>> {
        let cached = self.pii.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .get(&company)
            .filter(|(at, ctx)| at.elapsed() < PII_CONTEXT_TTL && ctx.default_region == region)
            .map(|(_, ctx)| ctx.clone())
    }

    /// Keeps a freshly prepared PII context for the company.
    pub fn keep_pii_context(&self, company: Uuid, ctx: PiiContext) -> Arc<PiiContext> {
        let ctx = Arc::new(ctx);
        self.pii
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(company, (Instant::now(), ctx.clone()));
        ctx
    }

    /// The company's example classifier for examples with this `signature`, built with
    /// `build` when there is none yet or the examples changed. Blocking: call it off the async
    /// threads.
    pub fn example_classifier(
        &self,
        company: Uuid,
        signature: u64,
        build: impl FnOnce() -> Option<CategoryClassifier>,
    ) -> Option<Arc<CategoryClassifier>> {
        let cached = self
            .classifiers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&company)
            .filter(|(sig, _)| *sig == signature)
            .map(|(_, c)| c.clone());
        if cached.is_some() {
            return cached;
        }
        // Built without the lock: other companies' jobs go on meanwhile.
        let built = Arc::new(build()?);
        self.classifiers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(company, (signature, built.clone()));
        Some(built)
    }

    fn model_dir(&self, name: &str) -> Option<PathBuf> {
        let dir = self.models_dir.as_ref()?.join(name);
        dir.is_dir().then_some(dir)
    }
}
