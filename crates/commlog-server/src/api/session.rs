//! `/api/auth/`: sign-in (password, then a second factor when enrolled or required), refresh
//! with rotation (a reused refresh token ends its session), sign-out, the user's sessions,
//! password change, and TOTP enrolment with recovery codes.

use crate::auth::{
    Auth, Claims, check_password_policy, hash_password, request_meta, verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::totp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use commlog_domain::{Session, User};
use commlog_store::{NewSession, RequestMeta, Rotation, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Failed passwords in a row before the account locks, and the first lock's length.
const LOCK_AFTER: i32 = 5;
const LOCK_SECONDS: i64 = 300;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The answer to a sign-in: tokens, or the second step it still needs.
#[derive(Serialize, ToSchema, Default)]
pub struct TokenResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `Bearer` when tokens are given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Seconds until the access token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// The password was right; now send a TOTP or recovery code to `/api/auth/mfa/verify`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mfa_required: bool,
    /// The company requires MFA for this role: enrol with `mfa_token` at `/api/auth/mfa/enroll`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mfa_enrollment_required: bool,
    /// Short-lived token for the second step only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
    /// After enrolment: the single-use recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// Starts a session and returns its first token pair.
async fn start_session(
    app: &AppState,
    user: &User,
    mfa_passed: bool,
    meta: RequestMeta,
) -> ApiResult<TokenResponse> {
    let (sid, refresh_jti) = (Uuid::now_v7(), Uuid::now_v7());
    let (access, expires_in) = app.jwt.issue(user, "access", Some(sid), Uuid::now_v7())?;
    let (refresh, ttl) = app.jwt.issue(user, "refresh", Some(sid), refresh_jti)?;
    let expires_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(ttl);
    let scope = Scope {
        actor: Scope::admin(user.company_id, user.id).actor,
        meta,
    };
    app.store
        .create_session(
            &scope,
            &NewSession {
                id: sid,
                refresh_jti,
                mfa_passed,
                expires_at,
            },
        )
        .await?;
    Ok(TokenResponse {
        access_token: Some(access),
        refresh_token: Some(refresh),
        token_type: Some("Bearer".into()),
        expires_in: Some(expires_in),
        ..Default::default()
    })
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let denied = || ApiError::unauthorized("email or password is wrong");
    let meta = request_meta(&parts);
    if req.password.len() > 1024 || req.email.len() > 320 {
        return Err(denied());
    }
    let Some(found) = app.store.login_user(&req.email).await? else {
        // Spend the same time as a real check, so response time does not reveal which emails exist.
        let _ = verify_password(&req.password, &DUMMY_HASH);
        return Err(denied());
    };
    let user = found.user;
    if let Some(until) = found
        .locked_until
        .filter(|u| *u > time::OffsetDateTime::now_utc())
    {
        let wait = (until - time::OffsetDateTime::now_utc())
            .whole_seconds()
            .max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "account_locked",
            "too many failed sign-ins; try again later",
        )
        .with_details(serde_json::json!({"retry_after_seconds": wait})));
    }
    if !verify_password(&req.password, &found.password_hash) {
        app.store
            .record_failed_login(user.company_id, user.id, LOCK_AFTER, LOCK_SECONDS, &meta)
            .await?;
        return Err(denied());
    }
    if !user.is_active {
        return Err(denied());
    }
    let company = app
        .store
        .get_company(&Scope::admin(user.company_id, user.id))
        .await?;
    let must_use_mfa = company.mfa_required_roles.contains(&user.role);
    if found.mfa_enabled || must_use_mfa {
        let (mfa_token, _) = app.jwt.issue(&user, "mfa", None, Uuid::now_v7())?;
        return Ok(Json(TokenResponse {
            mfa_required: found.mfa_enabled,
            mfa_enrollment_required: !found.mfa_enabled,
            mfa_token: Some(mfa_token),
            ..Default::default()
        }));
    }
    Ok(Json(start_session(&app, &user, false, meta).await?))
}

/// A real hash, verified against when the email is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("no such user anywhere").unwrap_or_default());

