//! The pages: sign-in, home, the Calls / Emails / Messages lists, a log's detail, quick log
//! and analytics. Each reads through the store with the signed-in user's scope, so a page shows
//! exactly what the API would show that user.

use super::session::{self, LoginForm, MfaForm, SignIn, WebUser};
use super::view::{Layout, Row, Signed, clear_flash, flash, label, local, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use commlog_domain::filters::{AttachmentFilter, CategoryFilter, ChannelFilter, UserFilter};
use commlog_domain::list::LogListParams;
use commlog_domain::{CommunicationLog, LogStatus, Priority, Sentiment};
use commlog_store::Scope;
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

/// The company's time zone (UTC when unknown).
pub async fn zone(app: &AppState, scope: &Scope) -> chrono_tz::Tz {
    match app.store.get_company(scope).await {
        Ok(c) => commlog_domain::buckets::parse_zone(&c.timezone).unwrap_or(chrono_tz::UTC),
        Err(_) => chrono_tz::UTC,
    }
}

/// Names of the company's users, for showing assignees.
pub async fn user_names(app: &AppState, scope: &Scope) -> HashMap<Uuid, String> {
    app.store
        .list_users(scope, &UserFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect()
}

/// The logs as the user may read them: masked for the roles the company masks personal data for.
pub async fn readable(
    app: &AppState,
    scope: &Scope,
    mut logs: Vec<CommunicationLog>,
) -> Vec<CommunicationLog> {
    if crate::processing::masking::applies(app, scope)
        .await
        .unwrap_or(true)
    {
        logs.iter_mut()
            .for_each(crate::processing::masking::mask_log);
    }
    logs
}

/// Active users as select options, by name.
async fn user_options(app: &AppState, scope: &Scope) -> Vec<(String, String)> {
    let mut users: Vec<(String, String)> = app
        .store
        .list_users(
            scope,
            &UserFilter {
                is_active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id.to_string(), u.full_name))
        .collect();
    users.sort_by(|a, b| a.1.cmp(&b.1));
    users
}

fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), label(code(*v))))
        .collect()
}

pub fn status_options() -> Vec<(String, String)> {
    use LogStatus::*;
    options(
        &[
            Logged,
            InProgress,
            AwaitingResponse,
            Escalated,
            Resolved,
            Closed,
            Archived,
        ],
        LogStatus::as_str,
    )
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    mfa_token: Option<String>,
    next: String,
    email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    headers: HeaderMap,
    user: Option<axum::Extension<WebUser>>,
    Query(q): Query<NextQuery>,
) -> Response {
    if user.is_some() {
        return axum::response::Redirect::to(&session::safe_next(q.next.as_deref()))
            .into_response();
    }
    render(&LoginPage {
        layout: Layout::new("Sign in", "login", None, &headers),
        error: None,
        mfa_token: None,
        next: session::safe_next(q.next.as_deref()),
        email: String::new(),
    })
}

