//! Checking a company's processing settings before they are saved.

use crate::error::ApiError;
use commlog_domain::processing::ProcessingSettings;
use uuid::Uuid;

/// The local transcription models Commlog can run.
pub const WHISPER_MODELS: &[&str] = &["whisper-tiny.en", "whisper-base"];

/// The sealing context of a company's transcription API key (a key sealed for one company
/// cannot be opened as another's).
pub fn key_context(company_id: Uuid) -> String {
    format!("transcription-api-key:{company_id}")
}

/// Checks and normalises settings; names the first field that is wrong.
pub fn check(s: &mut ProcessingSettings) -> Result<(), ApiError> {
    let t = &mut s.transcription;
    if !matches!(t.engine.as_str(), "local" | "http" | "none") {
        return Err(ApiError::field(
            "transcription.engine",
            "unknown_engine",
            "one of local, http, none",
        ));
    }
    if !WHISPER_MODELS.contains(&t.model.as_str()) {
        return Err(ApiError::field(
            "transcription.model",
            "unknown_model",
            format!("one of {}", WHISPER_MODELS.join(", ")),
        ));
    }
    if let Some(u) = &t.url {
        let parsed = url::Url::parse(u).ok().filter(|p| {
            matches!(p.scheme(), "http" | "https")
                && p.host_str().is_some()
                && p.username().is_empty()
        });
        if parsed.is_none() {
            return Err(ApiError::field(
                "transcription.url",
                "invalid_url",
                "an http(s) URL without credentials, like https://whisper.example.com",
            ));
        }
    }
    if t.engine == "http" && t.url.is_none() {
        return Err(ApiError::field(
            "transcription.url",
            "required",
            "the http engine needs the server's URL",
        ));
    }
    if t.remote_model
        .as_ref()
        .is_some_and(|m| m.is_empty() || m.len() > 100)
    {
        return Err(ApiError::field(
            "transcription.remote_model",
            "invalid_length",
            "1 to 100 characters",
        ));
    }
    if t.api_key.as_ref().is_some_and(|k| k.len() > 500) {
        return Err(ApiError::field(
            "transcription.api_key",
            "invalid_length",
            "at most 500 characters",
        ));
    }
    t.api_key_set = false;
    if !matches!(s.sentiment_engine.as_str(), "vader" | "embedding") {
        return Err(ApiError::field(
            "sentiment_engine",
            "unknown_engine",
            "vader or embedding",
        ));
    }
    s.pii_region = s.pii_region.trim().to_ascii_uppercase();
    if s.pii_region.len() != 2 || !s.pii_region.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::field(
            "pii_region",
            "invalid_region",
            "a two-letter country code, like US or GB",
        ));
    }
    s.mask_pii_for_roles.sort_by_key(|r| r.as_str());
    s.mask_pii_for_roles.dedup();
    Ok(())
}
