//! `/api/communication-attachments/`: upload (multipart, size-limited, checksummed), list and
//! download files attached to logs the caller can see.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, too_large};
use crate::state::AppState;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use commlog_domain::Permission;
use commlog_domain::filters::AttachmentFilter;
use commlog_domain::records::Attachment;
use uuid::Uuid;

/// The multipart form of an upload (documentation only).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form for the OpenAPI document; never built"
)]
pub struct AttachmentUpload {
    communication_log_id: Uuid,
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    is_internal: Option<bool>,
}

/// Attach a file to a log: multipart fields `communication_log_id` and `file`.
#[utoipa::path(post, path = "/api/communication-attachments/", tag = "communication-attachments",
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_communication_attachment(
    State(app): State<AppState>,
    auth: Auth,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    auth.require(Permission::CreateAttachments)?;
    let mut form = multipart_form(form)?;
    let mut log_id: Option<Uuid> = None;
    let mut is_internal = false;
    let mut file: Option<(String, String, BytesMut)> = None;
    let limit = app.limits.max_attachment_bytes;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or("") {
            "communication_log_id" => {
                let text = field.text().await.map_err(multipart_error)?;
                log_id = Some(Uuid::parse_str(text.trim()).map_err(|_| {
                    ApiError::field(
                        "communication_log_id",
                        "invalid_uuid",
                        "communication_log_id must be a UUID",
                    )
                })?);
            }
            "is_internal" => {
                is_internal = field.text().await.map_err(multipart_error)?.trim() == "true"
            }
            "file" => {
                let name = sanitize_file_name(field.file_name().unwrap_or("file"));
                let kind = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .chars()
                    .take(100)
                    .collect();
                let data = read_field(&mut field, limit).await?;
                file = Some((name, kind, data));
            }
            _ => {}
        }
    }
    let log_id = log_id.ok_or_else(|| {
        ApiError::field(
            "communication_log_id",
            "required",
            "communication_log_id is required",
        )
    })?;
    let (file_name, file_type, data) =
        file.ok_or_else(|| ApiError::field("file", "required", "a file is required"))?;
    // Check the log first so nothing is stored for a log the caller cannot see.
    app.store.get_log(&auth.scope, log_id).await.map_err(|_| {
        ApiError::field(
            "communication_log_id",
            "unknown_log",
            "no such communication log",
        )
    })?;
    let file = crate::attach::NewFile {
        log_id,
        name: file_name,
        file_type: &file_type,
        data: data.freeze(),
        is_internal,
    };
    match crate::attach::attach(&app.store, app.blobs.as_ref(), &auth.scope, file).await {
        Ok(a) => Ok((StatusCode::CREATED, Json(a))),
        Err(crate::attach::AttachError::Store(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The multipart form of an upload, or 415 when the body is something else.
pub(crate) fn multipart_form(
    form: Result<Multipart, MultipartRejection>,
) -> Result<Multipart, ApiError> {
    form.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the file as multipart/form-data: {}", e.body_text()),
        )
    })
}

/// One field's bytes, refused with 413 as soon as they pass `limit`.
pub(crate) async fn read_field(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    let mut data = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if data.len() + chunk.len() > limit {
            return Err(too_large());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

pub(crate) fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request(
            "malformed_multipart",
            format!(
                "the upload is not valid multipart/form-data: {}",
                e.body_text()
            ),
        )
    }
}

/// Keeps the last path component, without control characters, at most 255 bytes.
pub(crate) fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("file");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    let mut out = String::new();
    for c in clean.trim().chars() {
        if out.len() + c.len_utf8() > 255 {
            break;
        }
        out.push(c);
    }
    if out.is_empty() { "file".into() } else { out }
}

/// Attachments of the logs the caller can see (blueprint §9.1 filters).
#[utoipa::path(get, path = "/api/communication-attachments/", tag = "communication-attachments", params(AttachmentFilter),
    responses((status = 200, body = Vec<Attachment>)), security(("bearer" = [])))]
