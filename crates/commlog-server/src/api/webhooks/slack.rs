//! `POST /api/webhooks/slack/{channel_id}`: the Slack Events API. Signed with the app's signing
//! secret (`v0`, 5-minute window); answers the `url_verification` challenge; takes message
//! events of the channel's workspace (`team_id`), deduplicated by `event_id` so Slack's retries
//! add nothing.

use super::{Accepted, Endpoint, Incoming, accept, refused, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use commlog_ingest::SignatureError;
use commlog_ingest::signature::{SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER, verify_slack};
use commlog_ingest::slack::SlackPayload;
use uuid::Uuid;

/// Receive a Slack event (public; authenticated by the signing secret).
#[utoipa::path(post, path = "/api/webhooks/slack/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body = Object, responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_slack_event(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    let found = Endpoint::find(&app, channel_id, Provider::Slack).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    verify_slack(
        Endpoint::secret(&found).as_bytes(),
        header(SLACK_TIMESTAMP_HEADER),
        header(SLACK_SIGNATURE_HEADER),
        &body,
        now,
    )
    .map_err(refused)?;
    let endpoint = found.ok_or_else(|| refused(SignatureError::Mismatch))?;
    let callback = match commlog_ingest::slack::parse(&body).map_err(unreadable)? {
        SlackPayload::UrlVerification { challenge } => {
            return Ok((
                [(axum::http::header::CONTENT_TYPE, "text/plain")],
                challenge,
            )
                .into_response());
        }
        SlackPayload::Other => {
            return Ok(Json(Accepted {
                status: "ignored".into(),
                accepted: 0,
                duplicates: 0,
            })
            .into_response());
        }
        SlackPayload::EventCallback(c) => c,
    };
    if endpoint
        .settings
        .account
        .as_deref()
        .is_some_and(|team| team != callback.team_id)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_workspace",
            "the event is from another Slack workspace than this channel's",
        ));
    }
    let events = match callback.to_message_event().map_err(unreadable)? {
        Some(message) => vec![Incoming {
            kind: kind::MESSAGE,
            dedupe_key: callback.event_id.clone(),
            subject: Some(message.external_id.clone()),
            event: to_json(&message)?,
        }],
        None => Vec::new(),
    };
    Ok(Json(accept(&app, &endpoint.channel, &body, events).await?).into_response())
}
