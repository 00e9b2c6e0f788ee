//! Settings for managers and administrators: users, teams, categories, channels and mail
//! accounts of the company. Additions go through the API's own handlers, so the same checks
//! and permissions apply (administrators manage users and teams, managers categories).

use super::session::check_form_csrf;
use super::view::{Layout, Signed, clear_flash, flash, label, redirect_with, render};
use crate::api::{people, reference};
use crate::auth::request_meta;
use crate::extract::ApiJson;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use commlog_domain::filters::{CategoryFilter, ChannelFilter, UserFilter};
use commlog_domain::records::{CategoryInput, ChannelInput, NewUser, TeamInput, UserPatch};
use commlog_domain::{Permission, Role};
use serde::Deserialize;

type Pair = (String, String);

/// A channel as the settings table shows and edits it.
struct ChannelRow {
    id: String,
    name: String,
    code: String,
    kind: String,
    active: bool,
    transcribes: bool,
    records: bool,
}

/// A user as the settings table shows and edits them.
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    role_label: String,
    team_id: String,
    team: String,
    capacity: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    users: Vec<UserRow>,
    teams: Vec<Pair>,
    roles: Vec<Pair>,
    categories: Vec<String>,
    channels: Vec<ChannelRow>,
    mail: Vec<String>,
    can_users: bool,
    can_teams: bool,
    can_categories: bool,
    can_channels: bool,
}

/// `GET /settings`.
pub async fn page(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
) -> Response {
    let a = &user.actor;
    if !(a.can(Permission::ManageCategories) || a.can(Permission::ManageUsers)) {
        return super::not_found(&user, &headers);
    }
    let scope = user.scope();
    let teams: Vec<Pair> = app
        .store
        .list_teams(&scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    let team_name = |id: Option<uuid::Uuid>| {
        id.and_then(|i| {
            teams
                .iter()
                .find(|t| t.0 == i.to_string())
                .map(|t| t.1.clone())
        })
        .unwrap_or_else(|| "—".into())
    };
    let users = app
        .store
        .list_users(&scope, &UserFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            name: u.full_name,
            email: u.email,
            role: u.role.as_str().to_owned(),
            role_label: label(u.role.as_str()),
            team_id: u.team_id.map(|t| t.to_string()).unwrap_or_default(),
            team: team_name(u.team_id),
            capacity: u.capacity.to_string(),
            active: u.is_active,
        })
        .collect();
    let categories = app
        .store
        .list_categories(&scope, &CategoryFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| format!("{} ({})", c.category_name, c.category_code))
        .collect();
    let channels = app
        .store
        .list_channels(&scope, &ChannelFilter::default())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| ChannelRow {
            id: c.id.to_string(),
            name: c.channel_name,
            code: c.channel_code,
            kind: label(c.channel_type.as_str()),
            active: c.is_active,
            transcribes: c.auto_transcription,
            records: c.record_calls,
        })
        .collect();
    let mail = app
        .store
        .list_mail_accounts(&scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|m| format!("{} ({})", m.username, m.host))
        .collect();
    let shown = flash(&headers);
    let (error, notice) = match shown.as_deref() {
        Some(m) if m.starts_with("Error: ") => {
            (Some(m.trim_start_matches("Error: ").to_owned()), None)
        }
        other => (None, other.map(str::to_owned)),
    };
    let roles = [Role::SalesRep, Role::TeamLead, Role::Manager, Role::Admin]
        .iter()
        .map(|r| (r.as_str().to_owned(), label(r.as_str())))
        .collect();
    let page = SettingsPage {
        layout: Layout::new("Settings", "settings", Some(&user), &headers),
        error,
        notice,
        users,
        teams,
        roles,
        categories,
        channels,
        mail,
        can_users: a.can(Permission::ManageUsers),
        can_teams: a.can(Permission::ManageTeams),
        can_categories: a.can(Permission::ManageCategories),
        can_channels: a.can(Permission::ManageChannels),
    };
    clear_flash(render(&page), shown.is_some())
}