fn sign_in_answer(
    outcome: SignIn,
    headers: &HeaderMap,
    next: Option<&str>,
    email: String,
) -> Response {
    let page = |error: Option<String>, mfa_token: Option<String>| LoginPage {
        layout: Layout::new("Sign in", "login", None, headers),
        error,
        mfa_token,
        next: session::safe_next(next),
        email: email.clone(),
    };
    match outcome {
        SignIn::Done(res) => res,
        SignIn::NeedsMfa {
            mfa_token,
            enrol: false,
        } => render(&page(None, Some(mfa_token))),
        SignIn::NeedsMfa { enrol: true, .. } => {
            let msg = "Your company requires a second factor. Set it up in the Commlog app or API first (/api/auth/mfa/enroll), then sign in here.";
            with_status(render(&page(Some(msg.into()), None)), StatusCode::FORBIDDEN)
        }
        SignIn::Refused(reason) => {
            with_status(render(&page(Some(reason), None)), StatusCode::UNAUTHORIZED)
        }
    }
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

pub async fn login_submit(
    State(app): State<AppState>,
    parts: Parts,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let headers = parts.headers.clone();
    let outcome = session::password_step(&app, parts, &form).await;
    sign_in_answer(outcome, &headers, form.next.as_deref(), form.email.clone())
}

pub async fn mfa_submit(
    State(app): State<AppState>,
    parts: Parts,
    axum::Form(form): axum::Form<MfaForm>,
) -> Response {
    let headers = parts.headers.clone();
    let outcome = session::mfa_step(&app, parts, &form).await;
    sign_in_answer(outcome, &headers, form.next.as_deref(), String::new())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(app): State<AppState>,
    parts: Parts,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if let Err(e) = session::check_form_csrf(&parts.headers, &form.csrf) {
        return e.into_response();
    }
    let user = parts.extensions.get::<WebUser>().cloned();
    session::sign_out(&app, user.as_ref(), &parts).await
}

// ---------------------------------------------------------------- home

struct Counts {
    open: i64,
    awaiting_response: i64,
    escalated: i64,
    overdue_follow_ups: i64,
}

struct HomeLinks {
    open: String,
    awaiting: String,
    escalated: String,
    overdue: String,
}

struct Group {
    title: &'static str,
    empty: &'static str,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    counters: Counts,
    links: HomeLinks,
    groups: Vec<Group>,
}

async fn rows_for(
    app: &AppState,
    scope: &Scope,
    params: serde_json::Value,
    tz: chrono_tz::Tz,
    names: &HashMap<Uuid, String>,
) -> Vec<Row> {
    let Ok(params) = serde_json::from_value::<LogListParams>(params) else {
        return Vec::new();
    };
    match app.store.list_logs(scope, &params).await {
        Ok(page) => readable(app, scope, page.results)
            .await
            .iter()
            .map(|l| Row::of(l, tz, names))
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub async fn home(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
) -> Response {
    let scope = user.scope();
    let tz = zone(&app, &scope).await;
    let names = user_names(&app, &scope).await;
    let counters = crate::analytics::counters::current(&app, &user.actor)
        .await
        .unwrap_or_default();
    let me = user.actor.user_id.to_string();
    let mine = serde_json::json!({"assigned_to_user_id": me, "page_size": 10});
    let mut open_items = rows_for(&app, &scope, mine, tz, &names).await;
    open_items.retain(|r| !["Resolved", "Closed", "Archived"].contains(&r.status.as_str()));
    let groups = vec![
        Group { title: "My open items", empty: "Nothing assigned to you is open.", rows: open_items },
        Group {
            title: "Follow-ups due",
            empty: "No follow-ups are waiting.",
            rows: rows_for(&app, &scope, serde_json::json!({"requires_follow_up": true, "follow_up_status": "pending", "page_size": 10}), tz, &names).await,
        },
        Group {
            title: "Overdue follow-ups",
            empty: "None overdue.",
            rows: rows_for(&app, &scope, serde_json::json!({"follow_up_status": "overdue", "page_size": 10}), tz, &names).await,
        },
        Group {
            title: "Awaiting a response",
            empty: "No customer is waiting for an answer.",
            rows: rows_for(&app, &scope, serde_json::json!({"status": "awaiting_response", "page_size": 10}), tz, &names).await,
        },
        Group {
            title: "Escalations",
            empty: "Nothing is escalated.",
            rows: rows_for(&app, &scope, serde_json::json!({"status": "escalated", "page_size": 10}), tz, &names).await,
        },
        Group {
            title: "Recent activity",
            empty: "Nothing logged yet. Log your first call with “Log a call”.",
            rows: rows_for(&app, &scope, serde_json::json!({"ordering": "-created_at", "page_size": 10}), tz, &names).await,
        },
    ];
    let shown = flash(&headers);
    let page = HomePage {
        layout: Layout::new("Home", "home", Some(&user), &headers),
        counters: Counts {
            open: counters.open,
            awaiting_response: counters.awaiting_response,
            escalated: counters.escalated,
            overdue_follow_ups: counters.overdue_follow_ups,
        },
        links: HomeLinks {
            open: format!("/calls?assignee={me}"),
            awaiting: "/emails?status=awaiting_response".into(),
            escalated: "/calls?status=escalated".into(),
            overdue: "/calls?follow_up=overdue".into(),
        },
        groups,
    };
    clear_flash(render(&page), shown.is_some())
}

// ---------------------------------------------------------------- lists

/// One tab of logs.
#[derive(Clone, Copy)]
pub enum Tab {
    Calls,
    Emails,
    Messages,
}

impl Tab {
    fn page(self) -> &'static str {
        match self {
            Tab::Calls => "calls",
            Tab::Emails => "emails",
            Tab::Messages => "messages",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Calls => "Calls",
            Tab::Emails => "Emails",
            Tab::Messages => "Messages",
        }
    }

    fn types(self) -> &'static str {
        match self {
            Tab::Calls => "call,voicemail",
            Tab::Emails => "email",
            Tab::Messages => "sms,chat,message",
        }
    }

    /// The tab a log belongs in.
    pub fn of(l: &CommunicationLog) -> &'static str {
        use commlog_domain::CommunicationType::*;
        match l.communication_type {
            Email => "emails",
            Sms | Chat | Message => "messages",
            _ => "calls",
        }
    }
}

