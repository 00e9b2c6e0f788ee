//! `POST /api/webhooks/freeswitch/{channel_id}`: FreeSWITCH `mod_xml_cdr` pushes one CDR per
//! call, as raw XML, `cdr=` form fields (URL-encoded or base64) — whichever `encode` the PBX
//! uses — authenticated with HTTP basic auth (`cred=user:password` in `xml_cdr.conf.xml`).

use super::{Accepted, Endpoint, Incoming, accept, to_json, unreadable};
use crate::capture::integration::Provider;
use crate::capture::kind;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use commlog_ingest::signature::constant_time_eq;
use commlog_ingest::tz::PbxTimeZone;
use uuid::Uuid;

/// `(user, password)` from `Authorization: Basic …`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// 401 with the challenge a PBX's HTTP client expects.
fn unauthorized() -> Response {
    let mut r = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the user name or password is wrong",
    )
    .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"commlog\""),
    );
    r
}

/// Receive a FreeSWITCH CDR (public; HTTP basic auth with the channel's credentials).
#[utoipa::path(post, path = "/api/webhooks/freeswitch/{channel_id}", tag = "capture", params(("channel_id" = Uuid, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Accepted), (status = 401, body = ErrorBody)))]
pub async fn receive_freeswitch_cdr(
    State(app): State<AppState>,
    ApiPath(channel_id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    let found = Endpoint::find(&app, channel_id, Provider::FreeSwitch).await?;
    let (user, password) = basic_credentials(&headers).unwrap_or_default();
    let expected_user = found
        .as_ref()
        .and_then(|e| e.credentials.username.clone())
        .unwrap_or_default();
    // Both compared whatever the first gave, so timing tells nothing about which was wrong.
    let user_ok =
        constant_time_eq(user.as_bytes(), expected_user.as_bytes()) & !expected_user.is_empty();
    let password_ok = constant_time_eq(password.as_bytes(), Endpoint::secret(&found).as_bytes());
    let Some(endpoint) = found.filter(|_| user_ok & password_ok) else {
        return Ok(unauthorized());
    };
    let tz = match endpoint.settings.timezone.as_deref() {
        Some(name) => PbxTimeZone::iana(name).unwrap_or_else(|_| PbxTimeZone::utc()),
        None => PbxTimeZone::utc(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let record =
        commlog_ingest::xml_cdr::parse_body(content_type, &body, &tz).map_err(unreadable)?;
    let call = record.to_call_event();
    let incoming = Incoming {
        kind: kind::CALL,
        dedupe_key: record.dedupe_key.clone(),
        subject: Some(call.external_id.clone()),
        event: to_json(&call)?,
    };
    Ok(Json(accept(&app, &endpoint.channel, &body, vec![incoming]).await?).into_response())
}