fn done<T>(result: crate::error::ApiResult<T>, ok: &str) -> Response {
    match result {
        Ok(_) => redirect_with("/settings", ok),
        Err(e) => {
            let detail: Vec<String> = e.details["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["message"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let text = if detail.is_empty() {
                e.message
            } else {
                detail.join("; ")
            };
            redirect_with("/settings", &format!("Error: {text}"))
        }
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    full_name: String,
    email: String,
    role: Role,
    #[serde(default)]
    team_id: String,
    password: String,
}

/// `POST /settings/users`.
pub async fn add_user(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    axum::Form(f): axum::Form<UserForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&parts.headers, &f.csrf) {
        return e.into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    let new = NewUser {
        email: f.email,
        full_name: Some(f.full_name),
        password: f.password,
        role: f.role,
        team_id: uuid::Uuid::parse_str(&f.team_id).ok(),
        capacity: None,
        is_compliance: false,
    };
    done(
        people::create_user(State(app), auth, ApiJson(new)).await,
        "User added.",
    )
}

#[derive(Deserialize)]
pub struct UserChangeForm {
    #[serde(default)]
    csrf: String,
    role: Role,
    #[serde(default)]
    team_id: String,
    /// Present (checked) when the user stays active.
    #[serde(default)]
    active: Option<String>,
}

/// `POST /settings/users/{id}`: change a user's role, team or whether they may sign in. A
/// deactivated user's sessions end at once (the API's rules apply).
pub async fn change_user(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    axum::Form(f): axum::Form<UserChangeForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&parts.headers, &f.csrf) {
        return e.into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    let patch = UserPatch {
        role: Some(f.role),
        team_id: Some(uuid::Uuid::parse_str(&f.team_id).ok()),
        is_active: Some(f.active.is_some()),
        ..UserPatch::default()
    };
    done(
        people::update_user(
            State(app),
            auth,
            crate::extract::ApiPath(id),
            ApiJson(patch),
        )
        .await,
        "User changed.",
    )
}

#[derive(Deserialize)]
pub struct ChannelChangeForm {
    #[serde(default)]
    csrf: String,
    /// Each present (checked) when on.
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    transcribes: Option<String>,
    #[serde(default)]
    records: Option<String>,
}

/// `POST /settings/channels/{id}`: switch a channel on or off, and whether it transcribes and
/// records calls (recording still needs each caller's consent).
pub async fn change_channel(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    axum::Form(f): axum::Form<ChannelChangeForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&parts.headers, &f.csrf) {
        return e.into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    let input = ChannelInput {
        is_active: Some(f.active.is_some()),
        auto_transcription: Some(f.transcribes.is_some()),
        record_calls: Some(f.records.is_some()),
        ..ChannelInput::default()
    };
    done(
        reference::update_channel_configuration(
            State(app),
            auth,
            crate::extract::ApiPath(id),
            ApiJson(input),
        )
        .await,
        "Channel changed.",
    )
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

/// `POST /settings/teams`.
pub async fn add_team(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    axum::Form(f): axum::Form<TeamForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&parts.headers, &f.csrf) {
        return e.into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    done(
        people::create_team(
            State(app),
            auth,
            ApiJson(TeamInput {
                name: Some(f.name),
                description: None,
            }),
        )
        .await,
        "Team added.",
    )
}

#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    csrf: String,
    category_name: String,
    category_code: String,
}

/// `POST /settings/categories`.
pub async fn add_category(
    State(app): State<AppState>,
    Signed(user): Signed,
    parts: Parts,
    axum::Form(f): axum::Form<CategoryForm>,
) -> Response {
    if let Err(e) = check_form_csrf(&parts.headers, &f.csrf) {
        return e.into_response();
    }
    let auth = user.auth(&app, request_meta(&parts));
    let input = CategoryInput {
        category_name: Some(f.category_name),
        category_code: Some(f.category_code),
        ..Default::default()
    };
    done(
        reference::create_communication_category(State(app), auth, ApiJson(input)).await,
        "Category added.",
    )
}
