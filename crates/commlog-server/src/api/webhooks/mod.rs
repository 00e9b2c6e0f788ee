//! Provider webhooks: `/api/webhooks/{provider}/{channel_id}…`. Each follows one contract:
//!
//! 1. The raw body (at most [`commlog_ingest::MAX_WEBHOOK_BYTES`]) is verified with the
//!    channel's credentials before anything is parsed, with constant-time comparison. An
//!    unknown channel, a channel of another provider and a wrong signature all answer the same
//!    401, after the same work, so a webhook URL reveals nothing.
//! 2. Each event is stored with its dedupe key, and the job that processes it, in one
//!    transaction before the 2xx. A redelivery finds its key and changes nothing.
//! 3. Everything else — logs, matching, recordings — happens in the job
//!    ([`crate::capture`]), so providers get their answer in milliseconds.

pub mod calls;
pub mod freeswitch;
pub mod slack;
pub mod teams;
pub mod twilio;
pub mod whatsapp;

use crate::capture::integration::{self, Credentials, Provider, Settings};
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;
use commlog_ingest::SignatureError;
use commlog_store::{NewCaptureEvent, WebhookChannel};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Verified against when a channel is unknown, so that case costs and answers the same.
pub(crate) const UNKNOWN_CHANNEL_SECRET: &str =
    "no channel has this secret; it only keeps timing and answers uniform";

/// A configured, active channel of `provider` with its opened credentials.
pub(crate) struct Endpoint {
    pub channel: WebhookChannel,
    pub credentials: Credentials,
    pub settings: Settings,
}

impl Endpoint {
    /// The channel `channel_id` if it is active and captures from `provider`.
    pub async fn find(
        app: &AppState,
        channel_id: Uuid,
        provider: Provider,
    ) -> Result<Option<Self>, ApiError> {
        let Some(channel) = app
            .store
            .webhook_channel(channel_id)
            .await?
            .filter(|c| c.is_active && c.provider.as_deref() == Some(provider.as_str()))
        else {
            return Ok(None);
        };
        let Some(sealed) = channel.sealed_secret.as_deref() else {
            return Ok(None);
        };
        let credentials =
            integration::open(&app.cipher, channel_id, sealed).map_err(ApiError::internal)?;
        let settings = Settings::from_value(&channel.settings);
        Ok(Some(Self {
            channel,
            credentials,
            settings,
        }))
    }

    /// The secret to verify with: the channel's, or a stand-in that never matches.
    pub fn secret(found: &Option<Self>) -> &str {
        found
            .as_ref()
            .map_or(UNKNOWN_CHANNEL_SECRET, |e| e.credentials.secret.as_str())
    }
}

/// The one refusal for anything not signed by the channel's credentials.
pub(crate) fn refused(e: SignatureError) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", e.to_string())
}

/// A verified event, ready for the ledger.
pub(crate) struct Incoming {
    pub kind: &'static str,
    pub dedupe_key: String,
    pub subject: Option<String>,
    pub event: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// `accepted` when something new was stored, `duplicate` when every event was already
    /// known, `ignored` when the delivery held nothing Commlog captures.
    pub status: String,
    /// Events stored by this delivery.
    pub accepted: usize,
    /// Events this delivery repeated.
    pub duplicates: usize,
}

/// Stores each event once (the raw body with the first), queues their processing and wakes
/// the job runner.
pub(crate) async fn accept(
    app: &AppState,
    channel: &WebhookChannel,
    raw: &[u8],
    events: Vec<Incoming>,
) -> Result<Accepted, ApiError> {
    let provider = channel.provider.clone().unwrap_or_default();
    let (mut accepted, mut duplicates) = (0, 0);
    let first_key = events
        .first()
        .map(|e| e.dedupe_key.clone())
        .unwrap_or_default();
    for (i, e) in events.iter().enumerate() {
        let payload = if i == 0 {
            String::from_utf8_lossy(raw).into_owned()
        } else {
            serde_json::json!({"same_delivery_as": first_key}).to_string()
        };
        let record = app
            .store
            .record_capture_event(&NewCaptureEvent {
                company_id: channel.company_id,
                channel_id: channel.id,
                provider: provider.clone(),
                kind: e.kind.to_owned(),
                dedupe_key: e.dedupe_key.chars().take(500).collect(),
                subject: e.subject.as_ref().map(|s| s.chars().take(500).collect()),
                payload,
                event: Some(e.event.to_string()),
            })
            .await?;
        if record.new {
            accepted += 1;
        } else {
            duplicates += 1;
        }
    }
    if accepted > 0 {
        app.jobs.notify_one();
    }
    let status = match (accepted, duplicates) {
        (0, 0) => "ignored",
        (0, _) => "duplicate",
        _ => "accepted",
    };
    Ok(Accepted {
        status: status.into(),
        accepted,
        duplicates,
    })
}

/// Serialises a provider-neutral event for the ledger.
pub(crate) fn to_json<T: Serialize>(event: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(event).map_err(ApiError::internal)
}

/// A payload that verified but cannot be read: 400, nothing stored.
pub(crate) fn unreadable(e: commlog_ingest::ParseError) -> ApiError {
    ApiError::field("body", "invalid_event", e.to_string())
}
