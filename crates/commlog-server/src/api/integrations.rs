//! Call capture from any PBX or softphone: `POST /api/webhooks/calls/{channel_id}` takes
//! Commlog's generic call-event JSON, signed `X-Commlog-Signature: t=<unix>,v1=<hex HMAC-SHA256
//! of "t.body">` with the channel's secret (5-minute window). The signature is checked on the
//! raw bytes before anything else; the event is stored once per call and event before the 2xx;
//! each call becomes one log, completed as later events arrive.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use commlog_domain::phone::normalize_e164;
use commlog_domain::{
    CommunicationLogPatch, CommunicationType, NewCommunicationLog, NewParticipant, ParticipantRole,
    Permission,
};
use commlog_ingest::generic::{GenericCallEvent, GenericEventKind};
use commlog_ingest::signature::{
    COMMLOG_SIGNATURE_HEADER, DEFAULT_REPLAY_WINDOW_SECONDS, verify_commlog,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The provider name of the generic call-event webhook.
const GENERIC: &str = "generic";

/// Checked against when the channel is unknown, so that case costs and answers the same.
const UNKNOWN_CHANNEL_SECRET: &[u8] =
    b"no channel has this secret; it only keeps timing and answers uniform";

fn secret_context(channel_id: Uuid) -> String {
    format!("channel:{channel_id}:webhook_secret")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `generic`: Commlog's signed call-event JSON.
    pub provider: String,
    /// The shared signing secret (at least 16 characters); stored sealed, never shown again.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookConfigured {
    /// Where the PBX posts its events.
    pub webhook_url: String,
}

/// Configure a channel's call webhook (managers and admins).
#[utoipa::path(put, path = "/api/channel-configurations/{id}/webhook/", tag = "capture", params(("id" = Uuid, Path)),
    request_body = WebhookSettings, responses((status = 200, body = WebhookConfigured), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn configure_channel_webhook(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<WebhookSettings>,
) -> ApiResult<Json<WebhookConfigured>> {
    auth.require(Permission::ManageChannels)?;
    if req.provider != GENERIC {
        return Err(ApiError::field(
            "provider",
            "unknown_provider",
            "supported: generic",
        ));
    }
    if !(16..=256).contains(&req.secret.len()) {
        return Err(ApiError::field(
            "secret",
            "invalid_length",
            "the secret must be 16 to 256 characters",
        ));
    }
    let sealed = app.cipher.seal(&req.secret, &secret_context(id));
    app.store
        .set_channel_webhook(&auth.scope, id, GENERIC, &sealed)
        .await?;
    Ok(Json(WebhookConfigured {
        webhook_url: format!("/api/webhooks/calls/{id}"),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Captured {
    /// `captured`, or `duplicate` for a delivery already processed.
    pub status: String,
    pub communication_log_id: Option<Uuid>,
}

/// Receive a call event (public; authenticated by the channel's signature).
#[utoipa::path(post, path = "/api/webhooks/calls/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body = Object, responses((status = 200, body = Captured), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn receive_call_event(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Captured>> {
    let channel = app
        .store
        .webhook_channel(channel_id)
        .await?
        .filter(|c| c.is_active && c.provider.as_deref() == Some(GENERIC));
    let header = headers
        .get(COMMLOG_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let refuse = |e: commlog_ingest::SignatureError| {
        ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", e.to_string())
    };
    let Some((channel, sealed)) = channel.and_then(|c| c.sealed_secret.clone().map(|s| (c, s)))
    else {
        // An unknown channel answers exactly as a wrong signature would: no existence oracle.
        let e = verify_commlog(
            UNKNOWN_CHANNEL_SECRET,
            header,
            &body,
            now,
            DEFAULT_REPLAY_WINDOW_SECONDS,
        )
        .err()
        .unwrap_or(commlog_ingest::SignatureError::Mismatch);
        return Err(refuse(e));
    };
    let secret = app
        .cipher
        .open(&sealed, &secret_context(channel_id))
        .map_err(ApiError::internal)?;
    verify_commlog(
        secret.expose().as_bytes(),
        header,
        &body,
        now,
        DEFAULT_REPLAY_WINDOW_SECONDS,
    )
    .map_err(refuse)?;
    let event = commlog_ingest::generic::parse(&body)
        .map_err(|e| ApiError::field("body", "invalid_event", e.to_string()))?;
    let key = format!(
        "{}:{}",
        event.call_id,
        format!("{:?}", event.event).to_lowercase()
    );
    let payload = String::from_utf8_lossy(&body);
    let record = app
        .store
        .record_capture_event(channel.company_id, channel_id, GENERIC, &key, &payload)
        .await?;
    if record.processed {
        return Ok(Json(Captured {
            status: "duplicate".into(),
            communication_log_id: None,
        }));
    }
    let scope = crate::import::acting_scope(&app.store, channel.company_id, None)
        .await
        .map_err(ApiError::internal)?;
    let country = app.store.get_company(&scope).await?.default_country_code;
    let created = app
        .store
        .create_log(
            &scope,
            call_log(&event, &channel.channel_code, country.as_deref()),
            None,
        )
        .await?;
    let log = if created.duplicate && is_final(event.event) && created.log.end_time.is_none() {
        let patch = CommunicationLogPatch {
            communication_type: Some(call_type(event.event)),
            end_time: Some(event.ended_at.filter(|e| *e >= created.log.start_time)),
            duration_seconds: Some(event.duration_seconds.and_then(|d| i64::try_from(d).ok())),
            content: Some(content(&event)),
            ..Default::default()
        };
        app.store.update_log(&scope, created.log.id, patch).await?.0
    } else {
        created.log
    };
    app.store
        .mark_capture_processed(channel.company_id, record.id, log.id)
        .await?;
    Ok(Json(Captured {
        status: "captured".into(),
        communication_log_id: Some(log.id),
    }))
}

fn is_final(kind: GenericEventKind) -> bool {
    !matches!(kind, GenericEventKind::Ringing | GenericEventKind::Answered)
}

fn call_type(kind: GenericEventKind) -> CommunicationType {
    if kind == GenericEventKind::Voicemail {
        CommunicationType::Voicemail
    } else {
        CommunicationType::Call
    }
}

fn content(e: &GenericCallEvent) -> String {
    let (_, outcome) = e.event.state_and_outcome();
    let what = outcome.map_or("Ringing", crate::import::outcome_text);
    let talk = e
        .duration_seconds
        .filter(|s| *s > 0)
        .map(|s| format!(", {s} s"))
        .unwrap_or_default();
    format!("{what} call from {} to {}{talk}.", e.from, e.to)
}

/// The log a call's first event creates.
fn call_log(e: &GenericCallEvent, channel: &str, country: Option<&str>) -> NewCommunicationLog {
    let mut participants = Vec::new();
    for (role, number) in [
        (ParticipantRole::Caller, &e.from),
        (ParticipantRole::Callee, &e.to),
    ] {
        if let Ok(phone) = normalize_e164(number, country) {
            participants.push(NewParticipant {
                role,
                email: None,
                phone: Some(phone),
                name: None,
                contact_id: None,
                user_id: None,
            });
        }
    }
    let mut log = NewCommunicationLog::minimal(
        call_type(e.event),
        channel,
        e.direction,
        e.started_at,
        content(e),
    );
    log.end_time = e.ended_at.filter(|end| *end >= e.started_at);
    log.duration_seconds = e.duration_seconds.and_then(|d| i64::try_from(d).ok());
    log.source = Some(GENERIC.to_owned());
    log.external_id = Some(e.call_id.chars().take(500).collect());
    log.participants = participants;
    log
}
