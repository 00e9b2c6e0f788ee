//! `/api/mail-accounts/`: the company's IMAP mailboxes (admins). Passwords are sealed with the
//! master key and never shown; each account shows its sync status, last error and per-folder
//! checkpoints. `commlog serve` keeps every active account in sync.

use crate::auth::Auth;
use crate::capture::imap::password_context;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commlog_domain::Permission;
use commlog_domain::records::{MailAccount, MailAccountInput};
use uuid::Uuid;

/// Checks an input; `creating` requires every field a connection needs.
fn validate(i: &mut MailAccountInput, creating: bool) -> Result<(), ApiError> {
    let need = |field: &str, present: bool| {
        if creating && !present {
            Err(ApiError::field(
                field,
                "required",
                format!("{field} is required"),
            ))
        } else {
            Ok(())
        }
    };
    need("host", i.host.is_some())?;
    need("username", i.username.is_some())?;
    need("password", i.password.is_some())?;
    if let Some(h) = &i.host {
        let ok = !h.is_empty()
            && h.len() <= 255
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        if !ok {
            return Err(ApiError::field(
                "host",
                "invalid_host",
                "a host name or IP address",
            ));
        }
    }
    if let Some(p) = i.port
        && !(1..=65535).contains(&p)
    {
        return Err(ApiError::field(
            "port",
            "out_of_range",
            "a port from 1 to 65535",
        ));
    }
    if let Some(s) = &i.security
        && !matches!(s.as_str(), "tls" | "starttls" | "plain")
    {
        return Err(ApiError::field(
            "security",
            "unknown_security",
            "tls, starttls or plain",
        ));
    }
    for (field, value, max) in [
        ("username", &i.username, 320),
        ("password", &i.password, 1024),
        ("name", &i.name, 200),
    ] {
        if let Some(v) = value
            && (v.is_empty() || v.chars().count() > max || v.contains(['\r', '\n', '\0']))
        {
            return Err(ApiError::field(
                field,
                "invalid_length",
                format!("1 to {max} characters, on one line"),
            ));
        }
    }
    match &mut i.folders {
        Some(f)
            if f.is_empty()
                || f.len() > 20
                || f.iter().any(|n| {
                    n.is_empty() || n.len() > 200 || n.contains(['\r', '\n', '"', '\0'])
                }) =>
        {
            return Err(ApiError::field(
                "folders",
                "invalid_folders",
                "1 to 20 folder names",
            ));
        }
        None if creating => i.folders = Some(vec!["INBOX".into(), "Sent".into()]),
        _ => {}
    }
    if creating {
        i.name
            .get_or_insert_with(|| i.username.clone().unwrap_or_default());
    }
    Ok(())
}

/// The company's IMAP mailboxes.
#[utoipa::path(get, path = "/api/mail-accounts/", tag = "email", responses((status = 200, body = Vec<MailAccount>)), security(("bearer" = [])))]
pub async fn list_mail_accounts(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<MailAccount>>> {
    auth.require(Permission::ManageIntegrations)?;
    Ok(Json(app.store.list_mail_accounts(&auth.scope).await?))
}

/// Connect a mailbox: `host`, `port` (993), `security` (`tls`, `starttls`, `plain`), `username`,
/// `password`, `folders` (`INBOX`, `Sent`), `start_date` (backfill since).
#[utoipa::path(post, path = "/api/mail-accounts/", tag = "email", request_body = MailAccountInput,
    responses((status = 201, body = MailAccount), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_mail_account(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(mut input): ApiJson<MailAccountInput>,
) -> ApiResult<(StatusCode, Json<MailAccount>)> {
    auth.require(Permission::ManageIntegrations)?;
    validate(&mut input, true)?;
    let id = commlog_domain::new_id();
    let sealed = app.cipher.seal(
        input.password.as_deref().unwrap_or_default(),
        &password_context(id),
    );
    let account = app
        .store
        .create_mail_account(&auth.scope, id, &input, &sealed)
        .await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// One mailbox with its sync status.
#[utoipa::path(get, path = "/api/mail-accounts/{id}/", tag = "email", params(("id" = Uuid, Path)),
    responses((status = 200, body = MailAccount), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_mail_account(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<MailAccount>> {
    auth.require(Permission::ManageIntegrations)?;
    Ok(Json(app.store.get_mail_account(&auth.scope, id).await?))
}

/// Change a mailbox (a new password, folders, pause with `is_active: false`, …).
#[utoipa::path(patch, path = "/api/mail-accounts/{id}/", tag = "email", params(("id" = Uuid, Path)), request_body = MailAccountInput,
    responses((status = 200, body = MailAccount), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_mail_account(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut input): ApiJson<MailAccountInput>,
) -> ApiResult<Json<MailAccount>> {
    auth.require(Permission::ManageIntegrations)?;
    validate(&mut input, false)?;
    let sealed = input
        .password
        .as_deref()
        .map(|p| app.cipher.seal(p, &password_context(id)));
    Ok(Json(
        app.store
            .update_mail_account(&auth.scope, id, &input, sealed.as_deref())
            .await?,
    ))
}

/// Disconnect a mailbox (its logs stay).
#[utoipa::path(delete, path = "/api/mail-accounts/{id}/", tag = "email", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_mail_account(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageIntegrations)?;
    app.store.delete_mail_account(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
