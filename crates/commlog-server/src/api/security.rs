//! Administration of access: users' passwords, sessions and MFA, the company's MFA policy,
//! API tokens for integrations, and the audit trail.

use crate::auth::{Auth, check_password_policy, hash_password, new_api_token};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commlog_domain::filters::AuditFilter;
use commlog_domain::permissions::PERMISSION_NAMES;
use commlog_domain::records::{ApiToken, AuditEntry, Company, Session};
use commlog_domain::{Permission, Role};
use commlog_store::NewApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub new_password: String,
}

/// Set a user's password (admins); all their sessions end.
#[utoipa::path(post, path = "/api/users/{id}/password/", tag = "security", params(("id" = Uuid, Path)), request_body = PasswordReset,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reset_user_password(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PasswordReset>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageUsers)?;
    check_password_policy(&req.new_password)?;
    app.store
        .set_user_password(&auth.scope, id, &hash_password(&req.new_password)?)
        .await?;
    app.store
        .revoke_user_sessions(&auth.scope, id, "password_reset_by_admin")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's sessions (admins).
#[utoipa::path(get, path = "/api/users/{id}/sessions/", tag = "security", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Session>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_user_sessions(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<Session>>> {
    auth.require(Permission::ManageUsers)?;
    app.store.get_user(&auth.scope, id).await?;
    Ok(Json(app.store.list_sessions(&auth.scope, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    pub sessions_revoked: u64,
}

/// End every session of a user (admins).
#[utoipa::path(post, path = "/api/users/{id}/sessions/revoke/", tag = "security", params(("id" = Uuid, Path)),
    responses((status = 200, body = Revoked), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_user_sessions(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Revoked>> {
    auth.require(Permission::ManageUsers)?;
    app.store.get_user(&auth.scope, id).await?;
    let n = app
        .store
        .revoke_user_sessions(&auth.scope, id, "revoked_by_admin")
        .await?;
    Ok(Json(Revoked {
        sessions_revoked: n,
    }))
}

/// Remove a user's second factor (a lost device); they enrol again at the next sign-in if required.
#[utoipa::path(post, path = "/api/users/{id}/mfa/reset/", tag = "security", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reset_user_mfa(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageUsers)?;
    app.store.set_mfa(&auth.scope, id, None, false, &[]).await?;
    app.store
        .revoke_user_sessions(&auth.scope, id, "mfa_reset")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanySecurity {
    /// Roles that must use a second factor (the blueprint asks it of representatives and up).
    #[serde(default)]
    pub mfa_required_roles: Option<Vec<Role>>,
    /// The company's IANA time zone (e.g. `Europe/Berlin`): where its days, weeks and
    /// business hours begin and end in reports and follow-up dates.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Set the company's MFA policy and time zone (admins).
#[utoipa::path(patch, path = "/api/company/", tag = "security", request_body = CompanySecurity,
    responses((status = 200, body = Company), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_company_security(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CompanySecurity>,
) -> ApiResult<Json<Company>> {
    auth.require(Permission::ManageUsers)?;
    if let Some(tz) = &req.timezone {
        app.store.set_company_timezone(&auth.scope, tz).await?;
    }
    if let Some(roles) = &req.mfa_required_roles {
        app.store.set_mfa_policy(&auth.scope, roles).await?;
    }
    Ok(Json(app.store.get_company(&auth.scope).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiTokenRequest {
    pub name: String,
    /// The role whose rights the token may use (at most the creator's own).
    pub role: Role,
    /// Limit to these permissions (e.g. `create_log`, `read_logs`); empty means the role's.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Days until it expires; none means it lasts until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret: send it as `Authorization: Bearer <token>`. Shown only now.
    #[serde(rename = "token")]
    pub secret: String,
}

/// API tokens of the company (admins). Secrets are never shown again.
#[utoipa::path(get, path = "/api/api-tokens/", tag = "security", responses((status = 200, body = Vec<ApiToken>)), security(("bearer" = [])))]
pub async fn list_api_tokens(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ApiToken>>> {
    auth.require(Permission::ManageIntegrations)?;
    Ok(Json(app.store.list_api_tokens(&auth.scope).await?))
}

/// Create an API token for an integration (admins).
#[utoipa::path(post, path = "/api/api-tokens/", tag = "security", request_body = NewApiTokenRequest,
    responses((status = 201, body = CreatedApiToken), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_api_token(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<NewApiTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiToken>)> {
    auth.require(Permission::ManageIntegrations)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field(
            "name",
            "invalid_length",
            "name must be 1 to 100 characters",
        ));
    }
    if rank(req.role) > rank(auth.actor().role) {
        return Err(ApiError::field(
            "role",
            "above_own_role",
            "a token cannot have more rights than its creator",
        ));
    }
    for (i, p) in req.permissions.iter().enumerate() {
        if Permission::parse(p).is_none() {
            let known: Vec<&str> = PERMISSION_NAMES.iter().map(|(_, n)| *n).collect();
            return Err(ApiError::field(
                &format!("permissions[{i}]"),
                "unknown_permission",
                format!("expected one of: {}", known.join(", ")),
            ));
        }
    }
    let (id, secret, token_hash) = new_api_token();
    let expires_at = req.expires_in_days.map(|d| {
        time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(d.clamp(1, 3650)))
    });
    let new = NewApiToken {
        id,
        name: name.to_owned(),
        token_hash,
        role: req.role,
        permissions: req.permissions,
        expires_at,
    };
    let token = app.store.create_api_token(&auth.scope, &new).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiToken { token, secret })))
}

fn rank(r: Role) -> u8 {
    match r {
        Role::SalesRep => 0,
        Role::TeamLead => 1,
        Role::Manager => 2,
        Role::Admin => 3,
    }
}

/// Revoke an API token (admins); it stops working at once.
#[utoipa::path(delete, path = "/api/api-tokens/{id}/", tag = "security", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_api_token(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageIntegrations)?;
    app.store.revoke_api_token(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit trail (admins and compliance), newest first. Entries cannot be changed.
#[utoipa::path(get, path = "/api/audit/", tag = "security", params(AuditFilter),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_audit_entries(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    auth.require(Permission::ReadAudit)?;
    Ok(Json(app.store.list_audit(&auth.scope, &f).await?))
}