pub async fn list_communication_attachments(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<AttachmentFilter>,
) -> ApiResult<Json<Vec<Attachment>>> {
    auth.require(Permission::ReadAttachments)?;
    Ok(Json(app.store.list_attachments(&auth.scope, &f).await?))
}

/// One attachment's metadata.
#[utoipa::path(get, path = "/api/communication-attachments/{id}/", tag = "communication-attachments", params(("id" = Uuid, Path)),
    responses((status = 200, body = Attachment), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_communication_attachment(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Attachment>> {
    auth.require(Permission::ReadAttachments)?;
    Ok(Json(app.store.get_attachment(&auth.scope, id).await?))
}

/// Download an attachment's bytes (counted and audited). A single `Range: bytes=…` is
/// honoured (206 with `Content-Range`), so recordings can be played from any point.
#[utoipa::path(get, path = "/api/communication-attachments/{id}/download/", tag = "communication-attachments", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, content_type = "application/octet-stream", body = Vec<u8>, description = "the requested range"),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_communication_attachment(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    auth.require(Permission::ReadAttachments)?;
    let a = app.store.get_attachment(&auth.scope, id).await?;
    let blob_error = |e| match e {
        crate::blobs::BlobError::NotFound => ApiError::not_found(),
        other => ApiError::internal(other),
    };
    let size = app.blobs.size(&a.file_path).await.map_err(blob_error)?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size));
    let mut response = match range {
        None | Some(RangeRequest::Ignored) => {
            let data = app.blobs.get(&a.file_path).await.map_err(blob_error)?;
            app.store.record_download(&auth.scope, id).await?;
            data.into_response()
        }
        Some(RangeRequest::Unsatisfiable) => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {size} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
        Some(RangeRequest::Bytes(start, end)) => {
            let data = app
                .blobs
                .get_range(&a.file_path, start, end)
                .await
                .map_err(blob_error)?;
            if start == 0 {
                app.store.record_download(&auth.scope, id).await?;
            }
            let mut r = (StatusCode::PARTIAL_CONTENT, data).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
    };
    let headers = response.headers_mut();
    let kind = HeaderValue::from_str(&a.file_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, kind);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&a.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// Bytes `start..=end`.
    Bytes(u64, u64),
    /// A well-formed range outside the file: 416.
    Unsatisfiable,
    /// Not a single byte range this server serves (other units, several ranges, malformed):
    /// the whole file, as RFC 9110 allows.
    Ignored,
}

fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Ignored;
    };
    if spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Ignored;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `bytes=-N`: the last N bytes.
        (true, _, Some(n)) if n > 0 && size > 0 => {
            RangeRequest::Bytes(size.saturating_sub(n), size - 1)
        }
        (true, _, Some(_)) => RangeRequest::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => {
            if start < size {
                RangeRequest::Bytes(start, size - 1)
            } else {
                RangeRequest::Unsatisfiable
            }
        }
        (false, Some(start), Some(end)) if start <= end => {
            if start < size {
                RangeRequest::Bytes(start, end.min(size - 1))
            } else {
                RangeRequest::Unsatisfiable
            }
        }
        _ => RangeRequest::Ignored,
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 5987);
/// the name is the one Commlog stored, never a path.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, content_disposition, parse_range};

    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Bytes(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), Bytes(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), Bytes(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), Bytes(0, 999));
        assert_eq!(parse_range("bytes=990-2000", 1000), Bytes(990, 999));
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 1000), Ignored);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ignored);
        assert_eq!(parse_range("items=0-1", 1000), Ignored);
        assert_eq!(parse_range("bytes=abc", 1000), Ignored);
        assert_eq!(parse_range("bytes=99999999999999999999-", 1000), Ignored);
    }

    #[test]
    fn download_names_are_encoded_per_rfc_6266() {
        assert_eq!(
            content_disposition("notes.txt"),
            "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
        );
        let d = content_disposition("Prés \"q\".pdf");
        assert!(
            d.starts_with("attachment; filename=\"Pr_s__q_.pdf\""),
            "{d}"
        );
        assert!(
            d.ends_with("filename*=UTF-8''Pr%C3%A9s%20%22q%22.pdf"),
            "{d}"
        );
    }
}
