//! What the web app's forms do: quick log, assign, change status, and bulk actions over a
//! selection. Each checks the form's CSRF token, then applies the same permission checks and
//! store rules as the API, and answers with a redirect that carries a one-shot message.

use super::pages::zone;
use super::session::{WebUser, check_form_csrf, safe_next};
use super::view::{Layout, Signed, redirect_with, render};
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use commlog_domain::filters::{ChannelFilter, PeopleFilter};
use commlog_domain::{CommunicationLogPatch, LogStatus, NewCommunicationLog, Permission};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// A URL-encoded form body as pairs (repeated names kept, as checkboxes send them).
fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A posted form's fields, once its CSRF token checks out.
fn checked_form(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, crate::error::ApiError> {
    let form = pairs(body);
    check_form_csrf(headers, first(&form, "csrf"))?;
    Ok(form)
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn refused(user: &WebUser, p: Permission) -> Option<String> {
    (!user.actor.can(p)).then(|| format!("Your role does not allow this ({}).", p.as_str()))
}

// ---------------------------------------------------------------- quick log

/// What the quick-log form sends.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct QuickForm {
    pub csrf: String,
    pub communication_type: String,
    pub direction: String,
    pub channel: String,
    pub customer: String,
    pub contact: String,
    pub email: String,
    pub start: String,
    pub minutes: String,
    pub subject: String,
    pub content: String,
    pub follow_up: String,
}

#[derive(Template)]
#[template(path = "quick.html")]
struct QuickPage {
    layout: Layout,
    f: QuickForm,
    types: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    error: Option<String>,
    field_errors: Vec<String>,
}

async fn quick_page(
    app: &AppState,
    user: &WebUser,
    headers: &HeaderMap,
    f: QuickForm,
    error: Option<String>,
    field_errors: Vec<String>,
) -> Response {
    let channels = app
        .store
        .list_channels(
            &user.scope(),
            &ChannelFilter {
                is_active: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.channel_code, c.channel_name))
        .collect();
    let types = ["call", "email", "meeting", "sms", "chat", "note"]
        .iter()
        .map(|t| (t.to_string(), super::view::label(t)))
        .collect();
    let mut res = render(&QuickPage {
        layout: Layout::new("Log a communication", "quick", Some(user), headers),
        f,
        types,
        channels,
        error: error.clone(),
        field_errors,
    });
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// `GET /log/new`: the form with sensible defaults (a call, outbound, on the phone channel,
/// now — the script fills in the browser's current time).
pub async fn quick_form(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
) -> Response {
    let tz = zone(&app, &user.scope()).await;
    let now = super::view::local(commlog_domain::time_fmt::now(), tz).replace(' ', "T");
    let f = QuickForm {
        communication_type: "call".into(),
        direction: "outbound".into(),
        channel: "phone".into(),
        start: now,
        ..Default::default()
    };
    quick_page(&app, &user, &headers, f, None, Vec::new()).await
}

/// A local `YYYY-MM-DDTHH:MM` in the company's zone, as an instant.
fn local_time(text: &str, tz: chrono_tz::Tz) -> Option<time::OffsetDateTime> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    let t = tz.from_local_datetime(&naive).earliest()?;
    time::OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Finds a customer (or contact) by id or exact name; `Err` says what is wrong.
async fn person(
    app: &AppState,
    user: &WebUser,
    text: &str,
    contacts: bool,
) -> Result<Option<Uuid>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(Some(id));
    }
    let filter = PeopleFilter {
        search: Some(text.to_owned()),
        page_size: Some(20),
        ..Default::default()
    };
    let scope = user.scope();
    let found: Vec<(Uuid, String)> = if contacts {
        app.store
            .list_contacts(&scope, &filter)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.id, c.full_name))
            .collect()
    } else {
        app.store
            .list_customers(&scope, &filter)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect()
    };
    let exact: Vec<&(Uuid, String)> = found
        .iter()
        .filter(|(_, n)| n.eq_ignore_ascii_case(text))
        .collect();
    match (exact.as_slice(), found.as_slice()) {
        ([one], _) => Ok(Some(one.0)),
        ([], [one]) => Ok(Some(one.0)),
        ([], []) => Err(format!(
            "No {} is called “{text}”.",
            if contacts { "contact" } else { "customer" }
        )),
        _ => Err(format!(
            "Several {} match “{text}”: pick one from the list.",
            if contacts { "contacts" } else { "customers" }
        )),
    }
}

