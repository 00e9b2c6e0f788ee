//! Signing in to the web app: the API's own sign-in (lockout, MFA) behind a form, tokens kept
//! in HttpOnly cookies, and CSRF protection for every form.
//!
//! - `commlog_access` holds the 15-minute access token, `commlog_refresh` the refresh token;
//!   when the access token has expired the refresh token is rotated (each works once, as in the
//!   API) and both cookies are replaced on the response. Both are `HttpOnly`, `SameSite=Lax`,
//!   and `Secure` when the server speaks TLS.
//! - `commlog_csrf` holds a random token that every state-changing form repeats in a hidden
//!   field (`csrf`) and every script request in the `x-csrf-token` header; another site can
//!   neither read the cookie nor set it, so it cannot forge the pair.

use crate::api::session::{LoginRequest, MfaCodeRequest, RefreshRequest, TokenResponse};
use crate::auth::{Auth, request_meta, session_actor};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use commlog_domain::Actor;
use rand::RngCore;
use serde::Deserialize;
use uuid::Uuid;

pub const ACCESS_COOKIE: &str = "commlog_access";
pub const REFRESH_COOKIE: &str = "commlog_refresh";
pub const CSRF_COOKIE: &str = "commlog_csrf";

/// The signed-in user of a web request (put in the request's extensions by [`attach_user`]).
#[derive(Clone)]
pub struct WebUser {
    pub actor: Actor,
    pub session_id: Uuid,
    pub full_name: String,
}

impl WebUser {
    /// The API caller this user is, to share the API's handlers and rules.
    pub fn auth(&self, state: &AppState, parts_meta: commlog_store::RequestMeta) -> Auth {
        Auth::for_session(state, self.actor.clone(), self.session_id, parts_meta)
    }

    pub fn scope(&self) -> commlog_store::Scope {
        commlog_store::Scope::new(self.actor.clone())
    }
}

/// The request's cookies by name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.http.tls { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookies of a fresh or rotated session.
fn session_cookies(state: &AppState, tokens: &TokenResponse) -> Vec<HeaderValue> {
    let mut out = Vec::new();
    if let Some(a) = &tokens.access_token {
        out.push(set_cookie(
            state,
            ACCESS_COOKIE,
            a,
            crate::auth::ACCESS_TTL_SECONDS,
        ));
    }
    if let Some(r) = &tokens.refresh_token {
        out.push(set_cookie(
            state,
            REFRESH_COOKIE,
            r,
            crate::auth::REFRESH_TTL_SECONDS,
        ));
    }
    out
}

/// A new random CSRF token.
pub fn new_csrf() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The request's CSRF token, if its cookie is set.
pub fn csrf_of(headers: &HeaderMap) -> Option<String> {
    cookie(headers, CSRF_COOKIE)
        .filter(|c| c.len() == 48 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// Whether a submitted token matches the cookie (constant time).
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    use subtle::ConstantTimeEq;
    csrf_of(headers).is_some_and(|c| bool::from(c.as_bytes().ct_eq(submitted.as_bytes())))
}

/// Finds the signed-in user from the cookies (rotating an expired access token) and puts it in
/// the request's extensions; sets the new cookies on the response.
pub async fn attach_user(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let mut refreshed = Vec::new();
    let mut user = None;
    if let Some(claims) =
        cookie(&headers, ACCESS_COOKIE).and_then(|t| app.jwt.verify(t, "access").ok())
    {
        user = session_actor(&app, &claims).await.ok();
    }
    if user.is_none()
        && let Some(refresh) = cookie(&headers, REFRESH_COOKIE)
    {
        let rotated = crate::api::session::refresh(
            State(app.clone()),
            ApiJson(RefreshRequest {
                refresh_token: refresh.to_owned(),
            }),
        )
        .await;
        if let Ok(Json(tokens)) = rotated
            && let Some(claims) = tokens
                .access_token
                .as_deref()
                .and_then(|t| app.jwt.verify(t, "access").ok())
        {
            refreshed = session_cookies(&app, &tokens);
            user = session_actor(&app, &claims).await.ok();
        }
    }
    if let Some((actor, sid)) = user {
        let full_name = app
            .store
            .get_user(&commlog_store::Scope::new(actor.clone()), actor.user_id)
            .await
            .map(|u| u.full_name)
            .unwrap_or_default();
        req.extensions_mut().insert(WebUser {
            actor,
            session_id: sid,
            full_name,
        });
    }
    // A first visit gets its CSRF token now: added to the request as if the browser had sent
    // it, so the page's forms carry it, and set on the response.
    let fresh_csrf = csrf_of(&headers).is_none().then(new_csrf);
    if let Some(token) = &fresh_csrf
        && let Ok(v) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={token}"))
    {
        req.headers_mut().append(header::COOKIE, v);
    }
    let mut res = next.run(req).await;
    for c in refreshed {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    if let Some(token) = fresh_csrf {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&app, CSRF_COOKIE, &token, crate::auth::REFRESH_TTL_SECONDS),
        );
    }
    res
}