/// The list's query string, as the filter form sends it (empty fields mean "any").
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub channel: String,
    pub direction: String,
    pub status: String,
    pub priority: String,
    pub assignee: String,
    pub category: String,
    pub sentiment: String,
    pub tag: String,
    pub from: String,
    pub to: String,
    pub sort: String,
    pub follow_up: String,
    pub cursor: String,
}

struct Select {
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    selected: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    layout: Layout,
    q: ListQuery,
    selects: Vec<Select>,
    rows: Vec<Row>,
    count_text: String,
    next_page: Option<String>,
    error: Option<String>,
    notice: Option<String>,
    back: String,
    statuses: Vec<(String, String)>,
    users: Vec<(String, String)>,
    categories: Vec<(String, String)>,
}

/// A local date (`YYYY-MM-DD`) at midnight in the company's zone, as RFC 3339.
fn local_midnight(date: &str, tz: chrono_tz::Tz, plus_days: i64) -> Option<String> {
    use chrono::TimeZone;
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let d = d.checked_add_days(chrono::Days::new(u64::try_from(plus_days).ok()?))?;
    let t = tz
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    let utc = time::OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()?;
    utc.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The log-list parameters of a tab and its query.
fn list_params(tab: Tab, q: &ListQuery, tz: chrono_tz::Tz) -> Result<LogListParams, String> {
    let mut p = serde_json::Map::new();
    p.insert("communication_types".into(), tab.types().into());
    p.insert("page_size".into(), 25.into());
    let mut put = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            p.insert(k.into(), v.trim().into());
        }
    };
    put("search", &q.q);
    put("channel", &q.channel);
    put("direction", &q.direction);
    put("status", &q.status);
    put("priority", &q.priority);
    put("assigned_to_user_id", &q.assignee);
    put("category", &q.category);
    put("sentiment", &q.sentiment);
    put("tag", &q.tag);
    put(
        "ordering",
        if q.sort.is_empty() {
            "-start_time"
        } else {
            &q.sort
        },
    );
    put("follow_up_status", &q.follow_up);
    put("cursor", &q.cursor);
    if !q.from.is_empty() {
        let t = local_midnight(&q.from, tz, 0).ok_or("The From date is not a date.")?;
        p.insert("start_time_after".into(), t.into());
    }
    if !q.to.is_empty() {
        let t = local_midnight(&q.to, tz, 1).ok_or("The To date is not a date.")?;
        p.insert("start_time_before".into(), t.into());
    }
    let params: LogListParams = serde_json::from_value(serde_json::Value::Object(p))
        .map_err(|e| format!("A filter is not valid: {e}"))?;
    params.validate().map_err(|e| e.to_string())?;
    Ok(params)
}

fn query_string(q: &ListQuery, cursor: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &q.q),
        ("channel", &q.channel),
        ("direction", &q.direction),
        ("status", &q.status),
        ("priority", &q.priority),
        ("assignee", &q.assignee),
        ("category", &q.category),
        ("sentiment", &q.sentiment),
        ("tag", &q.tag),
        ("from", &q.from),
        ("to", &q.to),
        ("sort", &q.sort),
        ("follow_up", &q.follow_up),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if let Some(c) = cursor {
        s.append_pair("cursor", c);
    }
    s.finish()
}

