//! What every page shares: the layout's fields, rendering, the signed-in-user extractor that
//! sends visitors to sign in, one-shot messages across a redirect, and how values are shown
//! (times in the company's zone, labels for codes).

use super::session::{WebUser, csrf_of};
use crate::state::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use commlog_domain::CommunicationLog;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// The fields `base.html` reads.
pub struct Layout {
    pub title: String,
    /// The page's name (`home`, `calls`, …): marks the current tab.
    pub page: &'static str,
    pub csrf: String,
    pub user_name: String,
    pub signed_in: bool,
    /// Whether the Settings tab shows (managers and administrators).
    pub can_settings: bool,
}

impl Layout {
    pub fn new(
        title: impl Into<String>,
        page: &'static str,
        user: Option<&WebUser>,
        headers: &HeaderMap,
    ) -> Self {
        Self {
            title: title.into(),
            page,
            // A first visit has no cookie yet: the response sets one, and the next form carries it.
            csrf: csrf_of(headers).unwrap_or_default(),
            user_name: user.map(|u| u.full_name.clone()).unwrap_or_default(),
            signed_in: user.is_some(),
            can_settings: user.is_some_and(|u| {
                u.actor.can(commlog_domain::Permission::ManageCategories)
                    || u.actor.can(commlog_domain::Permission::ManageUsers)
            }),
        }
    }
}

/// Renders a page (a template error is a server fault, shown as a plain 500).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    }
}

/// The signed-in user; anyone else is sent to sign in and brought back afterwards.
pub struct Signed(pub WebUser);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<WebUser>() {
            Some(u) => Ok(Signed(u.clone())),
            None => {
                let back = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let to = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
                );
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

const FLASH_COOKIE: &str = "commlog_flash";

/// A redirect that shows `message` once on the next page.
pub fn redirect_with(to: &str, message: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    let value: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The one-shot message of the previous step, if any.
pub fn flash(headers: &HeaderMap) -> Option<String> {
    let raw = super::session::cookie(headers, FLASH_COOKIE)?;
    let text: String = url::form_urlencoded::parse(format!("m={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (!text.is_empty()).then(|| text.chars().take(300).collect())
}

/// Clears the one-shot message on a page that showed it.
pub fn clear_flash(mut res: Response, shown: bool) -> Response {
    if shown {
        res.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("commlog_flash=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    res
}

/// A time as the company's people read it.
pub fn local(t: OffsetDateTime, tz: chrono_tz::Tz) -> String {
    use chrono::{Datelike, TimeZone, Timelike};
    match tz.timestamp_opt(t.unix_timestamp(), 0).single() {
        Some(l) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            l.year(),
            l.month(),
            l.day(),
            l.hour(),
            l.minute()
        ),
        None => t.to_string(),
    }
}

/// `in_progress` → `In progress`.
pub fn label(code: &str) -> String {
    if code == "sms" {
        return "SMS".into();
    }
    let text = code.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// One log in a list.
pub struct Row {
    pub id: Uuid,
    pub time: String,
    pub subject: String,
    pub kind: String,
    pub direction: String,
    pub status: String,
    pub priority: String,
    pub assignee: String,
    pub sentiment: String,
    pub follow_up: String,
}

impl Row {
    pub fn of(l: &CommunicationLog, tz: chrono_tz::Tz, names: &HashMap<Uuid, String>) -> Self {
        Row {
            id: l.id,
            time: local(l.start_time, tz),
            subject: if l.subject.trim().is_empty() {
                "(no subject)".into()
            } else {
                l.subject.clone()
            },
            kind: label(l.communication_type.as_str()),
            direction: label(l.direction.as_str()),
            status: label(l.status.as_str()),
            priority: label(l.priority.as_str()),
            assignee: l
                .assigned_to_user_id
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_else(|| "Unassigned".into()),
            sentiment: l
                .sentiment
                .map(|s| label(s.as_str()))
                .unwrap_or_else(|| "—".into()),
            follow_up: l
                .follow_up_date
                .filter(|_| l.requires_follow_up)
                .map(|d| local(d, tz))
                .unwrap_or_default(),
        }
    }
}
