//! The web app, served by the same binary: server-rendered pages (askama templates, every
//! value escaped), one small script of our own for live updates and conveniences, a strict
//! Content-Security-Policy without inline scripts, cookie sessions with CSRF tokens. Every page
//! reads and writes through the store with the signed-in user's scope and the API's rules.

pub mod actions;
pub mod assets;
pub mod charts;
pub mod pages;
pub mod session;
pub mod settings;
pub mod timeline;
pub mod view;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// Pages may load our own script, styles and images, talk to our own origin (the WebSocket
/// included), and nothing else; no inline script or style, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The web app's routes, with the signed-in user attached to each request.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/login/mfa", post(pages::mfa_submit))
        .route("/logout", post(pages::logout))
        .route("/calls", get(pages::calls))
        .route("/emails", get(pages::emails))
        .route("/messages", get(pages::messages))
        .route(
            "/log/new",
            get(actions::quick_form).post(actions::quick_log),
        )
        .route("/logs/bulk", post(actions::bulk))
        .route("/logs/{id}", get(pages::detail))
        .route("/logs/{id}/row", get(pages::row))
        .route("/logs/{id}/assign", post(actions::assign))
        .route("/logs/{id}/status", post(actions::status))
        .route("/logs/{id}/notes", post(actions::note))
        .route("/logs/{id}/files/{file}", get(pages::file))
        .route("/customers/{id}", get(timeline::customer))
        .route("/contacts/{id}", get(timeline::contact))
        .route("/settings", get(settings::page))
        .route("/settings/users", post(settings::add_user))
        .route("/settings/users/{id}", post(settings::change_user))
        .route("/settings/teams", post(settings::add_team))
        .route("/settings/categories", post(settings::add_category))
        .route("/settings/channels/{id}", post(settings::change_channel))
        .route("/analytics", get(charts::page))
        .route("/web/analytics/volume.csv", get(charts::export))
        .route("/web/people", get(pages::people))
        .route("/web/ws-ticket", post(session::ws_ticket))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::attach_user,
        ))
        // Our own files need no session: served without looking one up.
        .route("/assets/{file}", get(assets::serve))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CSP),
        ))
}

#[derive(askama::Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: view::Layout,
    text: String,
    back: String,
    back_label: String,
}

/// The page for a log or page that does not exist, or that the user may not see.
pub fn not_found(user: &session::WebUser, headers: &HeaderMap) -> Response {
    let mut res = view::render(&MessagePage {
        layout: view::Layout::new("Not found", "missing", Some(user), headers),
        text: "There is nothing here, or it is not yours to see.".into(),
        back: "/".into(),
        back_label: "Go to the home page".into(),
    });
    *res.status_mut() = StatusCode::NOT_FOUND;
    res
}