async fn list(
    tab: Tab,
    app: AppState,
    user: WebUser,
    headers: HeaderMap,
    q: ListQuery,
) -> Response {
    let scope = user.scope();
    let tz = zone(&app, &scope).await;
    let names = user_names(&app, &scope).await;
    let (rows, count_text, next_page, error) = match list_params(tab, &q, tz) {
        Ok(params) => match app.store.list_logs(&scope, &params).await {
            Ok(page) => {
                let n = if page.count_is_exact {
                    page.count.to_string()
                } else {
                    format!("{}+", page.count)
                };
                let next = page
                    .next_cursor
                    .as_deref()
                    .map(|c| format!("/{}?{}", tab.page(), query_string(&q, Some(c))));
                (
                    readable(&app, &scope, page.results)
                        .await
                        .iter()
                        .map(|l| Row::of(l, tz, &names))
                        .collect(),
                    format!("{n} found"),
                    next,
                    None,
                )
            }
            Err(e) => (
                Vec::new(),
                String::new(),
                None,
                Some(crate::error::ApiError::from(e).message),
            ),
        },
        Err(e) => (Vec::new(), String::new(), None, Some(e)),
    };
    let channels = app
        .store
        .list_channels(&scope, &ChannelFilter::default())
        .await
        .unwrap_or_default();
    let categories: Vec<(String, String)> = app
        .store
        .list_categories(&scope, &CategoryFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.id.to_string(), c.category_name))
        .collect();
    let users = user_options(&app, &scope).await;
    use commlog_domain::Direction;
    let selects = vec![
        Select {
            name: "channel",
            label: "Channel",
            options: channels
                .iter()
                .map(|c| (c.channel_code.clone(), c.channel_name.clone()))
                .collect(),
            selected: q.channel.clone(),
        },
        Select {
            name: "direction",
            label: "Direction",
            options: options(
                &[Direction::Inbound, Direction::Outbound, Direction::Internal],
                Direction::as_str,
            ),
            selected: q.direction.clone(),
        },
        Select {
            name: "status",
            label: "Status",
            options: status_options(),
            selected: q.status.clone(),
        },
        Select {
            name: "priority",
            label: "Priority",
            options: options(
                &[
                    Priority::Low,
                    Priority::Normal,
                    Priority::High,
                    Priority::Urgent,
                ],
                Priority::as_str,
            ),
            selected: q.priority.clone(),
        },
        Select {
            name: "assignee",
            label: "Assignee",
            options: users.clone(),
            selected: q.assignee.clone(),
        },
        Select {
            name: "category",
            label: "Category",
            options: categories.clone(),
            selected: q.category.clone(),
        },
        Select {
            name: "sentiment",
            label: "Sentiment",
            options: options(
                &[Sentiment::Positive, Sentiment::Neutral, Sentiment::Negative],
                Sentiment::as_str,
            ),
            selected: q.sentiment.clone(),
        },
    ];
    let shown = flash(&headers);
    let page = ListPage {
        layout: Layout::new(tab.title(), tab.page(), Some(&user), &headers),
        back: format!("/{}?{}", tab.page(), query_string(&q, None)),
        q,
        selects,
        rows,
        count_text,
        next_page,
        error,
        notice: shown.clone(),
        statuses: status_options(),
        users,
        categories,
    };
    clear_flash(render(&page), shown.is_some())
}

pub async fn calls(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    list(Tab::Calls, app, user, headers, q).await
}

pub async fn emails(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    list(Tab::Emails, app, user, headers, q).await
}

pub async fn messages(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    list(Tab::Messages, app, user, headers, q).await
}

#[derive(Template)]
#[template(path = "row_fragment.html")]
struct RowFragment {
    r: Row,
}

