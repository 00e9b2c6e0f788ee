//! Request extractors whose rejections speak the API's error format: malformed JSON, wrong
//! types, unknown fields or enum values, bad UUIDs in paths and oversized bodies all become
//! clean 4xx answers that name what is wrong.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;

/// JSON body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => parse_value(value).map(ApiJson),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {}", e.body_text()),
            )),
        }
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than this endpoint accepts",
    )
}

/// Parses raw bytes as JSON into `T` (for handlers that also need the bytes).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    parse_value(value)
}

fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    // Every body is an object: serde would otherwise fill a struct from an array by position.
    if !value.is_object() {
        return Err(ApiError::field(
            "body",
            "not_an_object",
            "the body must be a JSON object",
        ));
    }
    if let Some(path) = nul_path(&value, "") {
        return Err(ApiError::field(
            &path,
            "nul_character",
            "text must not contain NUL characters",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let message = e.inner().to_string();
        ApiError::validation(commlog_domain::ValidationErrors::single(
            &field,
            "invalid_value",
            message,
        ))
    })
}

/// The path of the first string (or key) holding a NUL character: no SQL engine stores it
/// faithfully, so it is refused at the door for every endpoint.
fn nul_path(v: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    let here = || {
        if at.is_empty() {
            "body".to_owned()
        } else {
            at.to_owned()
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_path(x, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.contains('\0') {
                Some(here())
            } else {
                nul_path(x, &path)
            }
        }),
        _ => None,
    }
}

/// Query string.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts
            .uri
            .query()
            .is_some_and(|q| q.contains("%00") || q.contains('\0'))
        {
            return Err(ApiError::bad_request(
                "invalid_query",
                "query parameters must not contain NUL characters",
            ));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("invalid query parameters: {}", e.body_text()),
                )
            })
    }
}

/// Path parameters; a malformed id is simply a resource that does not exist.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| {
                ApiError::not_found().with_details(json!({"reason": e.body_text()}))
            })
    }
}

/// The raw body (for handlers that hash it), with the API's 413.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(ApiBytes(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(ApiError::bad_request("unreadable_body", e.body_text())),
        }
    }
}

/// The `limit` of a short admin list (jobs, quarantine): 1 to 1000, 100 when not given.
pub fn list_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    if (1..=1000).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(ApiError::field(
            "limit",
            "out_of_range",
            "limit must be 1 to 1000",
        ))
    }
}