/// The log a quick-log form describes, or the problems to show.
async fn draft(
    app: &AppState,
    user: &WebUser,
    f: &QuickForm,
) -> Result<NewCommunicationLog, Vec<String>> {
    let tz = zone(app, &user.scope()).await;
    let mut problems = Vec::new();
    let start = local_time(&f.start, tz);
    if start.is_none() {
        problems.push("Started: give a date and time.".to_owned());
    }
    let minutes: Option<i64> = match f.minutes.trim() {
        "" => None,
        m => match m.parse::<i64>() {
            Ok(v) if (0..=1440).contains(&v) => Some(v),
            _ => {
                problems.push("Duration: a number of minutes from 0 to 1440.".into());
                None
            }
        },
    };
    let customer = person(app, user, &f.customer, false)
        .await
        .unwrap_or_else(|e| {
            problems.push(format!("Customer: {e}"));
            None
        });
    let contact = person(app, user, &f.contact, true)
        .await
        .unwrap_or_else(|e| {
            problems.push(format!("Contact: {e}"));
            None
        });
    let follow_up = match f.follow_up.trim() {
        "" => None,
        d => match local_time(&format!("{d}T09:00"), tz) {
            Some(t) => Some(t),
            None => {
                problems.push("Follow up on: give a date.".into());
                None
            }
        },
    };
    let Some(start) = start else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut body = json!({
        "communication_type": f.communication_type, "direction": f.direction, "channel": f.channel,
        "start_time": rfc3339(start), "content": f.content, "customer_id": customer, "contact_id": contact,
        "assigned_to_user_id": user.actor.user_id,
    });
    let b = body.as_object_mut().ok_or_else(Vec::new)?;
    if !f.subject.trim().is_empty() {
        b.insert("subject".into(), json!(f.subject.trim()));
    }
    if let Some(m) = minutes {
        b.insert(
            "end_time".into(),
            json!(rfc3339(start + time::Duration::minutes(m))),
        );
        if f.communication_type == "call" {
            b.insert(
                "call_outcome".into(),
                json!(if m > 0 { "answered" } else { "no_answer" }),
            );
        }
    }
    if !f.email.trim().is_empty() {
        let role = if f.direction == "inbound" {
            "from"
        } else {
            "to"
        };
        b.insert(
            "participants".into(),
            json!([{"role": role, "email": f.email.trim()}]),
        );
    }
    if let Some(due) = follow_up {
        b.insert("requires_follow_up".into(), json!(true));
        b.insert("follow_up_date".into(), json!(rfc3339(due)));
        b.insert("follow_up_status".into(), json!("pending"));
        b.insert("follow_up_assigned_to".into(), json!(user.actor.user_id));
    }
    serde_json::from_value(body).map_err(|e| vec![format!("The form is not complete: {e}")])
}

/// `POST /log/new`.
pub async fn quick_log(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    axum::Form(f): axum::Form<QuickForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&headers, &f.csrf) {
        return e.into_response();
    }
    if let Some(msg) = refused(&user, Permission::CreateLog) {
        return quick_page(&app, &user, &headers, f, Some(msg), Vec::new()).await;
    }
    let new = match draft(&app, &user, &f).await {
        Ok(n) => n,
        Err(problems) => {
            return quick_page(
                &app,
                &user,
                &headers,
                f,
                Some("Please correct the form.".into()),
                problems,
            )
            .await;
        }
    };
    match app.store.create_log(&user.scope(), new, None).await {
        Ok(created) => redirect_with(&format!("/logs/{}", created.log.id), "Logged."),
        Err(e) => {
            let err = crate::error::ApiError::from(e);
            let fields: Vec<String> = err.details["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            format!(
                                "{}: {}",
                                super::view::label(x["field"].as_str().unwrap_or("")),
                                x["message"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let headline = if fields.is_empty() {
                err.message
            } else {
                "Please correct the form.".to_owned()
            };
            quick_page(&app, &user, &headers, f, Some(headline), fields).await
        }
    }
}

// ---------------------------------------------------------------- one log

async fn update(
    app: &AppState,
    user: &WebUser,
    id: Uuid,
    patch: CommunicationLogPatch,
    done: &str,
) -> Response {
    let back = format!("/logs/{id}");
    match app.store.update_log(&user.scope(), id, patch).await {
        Ok(_) => redirect_with(&back, done),
        Err(e) => redirect_with(
            &back,
            &format!("Error: {}", crate::error::ApiError::from(e).message),
        ),
    }
}

/// `POST /logs/{id}/assign`.
pub async fn assign(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = match checked_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(msg) = refused(&user, Permission::AssignLog) {
        return redirect_with(&format!("/logs/{id}"), &format!("Error: {msg}"));
    }
    let to = Uuid::parse_str(first(&form, "user_id")).ok();
    let patch = CommunicationLogPatch {
        assigned_to_user_id: Some(to),
        ..Default::default()
    };
    update(
        &app,
        &user,
        id,
        patch,
        if to.is_some() {
            "Assigned."
        } else {
            "Unassigned."
        },
    )
    .await
}

/// `POST /logs/{id}/status` (also what Escalate sends).
pub async fn status(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = match checked_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.into_response(),
    };
    let Ok(to) = first(&form, "status").parse::<LogStatus>() else {
        return redirect_with(&format!("/logs/{id}"), "Error: choose a status.");
    };
    let needed = if to == LogStatus::Escalated {
        Permission::EscalateLog
    } else {
        Permission::UpdateLog
    };
    if let Some(msg) = refused(&user, needed) {
        return redirect_with(&format!("/logs/{id}"), &format!("Error: {msg}"));
    }
    let patch = CommunicationLogPatch {
        status: Some(to),
        ..Default::default()
    };
    update(
        &app,
        &user,
        id,
        patch,
        &format!(
            "Status changed to {}.",
            super::view::label(to.as_str()).to_lowercase()
        ),
    )
    .await
}