/// `GET /logs/{id}/row`: one list row, for the live update of an open list.
pub async fn row(
    State(app): State<AppState>,
    Signed(user): Signed,
    Path(id): Path<Uuid>,
) -> Response {
    let scope = user.scope();
    match app.store.get_log(&scope, id).await {
        Ok(log) => {
            let Some(log) = readable(&app, &scope, vec![log]).await.pop() else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let tz = zone(&app, &scope).await;
            let names = user_names(&app, &scope).await;
            let mut res = render(&RowFragment {
                r: Row::of(&log, tz, &names),
            });
            if let Ok(v) = axum::http::HeaderValue::from_str(Tab::of(&log)) {
                res.headers_mut().insert("x-commlog-tab", v);
            }
            res
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------- detail

struct Detail {
    id: Uuid,
    subject: String,
    kind: String,
    channel: String,
    direction: String,
    time: String,
    duration: String,
    status: String,
    status_code: String,
    priority: String,
    assignee: String,
    assignee_id: String,
    customer_link: Option<(String, String)>,
    sentiment: String,
    topics: String,
    categories: String,
    tags: String,
    follow_up: String,
    watchers: String,
    participants: Vec<String>,
    content: String,
    recordings: Vec<(String, String)>,
    segments: Vec<(String, String, String)>,
    attachments: Vec<(String, String)>,
    history: Vec<String>,
    /// The other logs and the notes of the log's conversation, oldest first.
    conversation: Vec<Turn>,
}

/// One log of a conversation on the detail page.
struct Turn {
    href: String,
    time: String,
    what: String,
    subject: String,
    /// A note's text, shown in full (other logs are opened by their link).
    note: Option<String>,
    current: bool,
}

/// The logs of `log`'s thread, oldest first (at most 100): what was said before and after it,
/// and the team's notes.
async fn conversation(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
    tz: chrono_tz::Tz,
) -> Vec<Turn> {
    let Some(thread) = log.thread_id else {
        return Vec::new();
    };
    let params = LogListParams {
        thread_id: Some(thread),
        ordering: Some("start_time".into()),
        page_size: Some(100),
        ..Default::default()
    };
    let Ok(page) = app.store.list_logs(scope, &params).await else {
        return Vec::new();
    };
    readable(app, scope, page.results)
        .await
        .into_iter()
        .map(|l| {
            let is_note = l.communication_type == commlog_domain::CommunicationType::Note;
            Turn {
                href: format!("/logs/{}", l.id),
                time: local(l.start_time, tz),
                what: if is_note {
                    "Note".into()
                } else {
                    format!(
                        "{}, {}",
                        label(l.communication_type.as_str()),
                        label(l.direction.as_str()).to_lowercase()
                    )
                },
                subject: l.subject.clone(),
                note: is_note.then(|| l.content.clone()),
                current: l.id == log.id,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    layout: Layout,
    tab: &'static str,
    d: Detail,
    users: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    error: Option<String>,
    notice: Option<String>,
}

fn or_dash(v: String) -> String {
    if v.trim().is_empty() { "—".into() } else { v }
}

fn segments(log: &CommunicationLog) -> Vec<(String, String, String)> {
    log.analysis["transcript"]["segments"]
        .as_array()
        .map(|segs| {
            segs.iter()
                .map(|s| {
                    let at = s["start"].as_f64().unwrap_or(0.0) as i64;
                    (
                        format!("{:02}:{:02}", at / 60, at % 60),
                        s["speaker"].as_str().unwrap_or("").to_owned(),
                        s["text"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn detail(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Response {
    let scope = user.scope();
    let Ok(log) = app.store.get_log(&scope, id).await else {
        return super::not_found(&user, &headers);
    };
    // Roles the company masks personal data for read the masked text, as in the API.
    let Some(log) = readable(&app, &scope, vec![log]).await.pop() else {
        return super::not_found(&user, &headers);
    };
    let tz = zone(&app, &scope).await;
    let names = user_names(&app, &scope).await;
    let name = |u: &Uuid| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let files = app
        .store
        .list_attachments(
            &scope,
            &AttachmentFilter {
                communication_log_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default();
    let file_url = |a: &commlog_domain::records::Attachment| format!("/logs/{id}/files/{}", a.id);
    let history = app
        .store
        .log_history(&scope, id)
        .await
        .unwrap_or_default()
        .iter()
        .rev()
        .map(|h| {
            let who = h
                .actor_user_id
                .as_ref()
                .map(&name)
                .unwrap_or_else(|| "Commlog".into());
            let what: Vec<String> = h
                .changes
                .as_object()
                .map(|o| o.keys().map(|k| label(k)).collect())
                .unwrap_or_default();
            format!(
                "{} — {} {}{}",
                local(h.occurred_at, tz),
                who,
                h.action,
                if what.is_empty() {
                    String::new()
                } else {
                    format!(": {}", what.join(", "))
                }
            )
        })
        .collect();
    let customer_link = match log.customer_id {
        Some(c) => match app.store.get_customer(&scope, c).await {
            Ok(cust) => Some((format!("/customers/{}", cust.id), cust.name)),
            Err(_) => None,
        },
        None => None,
    };
    let d = Detail {
        id,
        subject: log.subject.clone(),
        kind: label(log.communication_type.as_str()),
        channel: log.channel.clone(),
        direction: label(log.direction.as_str()).to_lowercase(),
        time: local(log.start_time, tz),
        duration: log
            .duration_seconds
            .map(|s| format!("{} min {} s", s / 60, s % 60))
            .unwrap_or_default(),
        status: label(log.status.as_str()),
        status_code: log.status.as_str().to_owned(),
        priority: label(log.priority.as_str()),
        assignee: log
            .assigned_to_user_id
            .as_ref()
            .map(&name)
            .unwrap_or_else(|| "Unassigned".into()),
        assignee_id: log
            .assigned_to_user_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        customer_link,
        sentiment: match (log.sentiment, log.sentiment_score) {
            (Some(s), Some(score)) => format!("{} ({score:+.2})", label(s.as_str())),
            (Some(s), None) => label(s.as_str()),
            _ => "Not analysed yet".into(),
        },
        topics: or_dash(log.key_topics.join(", ")),
        categories: or_dash(
            log.categories
                .iter()
                .map(|c| c.category_name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        tags: or_dash(log.tags.join(", ")),
        follow_up: match (log.requires_follow_up, log.follow_up_date) {
            (true, Some(d)) => format!(
                "{} ({})",
                local(d, tz),
                log.follow_up_status
                    .map(|s| label(s.as_str()))
                    .unwrap_or_default()
            ),
            (true, None) => "Needed".into(),
            _ => "None".into(),
        },
        watchers: or_dash(
            log.watchers
                .iter()
                .map(&name)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        participants: log
            .participants
            .iter()
            .map(|p| {
                let who = [p.name.clone(), p.email.clone(), p.phone.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                format!("{}: {who}", label(p.role.as_str()))
            })
            .collect(),
        content: log.content.clone(),
        recordings: files
            .iter()
            .filter(|a| a.file_type.starts_with("audio/"))
            .map(|a| (file_url(a), a.file_name.clone()))
            .collect(),
        segments: segments(&log),
        attachments: files
            .iter()
            .map(|a| {
                (
                    file_url(a),
                    format!("{} ({} KB)", a.file_name, (a.file_size + 1023) / 1024),
                )
            })
            .collect(),
        history,
        conversation: conversation(&app, &scope, &log, tz).await,
    };
    let shown = flash(&headers);
    let (error, notice) = match shown.as_deref() {
        Some(m) if m.starts_with("Error: ") => {
            (Some(m.trim_start_matches("Error: ").to_owned()), None)
        }
        other => (None, other.map(str::to_owned)),
    };
    let page = DetailPage {
        layout: Layout::new(log.subject.clone(), Tab::of(&log), Some(&user), &headers),
        tab: Tab::of(&log),
        d,
        users: user_options(&app, &scope).await,
        statuses: std::iter::once(log.status)
            .chain(
                commlog_domain::status::allowed_next(log.status)
                    .iter()
                    .copied(),
            )
            .map(|s| (s.as_str().to_owned(), label(s.as_str())))
            .collect(),
        error,
        notice,
    };
    clear_flash(render(&page), shown.is_some())
}

/// `GET /logs/{id}/files/{file}`: an attachment or recording, with `Range` for seeking.
pub async fn file(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    Path((id, file)): Path<(Uuid, Uuid)>,
) -> Response {
    let scope = user.scope();
    match app.store.get_attachment(&scope, file).await {
        Ok(a) if a.communication_log_id == id => {}
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    let auth = user.auth(&app, crate::auth::request_meta(&parts));
    match crate::api::attachments::download_communication_attachment(
        State(app),
        auth,
        crate::extract::ApiPath(file),
        parts.headers.clone(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Used by the quick-log page's search-as-you-type.
#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

/// `GET /web/people?kind=customers|contacts&q=`: names for the search box (JSON).
pub async fn people(
    State(app): State<AppState>,
    Signed(user): Signed,
    Query(q): Query<PeopleQuery>,
) -> Response {
    let scope = user.scope();
    let filter = commlog_domain::filters::PeopleFilter {
        search: Some(q.q.chars().take(100).collect()),
        page_size: Some(10),
        ..Default::default()
    };
    let names: Vec<String> = if q.kind == "contacts" {
        app.store
            .list_contacts(&scope, &filter)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.full_name)
            .collect()
    } else {
        app.store
            .list_customers(&scope, &filter)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    axum::Json(names).into_response()
}
