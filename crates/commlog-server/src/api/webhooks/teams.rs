//! `POST /api/webhooks/teams/{channel_id}`: Microsoft Graph change notifications for Teams
//! chat messages. Answers the subscription's validation request (`?validationToken=`, echoed
//! as text within Graph's 10 seconds); otherwise every notification in the batch must carry the
//! subscription's `clientState` (the channel's secret), or the whole batch is refused. Lifecycle
//! notices (reauthorization required, subscription removed, missed notifications) are kept for
//! the administrators.

use super::{Accepted, Endpoint, Incoming, accept, refused, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use commlog_ingest::SignatureError;
use serde_json::json;
use uuid::Uuid;

/// Receive Graph change notifications (public; authenticated by `clientState`).
#[utoipa::path(post, path = "/api/webhooks/teams/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body = Object, responses((status = 202, body = Accepted), (status = 200, content_type = "text/plain", body = String),
    (status = 401, body = ErrorBody)))]
pub async fn receive_teams_notifications(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    uri: Uri,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    let found = Endpoint::find(&app, channel_id, Provider::Teams).await?;
    if let Some(token) =
        commlog_ingest::graph::validation_token(uri.query().unwrap_or("")).map_err(unreadable)?
    {
        // Graph proves nothing here: it only checks that this URL answers. Echo for known
        // channels only, so the answer is no oracle for others.
        if found.is_none() {
            return Err(refused(SignatureError::Mismatch));
        }
        return Ok(([(header::CONTENT_TYPE, "text/plain")], token).into_response());
    }
    let batch = commlog_ingest::graph::parse(&body).map_err(unreadable)?;
    let secret = Endpoint::secret(&found);
    for n in &batch.value {
        n.verify_client_state(secret).map_err(refused)?;
    }
    let endpoint = found.ok_or_else(|| refused(SignatureError::Mismatch))?;
    let ours = |tenant: Option<&str>| {
        endpoint
            .settings
            .account
            .as_deref()
            .is_none_or(|a| Some(a) == tenant)
    };
    let mut events = Vec::new();
    for n in batch.value.iter().filter(|n| ours(n.tenant_id.as_deref())) {
        if let Some(lifecycle) = n.lifecycle_event {
            let name = format!("{lifecycle:?}");
            events.push(Incoming {
                kind: kind::LIFECYCLE,
                dedupe_key: format!(
                    "lifecycle:{}:{name}:{}",
                    n.subscription_id,
                    n.subscription_expiration_date_time.as_deref().unwrap_or("")
                ),
                subject: Some(name.clone()),
                event: json!({"subscription_id": n.subscription_id, "lifecycle_event": name}),
            });
        } else if let Some(message) = n.to_message_event() {
            events.push(Incoming {
                kind: kind::MESSAGE,
                dedupe_key: format!(
                    "{:?}:{}:{}",
                    message.change,
                    message.external_id,
                    n.id.as_deref().unwrap_or("")
                ),
                subject: Some(message.external_id.clone()),
                event: to_json(&message)?,
            });
        }
    }
    let accepted = accept(&app, &endpoint.channel, &body, events).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}
