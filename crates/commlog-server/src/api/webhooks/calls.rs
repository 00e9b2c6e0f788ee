//! `POST /api/webhooks/calls/{channel_id}`: Commlog's generic call-event JSON, for any PBX or
//! softphone (Asterisk, FreeSWITCH, 3CX, a customer's own dialer). Signed
//! `X-Commlog-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">` with the channel's
//! secret, within a 5-minute window. The schema is in `docs/webhooks.md`.

use super::{Accepted, Endpoint, Incoming, accept, refused, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use commlog_ingest::signature::{
    COMMLOG_SIGNATURE_HEADER, DEFAULT_REPLAY_WINDOW_SECONDS, verify_commlog,
};
use uuid::Uuid;

/// Receive a call event (public; authenticated by the channel's signature).
#[utoipa::path(post, path = "/api/webhooks/calls/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body = Object, responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_call_event(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<Accepted>> {
    let found = Endpoint::find(&app, channel_id, Provider::Generic).await?;
    let header = headers
        .get(COMMLOG_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    verify_commlog(
        Endpoint::secret(&found).as_bytes(),
        header,
        &body,
        now,
        DEFAULT_REPLAY_WINDOW_SECONDS,
    )
    .map_err(refused)?;
    let Some(endpoint) = found else {
        return Err(refused(commlog_ingest::SignatureError::Mismatch));
    };
    let event = commlog_ingest::generic::parse(&body).map_err(unreadable)?;
    let call = event.to_call_event();
    let incoming = Incoming {
        kind: kind::CALL,
        dedupe_key: format!(
            "{}:{}",
            event.call_id,
            serde_json::to_value(event.event)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        subject: Some(call.external_id.clone()),
        event: to_json(&call)?,
    };
    Ok(Json(
        accept(&app, &endpoint.channel, &body, vec![incoming]).await?,
    ))
}