/// Where to go after signing in: a local path only, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MfaForm {
    pub mfa_token: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// What a sign-in step led to.
pub enum SignIn {
    /// Signed in: go on, with the session's cookies.
    Done(Response),
    /// The password was right; a second factor is needed.
    NeedsMfa { mfa_token: String, enrol: bool },
    /// Refused, with the reason to show.
    Refused(String),
}

fn signed_in(app: &AppState, tokens: &TokenResponse, next: Option<&str>) -> Response {
    let mut res = Redirect::to(&safe_next(next)).into_response();
    for c in session_cookies(app, tokens) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn refusal(e: ApiError) -> String {
    e.message
}

/// Checks the password through the API's sign-in.
pub async fn password_step(app: &AppState, parts: Parts, form: &LoginForm) -> SignIn {
    if !csrf_ok(&parts.headers, &form.csrf) {
        return SignIn::Refused("The form expired; please try again.".into());
    }
    let login = crate::api::session::login(
        State(app.clone()),
        parts,
        ApiJson(LoginRequest {
            email: form.email.clone(),
            password: form.password.clone(),
        }),
    )
    .await;
    match login {
        Ok(Json(tokens)) if tokens.access_token.is_some() => {
            SignIn::Done(signed_in(app, &tokens, form.next.as_deref()))
        }
        Ok(Json(tokens)) => match tokens.mfa_token {
            Some(mfa_token) => SignIn::NeedsMfa {
                mfa_token,
                enrol: tokens.mfa_enrollment_required,
            },
            None => SignIn::Refused("Sign-in failed.".into()),
        },
        Err(e) => SignIn::Refused(refusal(e)),
    }
}

/// Checks the second factor through the API's verification.
pub async fn mfa_step(app: &AppState, parts: Parts, form: &MfaForm) -> SignIn {
    if !csrf_ok(&parts.headers, &form.csrf) {
        return SignIn::Refused("The form expired; please sign in again.".into());
    }
    let code = form.code.trim().to_owned();
    let (code, recovery_code) = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        (Some(code), None)
    } else {
        (None, Some(code))
    };
    let verified = crate::api::session::verify_mfa(
        State(app.clone()),
        parts,
        ApiJson(MfaCodeRequest {
            mfa_token: Some(form.mfa_token.clone()),
            code,
            recovery_code,
        }),
    )
    .await;
    match verified {
        Ok(Json(tokens)) if tokens.access_token.is_some() => {
            SignIn::Done(signed_in(app, &tokens, form.next.as_deref()))
        }
        Ok(_) => SignIn::Refused("The code was not accepted.".into()),
        Err(e) => SignIn::Refused(refusal(e)),
    }
}

/// Ends the session and clears the cookies.
pub async fn sign_out(app: &AppState, user: Option<&WebUser>, parts: &Parts) -> Response {
    if let Some(u) = user {
        let auth = u.auth(app, request_meta(parts));
        let _ = crate::api::session::logout(State(app.clone()), auth).await;
    }
    let mut res = Redirect::to("/login").into_response();
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        res.headers_mut()
            .append(header::SET_COOKIE, set_cookie(app, name, "", 0));
    }
    res
}

/// `POST /web/ws-ticket`: a WebSocket ticket for the page's script (CSRF header required).
pub async fn ws_ticket(State(app): State<AppState>, parts: Parts) -> Response {
    let Some(user) = parts.extensions.get::<WebUser>().cloned() else {
        return ApiError::unauthorized("sign in first").into_response();
    };
    let token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !csrf_ok(&parts.headers, token) {
        return ApiError::forbidden("missing or wrong CSRF token").into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    match crate::events::ws::create_ws_ticket(State(app), auth).await {
        Ok(t) => t.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Form bodies of the web app: checked for their CSRF token before anything else.
pub fn check_form_csrf(headers: &HeaderMap, csrf: &str) -> Result<(), ApiError> {
    if csrf_ok(headers, csrf) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "the form expired or came from elsewhere; reload the page and try again",
        ))
    }
}
