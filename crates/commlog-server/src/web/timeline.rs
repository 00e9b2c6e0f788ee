//! A customer's or contact's whole history on one screen: every call, email and message with
//! them, newest first, in pages.

use super::pages::{readable, user_names, zone};
use super::view::{Layout, Row, Signed, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use commlog_domain::list::LogListParams;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    layout: Layout,
    about: String,
    rows: Vec<Row>,
    next_page: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Cursor {
    #[serde(default)]
    cursor: Option<String>,
}

/// Whose timeline.
enum Who {
    Customer,
    Contact,
}

async fn timeline(
    who: Who,
    app: AppState,
    user: super::session::WebUser,
    headers: HeaderMap,
    id: Uuid,
    cursor: Option<String>,
) -> Response {
    let scope = user.scope();
    let (title, about, base) = match who {
        Who::Customer => match app.store.get_customer(&scope, id).await {
            Ok(c) => (
                c.name.clone(),
                "Customer".to_owned(),
                format!("/customers/{id}"),
            ),
            Err(_) => return super::not_found(&user, &headers),
        },
        Who::Contact => match app.store.get_contact(&scope, id).await {
            Ok(c) => (
                c.full_name.clone(),
                format!("Contact · {}", c.emails.join(", ")),
                format!("/contacts/{id}"),
            ),
            Err(_) => return super::not_found(&user, &headers),
        },
    };
    let params = LogListParams {
        customer_id: matches!(who, Who::Customer).then_some(id),
        contact_id: matches!(who, Who::Contact).then_some(id),
        ordering: Some("-start_time".into()),
        page_size: Some(50),
        cursor,
        ..Default::default()
    };
    let tz = zone(&app, &scope).await;
    let names = user_names(&app, &scope).await;
    let (rows, next_page) = match app.store.list_logs(&scope, &params).await {
        Ok(page) => {
            let next = page.next_cursor.map(|c| {
                format!(
                    "{base}?cursor={}",
                    url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
                )
            });
            (
                readable(&app, &scope, page.results)
                    .await
                    .iter()
                    .map(|l| Row::of(l, tz, &names))
                    .collect(),
                next,
            )
        }
        Err(_) => (Vec::new(), None),
    };
    render(&TimelinePage {
        layout: Layout::new(title, "timeline", Some(&user), &headers),
        about,
        rows,
        next_page,
    })
}

/// `GET /customers/{id}`.
pub async fn customer(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(c): Query<Cursor>,
) -> Response {
    timeline(Who::Customer, app, user, headers, id, c.cursor).await
}

/// `GET /contacts/{id}`.
pub async fn contact(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(c): Query<Cursor>,
) -> Response {
    timeline(Who::Contact, app, user, headers, id, c.cursor).await
}
