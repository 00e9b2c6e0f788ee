//! What every handler shares: the store, the signing keys, the blob store, the limits and the
//! HTTP layer's configuration.

use crate::auth::JwtKeys;
use crate::blobs::BlobStore;
use crate::http::HttpConfig;
use commlog_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    /// Seals and opens integration secrets with the master key.
    pub cipher: crate::crypto::SecretCipher,
    pub store: Arc<Store>,
    pub jwt: JwtKeys,
    pub blobs: Arc<dyn BlobStore>,
    pub limits: Limits,
    /// TLS, CORS origins and rate limits, as the router applies them.
    pub http: HttpConfig,
    /// Wakes the job runner when work is queued.
    pub jobs: Arc<tokio::sync::Notify>,
    /// The domain of the companies' forwarding addresses (`capture-…@mail_domain`).
    pub mail_domain: String,
    /// The local models automatic processing runs on.
    pub processing: Arc<crate::processing::Engines>,
    /// Publication and delivery of real-time events.
    pub events: Arc<crate::events::EventHub>,
    /// Where the erasure ledger is kept (the data directory); none: no ledger.
    pub ledger_dir: Option<std::path::PathBuf>,
}

/// Size limits applied before anything is buffered or stored.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// JSON bodies.
    pub max_body_bytes: usize,
    /// One uploaded attachment.
    pub max_attachment_bytes: usize,
    /// One call recording fetched from a provider.
    pub max_recording_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_attachment_bytes: 25 * 1024 * 1024,
            max_recording_bytes: 200 * 1024 * 1024,
        }
    }
}
