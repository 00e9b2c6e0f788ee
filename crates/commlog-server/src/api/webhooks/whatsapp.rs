//! `/api/webhooks/whatsapp/{channel_id}`: the WhatsApp Business Cloud API.
//!
//! - `GET`: Meta's subscription handshake (`hub.verify_token` checked, `hub.challenge` echoed).
//! - `POST`: messages and delivery statuses, signed `X-Hub-Signature-256` with the app secret.
//!   Statuses may arrive in any order; processing keeps the furthest one.

use super::{Accepted, Endpoint, Incoming, accept, refused, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use commlog_ingest::SignatureError;
use commlog_ingest::signature::{META_SIGNATURE_HEADER, verify_meta};
use serde_json::json;
use uuid::Uuid;

/// Meta's subscription handshake.
#[utoipa::path(get, path = "/api/webhooks/whatsapp/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 403, body = ErrorBody)))]
pub async fn verify_whatsapp_subscription(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    uri: Uri,
) -> ApiResult<Response> {
    let found = Endpoint::find(&app, channel_id, Provider::WhatsApp).await?;
    let token = found
        .as_ref()
        .and_then(|e| e.credentials.verify_token.clone())
        .unwrap_or_else(|| super::UNKNOWN_CHANNEL_SECRET.to_owned());
    // Meta expects 403 for a handshake it should not complete.
    let forbidden = |e: SignatureError| {
        ApiError::new(StatusCode::FORBIDDEN, "invalid_verify_token", e.to_string())
    };
    let challenge =
        commlog_ingest::whatsapp::verify_subscription(uri.query().unwrap_or(""), token.as_bytes())
            .map_err(forbidden)?;
    if found.is_none() {
        return Err(forbidden(SignatureError::Mismatch));
    }
    Ok(([(header::CONTENT_TYPE, "text/plain")], challenge).into_response())
}

/// Receive WhatsApp messages and statuses (public; authenticated by the app secret).
#[utoipa::path(post, path = "/api/webhooks/whatsapp/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body = Object, responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_whatsapp_event(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Accepted>> {
    let found = Endpoint::find(&app, channel_id, Provider::WhatsApp).await?;
    let signature = headers
        .get(META_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    verify_meta(Endpoint::secret(&found).as_bytes(), signature, &body).map_err(refused)?;
    let endpoint = found.ok_or_else(|| refused(SignatureError::Mismatch))?;
    let parsed = commlog_ingest::whatsapp::parse(&body).map_err(unreadable)?;
    // Only the channel's own business number, when one is configured.
    let ours = |tenant: &str| {
        endpoint
            .settings
            .account
            .as_deref()
            .is_none_or(|a| a == tenant)
    };
    let mut events = Vec::new();
    for m in parsed.messages.iter().filter(|m| ours(&m.tenant_key)) {
        events.push(Incoming {
            kind: kind::MESSAGE,
            dedupe_key: format!("message:{}", m.external_id),
            subject: Some(m.external_id.clone()),
            event: to_json(m)?,
        });
    }
    for s in parsed.statuses.iter().filter(|s| ours(&s.tenant_key)) {
        events.push(Incoming {
            kind: kind::STATUS,
            dedupe_key: format!("status:{}:{}", s.message_id, s.status.as_str()),
            subject: Some(s.message_id.clone()),
            event: json!({
                "source": "whatsapp",
                "message_id": s.message_id,
                "recipient": s.recipient,
                "status": s.status.as_str(),
                "occurred_at": s.occurred_at.unix_timestamp(),
                "error": s.error,
            }),
        });
    }
    Ok(Json(accept(&app, &endpoint.channel, &body, events).await?))
}