/// `POST /logs/{id}/notes`: an internal note in the log's conversation, which the note starts
/// when the log has none yet; it shows on the detail page of every log of the conversation.
pub async fn note(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let form = match checked_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.into_response(),
    };
    let back = format!("/logs/{id}");
    if let Some(msg) = refused(&user, Permission::CreateLog) {
        return redirect_with(&back, &format!("Error: {msg}"));
    }
    let text = first(&form, "note").trim();
    if text.is_empty() {
        return redirect_with(&back, "Error: write the note first.");
    }
    let scope = user.scope();
    let failed = |e: commlog_store::StoreError| {
        redirect_with(
            &back,
            &format!("Error: {}", crate::error::ApiError::from(e).message),
        )
    };
    // Someone else's log (another company's, or one this user may not see) is not found.
    let Ok(log) = app.store.get_log(&scope, id).await else {
        return super::not_found(&user, &headers);
    };
    let thread = match log.thread_id {
        Some(t) => t,
        None => {
            let t = commlog_domain::new_id();
            let patch = CommunicationLogPatch {
                thread_id: Some(Some(t)),
                ..Default::default()
            };
            if let Err(e) = app.store.update_log(&scope, id, patch).await {
                return failed(e);
            }
            t
        }
    };
    let body = json!({
        "communication_type": "note", "direction": "internal", "is_internal": true,
        "channel": log.channel, "content": text, "thread_id": thread,
        "customer_id": log.customer_id, "contact_id": log.contact_id,
        "start_time": rfc3339(commlog_domain::time_fmt::now()),
    });
    let new: NewCommunicationLog = match serde_json::from_value(body) {
        Ok(n) => n,
        Err(_) => return redirect_with(&back, "Error: the note could not be read."),
    };
    match app.store.create_log(&scope, new, None).await {
        Ok(_) => redirect_with(&back, "Note added."),
        Err(e) => failed(e),
    }
}

// ---------------------------------------------------------------- bulk

/// `POST /logs/bulk`: one action over the selected logs; each is checked on its own, and the
/// message says how many changed and why others did not.
pub async fn bulk(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match checked_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.into_response(),
    };
    let back = safe_next(Some(first(&form, "back")));
    let ids: Vec<Uuid> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| Uuid::parse_str(v).ok())
        .take(500)
        .collect();
    if ids.is_empty() {
        return redirect_with(&back, "Select at least one communication first.");
    }
    let action = first(&form, "action");
    let needed = match action {
        "assign" => Permission::AssignLog,
        _ => Permission::UpdateLog,
    };
    if let Some(msg) = refused(&user, needed) {
        return redirect_with(&back, &msg);
    }
    let scope = user.scope();
    let (mut changed, mut reasons) = (0, Vec::<String>::new());
    for id in &ids {
        let patch: Result<CommunicationLogPatch, String> = match action {
            "status" => first(&form, "status")
                .parse::<LogStatus>()
                .map(|s| CommunicationLogPatch {
                    status: Some(s),
                    ..Default::default()
                })
                .map_err(|_| "choose a status".to_owned()),
            "assign" => Ok(CommunicationLogPatch {
                assigned_to_user_id: Some(Uuid::parse_str(first(&form, "user_id")).ok()),
                ..Default::default()
            }),
            "category" | "tag" => match app.store.get_log(&scope, *id).await {
                Ok(log) if action == "category" => {
                    match Uuid::parse_str(first(&form, "category_id")) {
                        Ok(c) => {
                            let mut ids: Vec<Uuid> = log.categories.iter().map(|x| x.id).collect();
                            if !ids.contains(&c) {
                                ids.push(c);
                            }
                            Ok(CommunicationLogPatch {
                                category_ids: Some(ids),
                                ..Default::default()
                            })
                        }
                        Err(_) => Err("choose a category".into()),
                    }
                }
                Ok(log) => {
                    let tag = first(&form, "tag").trim().to_owned();
                    if tag.is_empty() {
                        Err("type a tag".into())
                    } else {
                        let mut tags = log.tags.clone();
                        if !tags.contains(&tag) {
                            tags.push(tag);
                        }
                        Ok(CommunicationLogPatch {
                            tags: Some(tags),
                            ..Default::default()
                        })
                    }
                }
                Err(e) => Err(crate::error::ApiError::from(e).message),
            },
            _ => Err("choose an action".into()),
        };
        let outcome = match patch {
            Ok(p) => app
                .store
                .update_log(&scope, *id, p)
                .await
                .map(|_| ())
                .map_err(|e| crate::error::ApiError::from(e).message),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => changed += 1,
            Err(reason) if !reasons.contains(&reason) => reasons.push(reason),
            Err(_) => {}
        }
    }
    let failed = ids.len() - changed;
    let message = if failed == 0 {
        format!("Updated {changed} of {}.", ids.len())
    } else {
        format!(
            "Updated {changed} of {}; {failed} could not be changed: {}",
            ids.len(),
            reasons.join("; ")
        )
    };
    redirect_with(&back, &message)
}
