//! E-mail capture through the API: uploading `.eml` files or mboxes, and the quarantine of
//! messages that could not be captured (listed with their reasons, retried on demand).

use crate::auth::Auth;
use crate::capture::email::{EmailCapture, EmailImportReport, EmailSettings};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use commlog_domain::Permission;
use commlog_domain::records::QuarantinedEmail;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// The multipart form of an e-mail upload (documentation only).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form for the OpenAPI document; never built"
)]
pub struct EmailUpload {
    /// One `.eml` message or an mbox of many.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

/// Import e-mail: one `.eml` message or an mbox (multipart field `file`). Each message becomes
/// a threaded, matched log with its attachments, or is quarantined with the reason.
#[utoipa::path(post, path = "/api/email-imports/", tag = "email",
    request_body(content = EmailUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = EmailImportReport), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_email(
    State(app): State<AppState>,
    auth: Auth,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<EmailImportReport>> {
    auth.require(Permission::CreateLog)?;
    let mut form = crate::api::attachments::multipart_form(form)?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let limit = app.limits.max_attachment_bytes;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(crate::api::attachments::multipart_error)?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .unwrap_or("upload")
            .chars()
            .take(200)
            .collect();
        let data = crate::api::attachments::read_field(&mut field, limit).await?;
        file = Some((name, data.to_vec()));
    }
    let (name, data) =
        file.ok_or_else(|| ApiError::field("file", "required", "a file is required"))?;
    let capture =
        EmailCapture::new(&app.store, app.blobs.as_ref(), auth.scope.clone(), limit).await?;
    let report = if crate::email_import::looks_like_mbox(&data) {
        crate::email_import::import_mbox(&capture, &name, data.as_slice())
            .await
            .map_err(ApiError::internal)?
    } else {
        let mut report = EmailImportReport::default();
        let outcome = capture
            .ingest(&data, &format!("upload:{name}"))
            .await
            .map_err(ApiError::internal)?;
        report.add(&name, &outcome);
        report
    };
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// Only messages not captured since (default `true`).
    pub open: Option<bool>,
    /// At most this many, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Messages that could not be captured, with the reason (admins).
#[utoipa::path(get, path = "/api/email-quarantine/", tag = "email", params(QuarantineQuery),
    responses((status = 200, body = Vec<QuarantinedEmail>)), security(("bearer" = [])))]
pub async fn list_quarantined_emails(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<QuarantineQuery>,
) -> ApiResult<Json<Vec<QuarantinedEmail>>> {
    auth.require(Permission::ManageIntegrations)?;
    let limit = crate::extract::list_limit(q.limit)?;
    Ok(Json(
        app.store
            .list_quarantined_emails(&auth.scope, q.open.unwrap_or(true), limit)
            .await?,
    ))
}

/// Try a quarantined message again (admins): it becomes a log, or stays with the new reason.
#[utoipa::path(post, path = "/api/email-quarantine/{id}/retry/", tag = "email", params(("id" = Uuid, Path)),
    responses((status = 200, body = QuarantinedEmail), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn retry_quarantined_email(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<QuarantinedEmail>> {
    auth.require(Permission::ManageIntegrations)?;
    let q = app.store.get_quarantined_email(&auth.scope, id).await?;
    let capture = EmailCapture::new(
        &app.store,
        app.blobs.as_ref(),
        auth.scope.clone(),
        app.limits.max_attachment_bytes,
    )
    .await?;
    Ok(Json(capture.retry(&q).await.map_err(ApiError::internal)?))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CaptureAddress {
    /// BCC or forward mail here to capture it for the company.
    pub address: String,
}

fn new_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let bytes: [u8; 24] = rand::random();
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

fn address(app: &AppState, token: &str) -> CaptureAddress {
    CaptureAddress {
        address: format!("{}{token}@{}", crate::smtp::ADDRESS_PREFIX, app.mail_domain),
    }
}

/// The company's forwarding address (made on first use).
#[utoipa::path(get, path = "/api/company/capture-address/", tag = "email",
    responses((status = 200, body = CaptureAddress)), security(("bearer" = [])))]
pub async fn get_capture_address(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<CaptureAddress>> {
    auth.require(Permission::CreateLog)?;
    let token = app.store.capture_token(&auth.scope, &new_token()).await?;
    Ok(Json(address(&app, &token)))
}

/// Replace the company's forwarding address; the old one stops accepting mail (admins).
#[utoipa::path(post, path = "/api/company/capture-address/rotate/", tag = "email",
    responses((status = 200, body = CaptureAddress)), security(("bearer" = [])))]
pub async fn rotate_capture_address(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<CaptureAddress>> {
    auth.require(Permission::ManageIntegrations)?;
    let token = app
        .store
        .rotate_capture_token(&auth.scope, &new_token())
        .await?;
    Ok(Json(address(&app, &token)))
}

/// The company's mail capture policy.
#[utoipa::path(get, path = "/api/company/email-settings/", tag = "email",
    responses((status = 200, body = EmailSettings)), security(("bearer" = [])))]
pub async fn get_email_settings(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<EmailSettings>> {
    auth.require(Permission::ReadReferenceData)?;
    let stored = app.store.email_settings(&auth.scope).await?;
    Ok(Json(
        stored
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    ))
}

/// Set the company's mail capture policy (admins): `unknown_senders` (`log`, `ignore`,
/// `create_contact`), `blocked` addresses and domains, `capture_internal`.
#[utoipa::path(put, path = "/api/company/email-settings/", tag = "email", request_body = EmailSettings,
    responses((status = 200, body = EmailSettings), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_email_settings(
    State(app): State<AppState>,
    auth: Auth,
    crate::extract::ApiJson(mut settings): crate::extract::ApiJson<EmailSettings>,
) -> ApiResult<Json<EmailSettings>> {
    auth.require(Permission::ManageIntegrations)?;
    if settings.blocked.len() > 1000 {
        return Err(ApiError::field(
            "blocked",
            "too_many",
            "at most 1000 entries",
        ));
    }
    for (i, b) in settings.blocked.iter_mut().enumerate() {
        *b = b.trim().trim_start_matches('@').to_lowercase();
        if b.is_empty() || b.len() > 320 || !b.contains('.') || b.contains(char::is_whitespace) {
            return Err(ApiError::field(
                &format!("blocked[{i}]"),
                "invalid_entry",
                "an address or a domain",
            ));
        }
    }
    let value = serde_json::to_value(&settings).map_err(ApiError::internal)?;
    app.store.set_email_settings(&auth.scope, &value).await?;
    Ok(Json(settings))
}

/// The mailboxes a captured e-mail was seen in (`imap:<user>/<folder>`, `smtp:<address>`,
/// `upload:<file>`, `import:<path>`): one log, however many mailboxes held the message.
#[utoipa::path(get, path = "/api/communication-logs/{id}/mailboxes/", tag = "email", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<String>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_log_mailboxes(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<String>>> {
    auth.require(Permission::ReadLogs)?;
    app.store.get_log(&auth.scope, id).await?;
    Ok(Json(app.store.email_sightings(&auth.scope, id).await?))
}
