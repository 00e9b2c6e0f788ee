//! Automatic processing as the store and the API see it: the company's settings, the record of
//! each step that ran on a log (what, when, with which engine and version), escalation rules,
//! the texts that teach auto-categorisation, and the outcome a processing job writes back.

use crate::time_fmt::rfc3339;
use crate::{Priority, Role, Sentiment};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The job that analyses one log (payload `{"log_id", "steps", "serial"}`).
pub const PROCESS_LOG_JOB: &str = "process_log";
/// The job that marks overdue follow-ups of one company.
pub const FOLLOW_UP_SWEEP_JOB: &str = "follow_up_sweep";

/// The processing steps, in the order a job runs them.
pub const STEPS: &[&str] = &[
    "transcription",
    "language",
    "pii",
    "sentiment",
    "key_topics",
    "categorization",
    "follow_up",
    "escalation",
];

/// How a company's logs are processed (`GET/PUT /api/company/processing-settings/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessingSettings {
    pub transcription: TranscriptionSettings,
    /// `vader` (always available) or `embedding` (all-MiniLM-L6-v2 with Commlog's trained
    /// head; needs the model installed, falls back to VADER otherwise).
    pub sentiment_engine: String,
    /// The region phone numbers without a country code are read in (ISO 3166 alpha-2).
    pub pii_region: String,
    /// Roles that see PII masked (`[EMAIL]`, `[PHONE]`, …) in logs, whatever their other rights.
    pub mask_pii_for_roles: Vec<Role>,
    /// Set follow-ups from what the content promises ("call me back tomorrow").
    pub detect_follow_ups: bool,
    /// Apply the company's escalation rules.
    pub escalation: bool,
    /// Automatic processing and keeping recordings need the contact's explicit consent
    /// (`processing_consent`, `recording_consent`); otherwise only an explicit refusal stops them.
    #[serde(default)]
    pub consent_required: bool,
}

/// Whether what the contacts of a communication agreed to allows something (recording, or
/// automatic processing): never when one of them refused; when consent is required, only when
/// at least one is known and every known one agreed.
pub fn consent_allows(consents: &[Option<bool>], required: bool) -> bool {
    if consents.contains(&Some(false)) {
        return false;
    }
    !required || (!consents.is_empty() && consents.iter().all(|c| *c == Some(true)))
}

impl Default for ProcessingSettings {
    fn default() -> Self {
        Self {
            transcription: TranscriptionSettings::default(),
            sentiment_engine: "vader".into(),
            pii_region: "US".into(),
            mask_pii_for_roles: Vec::new(),
            detect_follow_ups: true,
            escalation: true,
            consent_required: false,
        }
    }
}

/// Which engine transcribes recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TranscriptionSettings {
    /// `local` (Whisper on this machine; the default), `http` (an OpenAI-compatible
    /// `/v1/audio/transcriptions` endpoint) or `none`.
    pub engine: String,
    /// The local model: `whisper-tiny.en` or `whisper-base` (installed with `commlog models install`).
    pub model: String,
    /// For `http`: the server's base URL (`https://host:port`), the model name it expects, and
    /// whether recordings may be sent to it (they contain the customer's voice: off until an
    /// operator says so).
    pub url: Option<String>,
    pub remote_model: Option<String>,
    pub send_recordings: bool,
    /// Write-only: the external engine's API key, stored sealed (an empty string removes it).
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// Read-only: whether an API key is stored.
    pub api_key_set: bool,
}

impl Default for TranscriptionSettings {
    fn default() -> Self {
        Self {
            engine: "local".into(),
            model: "whisper-tiny.en".into(),
            url: None,
            remote_model: None,
            send_recordings: false,
            api_key: None,
            api_key_set: false,
        }
    }
}

/// One processing step that ran on a log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProcessingRun {
    pub id: Uuid,
    pub communication_log_id: Uuid,
    pub job_id: Option<Uuid>,
    /// One of [`STEPS`].
    pub step: String,
    pub engine: String,
    pub engine_version: String,
    /// `done`, `skipped` (with the reason in `detail`) or `failed`.
    pub status: String,
    #[schema(value_type = Object)]
    pub detail: Value,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub finished_at: OffsetDateTime,
}

/// A step's record as a processing job hands it to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProcessingRun {
    pub step: &'static str,
    pub engine: String,
    pub engine_version: String,
    pub status: &'static str,
    pub detail: Value,
    pub started_at: OffsetDateTime,
}

impl NewProcessingRun {
    /// A step that ran; `started` is when it began.
    pub fn done(
        step: &'static str,
        engine: &str,
        version: &str,
        detail: Value,
        started: OffsetDateTime,
    ) -> Self {
        Self::new(step, engine, version, "done", detail, started)
    }

    /// A step that did not run, and why.
    pub fn skipped(step: &'static str, engine: &str, reason: &str) -> Self {
        Self::new(
            step,
            engine,
            "",
            "skipped",
            serde_json::json!({ "reason": reason }),
            crate::time_fmt::now(),
        )
    }

    /// A step that ran and failed in a way trying again cannot mend (a broken recording, …).
    pub fn failed(step: &'static str, engine: &str, error: &str) -> Self {
        Self::new(
            step,
            engine,
            "",
            "failed",
            serde_json::json!({ "error": error }),
            crate::time_fmt::now(),
        )
    }

    fn new(
        step: &'static str,
        engine: &str,
        version: &str,
        status: &'static str,
        detail: Value,
        started_at: OffsetDateTime,
    ) -> Self {
        Self {
            step,
            engine: engine.to_owned(),
            engine_version: version.to_owned(),
            status,
            detail,
            started_at,
        }
    }
}

/// What a processing job found, written back to the log in one transaction. `None` leaves a
/// field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogAnalysis {
    pub transcription: Option<String>,
    pub language: Option<Option<String>>,
    pub sentiment: Option<(Sentiment, f64)>,
    pub key_topics: Option<Vec<String>>,
    /// Keys merged into the log's `analysis` object (`pii`, `sentiment_detail`, `transcript`, …).
    pub analysis: serde_json::Map<String, Value>,
    /// Categories chosen automatically, with their confidence; applied only while no person
    /// has set the log's categories.
    pub categories: Vec<(Uuid, f64)>,
    /// The category's default priority, raised to when it is higher than the log's.
    pub category_priority: Option<Priority>,
    /// A follow-up the content promised; applied only when the log has none.
    pub follow_up: Option<OffsetDateTime>,
    pub escalation: Option<Escalation>,
    pub runs: Vec<NewProcessingRun>,
}

/// Why a log was escalated, and the priority it is raised to.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub rule: String,
    pub reason: String,
    pub priority: Priority,
}

/// A company's escalation rule as stored (the rule body is checked by the server).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EscalationRuleRecord {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Object)]
    pub rule: Value,
    pub is_active: bool,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A text that teaches auto-categorisation what a category looks like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryExample {
    pub id: Uuid,
    pub category_id: Uuid,
    pub text: String,
    /// `example` (given by an administrator) or `correction` (a person changed the category
    /// that processing chose for `communication_log_id`).
    pub origin: String,
    pub communication_log_id: Option<Uuid>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_when_fields_are_missing() {
        let s: ProcessingSettings =
            serde_json::from_str(r#"{"sentiment_engine":"embedding"}"#).expect("parse");
        assert_eq!(s.sentiment_engine, "embedding");
        assert_eq!(s.transcription.engine, "local");
        assert!(s.detect_follow_ups);
        assert!(serde_json::from_str::<ProcessingSettings>(r#"{"nope":1}"#).is_err());
    }
}
