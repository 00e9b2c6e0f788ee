//! Twilio-compatible callbacks, form-encoded and signed with `X-Twilio-Signature` (HMAC-SHA1 of
//! the public URL and the sorted parameters, keyed with the account's auth token):
//!
//! - `POST /api/webhooks/twilio/{channel_id}/voice`: call status callbacks (initiated, ringing,
//!   answered, completed, busy, no-answer, failed, canceled), ordered by `SequenceNumber`.
//! - `POST /api/webhooks/twilio/{channel_id}/recording`: recording status callbacks.
//!
//! The URL is rebuilt from the channel's configured public URL — never from the request's
//! `Host` — and accepted with or without the scheme's default port, as Twilio's SDKs do.

use super::{Accepted, Endpoint, Incoming, accept, refused, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use commlog_ingest::SignatureError;
use commlog_ingest::signature::{TWILIO_SIGNATURE_HEADER, verify_twilio_form};
use commlog_ingest::twilio::{TwilioRecordingCallback, TwilioStatusCallback};
use uuid::Uuid;

/// Verifies a callback against the channel's public URL and auth token.
async fn verified(
    app: &AppState,
    channel_id: Uuid,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Endpoint, ApiError> {
    let found = Endpoint::find(app, channel_id, Provider::Twilio).await?;
    let base = found
        .as_ref()
        .and_then(|e| e.settings.public_url.clone())
        .unwrap_or_else(|| "https://unconfigured.invalid".into());
    let url = match uri.query() {
        Some(q) => format!("{}{}?{q}", base.trim_end_matches('/'), uri.path()),
        None => format!("{}{}", base.trim_end_matches('/'), uri.path()),
    };
    let signature = headers
        .get(TWILIO_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    verify_twilio_form(Endpoint::secret(&found).as_bytes(), &url, body, signature)
        .map_err(refused)?;
    found.ok_or_else(|| refused(SignatureError::Mismatch))
}

/// Events of another Twilio account than the channel's are refused.
fn check_account(endpoint: &Endpoint, account_sid: &str) -> Result<(), ApiError> {
    match endpoint.settings.account.as_deref() {
        Some(a) if a != account_sid => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_account",
            "the callback is from another account than this channel's",
        )),
        _ => Ok(()),
    }
}

/// Receive a Twilio call status callback.
#[utoipa::path(post, path = "/api/webhooks/twilio/{channel_id}/voice", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_twilio_voice(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    uri: Uri,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Accepted>> {
    let endpoint = verified(&app, channel_id, &uri, &headers, &body).await?;
    let callback = TwilioStatusCallback::parse(&body).map_err(unreadable)?;
    check_account(&endpoint, &callback.account_sid)?;
    let call = callback.to_call_event();
    let sequence = callback
        .sequence_number
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    let incoming = Incoming {
        kind: kind::CALL,
        dedupe_key: format!(
            "{}:{sequence}:{:?}",
            callback.call_sid, callback.call_status
        ),
        subject: Some(call.external_id.clone()),
        event: to_json(&call)?,
    };
    Ok(Json(
        accept(&app, &endpoint.channel, &body, vec![incoming]).await?,
    ))
}

/// Receive a Twilio recording status callback.
#[utoipa::path(post, path = "/api/webhooks/twilio/{channel_id}/recording", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_twilio_recording(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    uri: Uri,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Accepted>> {
    let endpoint = verified(&app, channel_id, &uri, &headers, &body).await?;
    let callback = TwilioRecordingCallback::parse(&body).map_err(unreadable)?;
    check_account(&endpoint, &callback.account_sid)?;
    let recording = callback.to_recording_event();
    let incoming = Incoming {
        kind: kind::RECORDING,
        dedupe_key: format!("{}:{:?}", callback.recording_sid, callback.recording_status),
        subject: Some(recording.call_external_id.clone()),
        event: to_json(&recording)?,
    };
    Ok(Json(
        accept(&app, &endpoint.channel, &body, vec![incoming]).await?,
    ))
}