/// Exchange a refresh token for a new pair. Each refresh token works once: presenting an
/// older one again ends the session (it was copied).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let claims = app.jwt.verify(&req.refresh_token, "refresh")?;
    let sid = claims
        .sid
        .ok_or_else(|| ApiError::unauthorized("the token is invalid or has expired"))?;
    let next = Uuid::now_v7();
    match app
        .store
        .rotate_session(claims.cid, sid, claims.jti, next)
        .await?
    {
        Rotation::Rotated { user, .. } => {
            let (access, expires_in) = app.jwt.issue(&user, "access", Some(sid), Uuid::now_v7())?;
            let (refresh, _) = app.jwt.issue(&user, "refresh", Some(sid), next)?;
            Ok(Json(TokenResponse {
                access_token: Some(access),
                refresh_token: Some(refresh),
                token_type: Some("Bearer".into()),
                expires_in: Some(expires_in),
                ..Default::default()
            }))
        }
        Rotation::Reused => Err(ApiError::unauthorized(
            "this refresh token was already used; the session has been ended",
        )),
        Rotation::Invalid => Err(ApiError::unauthorized(
            "the session has ended; sign in again",
        )),
    }
}

/// End the current session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn logout(State(app): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    if let Some(sid) = auth.session_id {
        app.store
            .revoke_session(&auth.scope, auth.actor().user_id, sid, "logout")
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = User), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn me(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<User>> {
    Ok(Json(
        app.store
            .get_user(&auth.scope, auth.actor().user_id)
            .await?,
    ))
}

/// The signed-in user's sessions, newest first.
#[utoipa::path(get, path = "/api/auth/sessions/", tag = "auth", responses((status = 200, body = Vec<Session>)), security(("bearer" = [])))]
pub async fn list_my_sessions(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<Session>>> {
    Ok(Json(
        app.store
            .list_sessions(&auth.scope, auth.actor().user_id)
            .await?,
    ))
}

/// End one of the signed-in user's sessions (e.g. a lost phone).
#[utoipa::path(delete, path = "/api/auth/sessions/{id}/", tag = "auth", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_my_session(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    app.store
        .revoke_session(&auth.scope, auth.actor().user_id, id, "revoked_by_user")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change your password; every other session ends.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn change_password(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let me = app
        .store
        .get_user(&auth.scope, auth.actor().user_id)
        .await?;
    let found = app
        .store
        .login_user(&me.email)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !verify_password(&req.current_password, &found.password_hash) {
        return Err(ApiError::field(
            "current_password",
            "wrong_password",
            "the current password is wrong",
        ));
    }
    check_password_policy(&req.new_password)?;
    app.store
        .set_user_password(&auth.scope, me.id, &hash_password(&req.new_password)?)
        .await?;
    app.store
        .revoke_user_sessions(&auth.scope, me.id, "password_changed")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is doing an MFA step: a signed-in user, or one holding the sign-in's `mfa_token`.
async fn mfa_subject(
    app: &AppState,
    parts: &Parts,
    mfa_token: Option<&str>,
) -> ApiResult<(User, bool)> {
    if let Some(t) = mfa_token {
        let c: Claims = app.jwt.verify(t, "mfa")?;
        let user = app
            .store
            .get_active_user(c.cid, c.sub)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the user is no longer active"))?;
        return Ok((user, true));
    }
    let mut parts = parts.clone();
    let auth =
        <Auth as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, app)
            .await?;
    let user = app
        .store
        .get_user(&auth.scope, auth.actor().user_id)
        .await?;
    Ok((user, false))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MfaEnrollRequest {
    /// The sign-in's `mfa_token` when enrolling during sign-in; omit when signed in.
    #[serde(default)]
    pub mfa_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MfaEnrollment {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    /// The same as an `otpauth://` URI (for a QR code).
    pub otpauth_uri: String,
}

/// Start TOTP enrolment: returns a new secret; it takes effect once `/api/auth/mfa/activate`
/// confirms a code from it.
#[utoipa::path(post, path = "/api/auth/mfa/enroll", tag = "auth", request_body = MfaEnrollRequest, security((), ("bearer" = [])),
    responses((status = 200, body = MfaEnrollment), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn enroll_mfa(
    State(app): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<MfaEnrollRequest>,
) -> ApiResult<Json<MfaEnrollment>> {
    let (user, _) = mfa_subject(&app, &parts, req.mfa_token.as_deref()).await?;
    let found = app
        .store
        .login_user(&user.email)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if found.mfa_enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_already_enabled",
            "MFA is already active for this user",
        ));
    }
    let secret = totp::new_secret();
    let scope = Scope::admin(user.company_id, user.id);
    app.store
        .set_mfa(&scope, user.id, Some(&secret), false, &[])
        .await?;
    Ok(Json(MfaEnrollment {
        otpauth_uri: totp::otpauth_uri(&secret, &user.email, "Commlog"),
        secret,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeRequest {
    /// The sign-in's `mfa_token` (required at `/verify`, and at `/activate` during sign-in).
    #[serde(default)]
    pub mfa_token: Option<String>,
    /// A 6-digit code from the authenticator app.
    #[serde(default)]
    pub code: Option<String>,
    /// Or one of the recovery codes (each works once).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// Confirm enrolment with a code: MFA becomes active and recovery codes are returned (once).
/// During sign-in this also starts the session.
#[utoipa::path(post, path = "/api/auth/mfa/activate", tag = "auth", request_body = MfaCodeRequest, security((), ("bearer" = [])),
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn activate_mfa(
    State(app): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let (user, signing_in) = mfa_subject(&app, &parts, req.mfa_token.as_deref()).await?;
    let found = app
        .store
        .login_user(&user.email)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let secret = found
        .mfa_secret
        .filter(|_| !found.mfa_enabled)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "mfa_not_enrolling",
                "start with /api/auth/mfa/enroll",
            )
        })?;
    let code = req.code.as_deref().unwrap_or("");
    if totp::verify(
        &secret,
        code,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .is_none()
    {
        return Err(ApiError::field(
            "code",
            "invalid_code",
            "the code does not match; check the device's clock",
        ));
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let scope = Scope::admin(user.company_id, user.id);
    app.store
        .set_mfa(&scope, user.id, Some(&secret), true, &hashes)
        .await?;
    let mut response = if signing_in {
        start_session(&app, &user, true, request_meta(&parts)).await?
    } else {
        TokenResponse::default()
    };
    response.recovery_codes = Some(codes);
    Ok(Json(response))
}

/// The second step of sign-in: a TOTP code or a recovery code, with the `mfa_token`.
#[utoipa::path(post, path = "/api/auth/mfa/verify", tag = "auth", request_body = MfaCodeRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn verify_mfa(
    State(app): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let token = req
        .mfa_token
        .as_deref()
        .ok_or_else(|| ApiError::unauthorized("mfa_token is required"))?;
    let (user, _) = mfa_subject(&app, &parts, Some(token)).await?;
    let found = app
        .store
        .login_user(&user.email)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if found
        .locked_until
        .is_some_and(|u| u > time::OffsetDateTime::now_utc())
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "account_locked",
            "too many failed attempts; try again later",
        ));
    }
    let meta = request_meta(&parts);
    let passed = match (
        &found.mfa_secret,
        found.mfa_enabled,
        &req.code,
        &req.recovery_code,
    ) {
        (Some(secret), true, Some(code), _) => totp::verify(
            secret,
            code,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        )
        .is_some(),
        (_, true, None, Some(recovery)) => {
            app.store
                .use_recovery_code(user.company_id, user.id, &totp::recovery_hash(recovery))
                .await?
        }
        _ => false,
    };
    if !passed {
        app.store
            .record_failed_login(user.company_id, user.id, LOCK_AFTER, LOCK_SECONDS, &meta)
            .await?;
        return Err(ApiError::unauthorized("the code is wrong or expired"));
    }
    Ok(Json(start_session(&app, &user, true, meta).await?))
}
