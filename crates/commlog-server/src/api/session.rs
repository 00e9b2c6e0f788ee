//! `/api/auth/`: sign in with email and password, refresh the access token, and `me`.

use crate::auth::{Auth, verify_password};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use commlog_domain::User;
use commlog_store::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// A pair of tokens.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

fn tokens(app: &AppState, user: &User) -> ApiResult<TokenResponse> {
    let (access_token, expires_in) = app.jwt.issue(user, "access")?;
    let (refresh_token, _) = app.jwt.issue(user, "refresh")?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in,
    })
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let denied = || ApiError::unauthorized("email or password is wrong");
    if req.password.len() > 1024 || req.email.len() > 320 {
        return Err(denied());
    }
    let found = app.store.login_user(&req.email).await?;
    let Some(found) = found else {
        // Spend the same time as a real check, so response time does not reveal which emails exist.
        let _ = verify_password(&req.password, &DUMMY_HASH);
        return Err(denied());
    };
    if !verify_password(&req.password, &found.password_hash) || !found.user.is_active {
        return Err(denied());
    }
    app.store
        .record_login(&Scope::admin(found.user.company_id, found.user.id))
        .await?;
    Ok(Json(tokens(&app, &found.user)?))
}

/// A real hash, verified against when the email is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::auth::hash_password("no such user anywhere").unwrap_or_default()
});

/// Exchange a refresh token for a new pair (the user is re-read, so role changes apply).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let claims = app.jwt.verify(&req.refresh_token, "refresh")?;
    let user = app
        .store
        .get_active_user(claims.cid, claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user is no longer active"))?;
    Ok(Json(tokens(&app, &user)?))
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
