//! `/api/communication-logs/`: the blueprint's endpoints (§9.1) for logging, finding, changing,
//! assigning and deleting communications, plus history, watchers and participants.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, parse_json};
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use commlog_domain::filters::AttachmentFilter;
use commlog_domain::list::LogListParams;
use commlog_domain::records::{Attachment, AuditEntry};
use commlog_domain::{
    CommunicationLog, CommunicationLogPatch, NewCommunicationLog, Participant, Permission,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One page of communication logs.
#[derive(Serialize, ToSchema)]
pub struct LogListResponse {
    pub results: Vec<CommunicationLog>,
    /// Matching logs; a lower bound when `count_is_exact` is false (ask `count=exact`).
    pub count: i64,
    pub count_is_exact: bool,
    pub page: u32,
    pub page_size: u32,
    /// Link to the next page (OFFSET paging), when there is one.
    pub next: Option<String>,
    pub previous: Option<String>,
    /// Keyset cursor for the next page: pass it as `cursor` for deep pages.
    pub next_cursor: Option<String>,
    /// The filters that were applied.
    #[schema(value_type = Object)]
    pub filters: LogListParams,
}

/// A created (or replayed) log with what validation noticed.
#[derive(Serialize, ToSchema)]
pub struct CreatedLogResponse {
    #[serde(flatten)]
    pub log: CommunicationLog,
    pub warnings: Vec<String>,
}

/// Optional parts of the detail view (blueprint §9.1).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DetailParams {
    #[serde(default)]
    pub include_attachments: bool,
    #[serde(default)]
    pub include_follow_up: bool,
    #[serde(default)]
    pub include_transcript: bool,
}

/// A log with the parts asked for.
#[derive(Serialize, ToSchema)]
pub struct LogDetail {
    #[serde(flatten)]
    pub log: CommunicationLog,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub follow_up: Option<serde_json::Value>,
}

/// `POST …/{id}/assign/`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The user to assign to; `null` unassigns.
    pub user_id: Option<Uuid>,
    /// Whether the assignee is notified (default true).
    #[serde(default)]
    pub notify: Option<bool>,
}

/// The result of an assignment.
#[derive(Serialize, ToSchema)]
pub struct AssignResponse {
    pub communication_log: CommunicationLog,
    pub assigned_to: Option<commlog_domain::User>,
    pub notified: bool,
    pub warnings: Vec<String>,
}

/// `POST …/{id}/watchers/`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatcherRequest {
    pub user_id: Uuid,
}

/// An updated log with what validation noticed.
#[derive(Serialize, ToSchema)]
pub struct UpdatedLogResponse {
    #[serde(flatten)]
    pub log: CommunicationLog,
    pub warnings: Vec<String>,
}

/// List communication logs: paginated, filtered, searchable (blueprint §9.1).
#[utoipa::path(get, path = "/api/communication-logs/", tag = "communication-logs", params(LogListParams),
    responses((status = 200, body = LogListResponse), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_communication_logs(
    State(app): State<AppState>,
    auth: Auth,
    RawQuery(raw): RawQuery,
    ApiQuery(params): ApiQuery<LogListParams>,
) -> ApiResult<Json<LogListResponse>> {
    auth.require(Permission::ReadLogs)?;
    if params.wants_archived() {
        // Archived logs are out of everyday sight; compliance still finds them.
        auth.require(Permission::ManageRetention)?;
    }
    let page = app.store.list_logs(&auth.scope, &params).await?;
    let (n, size) = (params.page(), params.page_size());
    let link = |p: u32| format!("/api/communication-logs/?{}", with_page(raw.as_deref(), p));
    let mut results = page.results;
    let mask = crate::processing::masking::applies(&app, &auth.scope).await?;
    for l in &mut results {
        l.transcription = None;
        if mask {
            crate::processing::masking::mask_log(l);
        }
    }
    Ok(Json(LogListResponse {
        results,
        count: page.count,
        count_is_exact: page.count_is_exact,
        page: n,
        page_size: size,
        next: (page.has_more && params.cursor.is_none()).then(|| link(n + 1)),
        previous: (n > 1 && params.cursor.is_none()).then(|| link(n - 1)),
        next_cursor: page.next_cursor,
        filters: LogListParams {
            page: None,
            page_size: None,
            cursor: None,
            ..params
        },
    }))
}

/// The query string with `page` set and `cursor` dropped.
fn with_page(raw: Option<&str>, page: u32) -> String {
    let mut parts: Vec<&str> = raw
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page=") && !p.starts_with("cursor="))
        .collect();
    let page = format!("page={page}");
    parts.push(&page);
    parts.join("&")
}

/// Log a communication. Validates blueprint §6 rules; `Idempotency-Key` makes retries safe.
#[utoipa::path(post, path = "/api/communication-logs/", tag = "communication-logs", request_body = NewCommunicationLog,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result")),
    responses((status = 201, body = CreatedLogResponse), (status = 200, description = "Already captured (same source and external_id)", body = CreatedLogResponse),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Response> {
    auth.require(Permission::CreateLog)?;
    let new: NewCommunicationLog = parse_json(&body)?;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned));
    let key = match key {
        Some(Ok(k)) if !k.is_empty() && k.len() <= 200 => Some(k),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 visible characters",
            ));
        }
        None => None,
    };
    let hash = hex::encode(Sha256::digest(&body));
    let created = app
        .store
        .create_log(&auth.scope, new, key.as_deref().map(|k| (k, hash.as_str())))
        .await?;
    let status = if created.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let location = format!("/api/communication-logs/{}/", created.log.id);
    let mut response = (
        status,
        Json(CreatedLogResponse {
            log: created.log,
            warnings: created.warnings,
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if created.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// One communication log, optionally with attachments, follow-up and transcript.
#[utoipa::path(get, path = "/api/communication-logs/{id}/", tag = "communication-logs", params(("id" = Uuid, Path), DetailParams),
    responses((status = 200, body = LogDetail), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(p): ApiQuery<DetailParams>,
) -> ApiResult<Json<LogDetail>> {
    auth.require(Permission::ReadLogs)?;
    let mut log = app.store.get_log(&auth.scope, id).await?;
    if crate::processing::masking::applies(&app, &auth.scope).await? {
        crate::processing::masking::mask_log(&mut log);
    }
    if !p.include_transcript {
        log.transcription = None;
    } else if log.transcription.is_some() {
        auth.audit_read("read_transcript", "communication_log", id)
            .await?;
    }
    let attachments = if p.include_attachments && auth.actor().can(Permission::ReadAttachments) {
        let filter = AttachmentFilter {
            communication_log_id: Some(id),
            page_size: Some(100),
            ..Default::default()
        };
        Some(app.store.list_attachments(&auth.scope, &filter).await?)
    } else {
        None
    };
    let follow_up = p.include_follow_up.then(|| {
        serde_json::json!({
            "requires_follow_up": log.requires_follow_up, "follow_up_assigned_to": log.follow_up_assigned_to,
            "follow_up_date": log.follow_up_date.map(|d| commlog_domain::time_fmt::normalize(d)
                .format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
            "follow_up_status": log.follow_up_status,
        })
    });
    Ok(Json(LogDetail {
        log,
        attachments,
        follow_up,
    }))
}

/// Replace every editable field of a log (the body is the same as for create).
#[utoipa::path(put, path = "/api/communication-logs/{id}/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = NewCommunicationLog,
    responses((status = 200, body = UpdatedLogResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewCommunicationLog>,
) -> ApiResult<Json<UpdatedLogResponse>> {
    auth.require(Permission::UpdateLog)?;
    let (log, warnings) = app
        .store
        .update_log(&auth.scope, id, CommunicationLogPatch::replace_with(body))
        .await?;
    Ok(Json(UpdatedLogResponse { log, warnings }))
}

/// Change some fields of a log; status changes follow the state machine.
#[utoipa::path(patch, path = "/api/communication-logs/{id}/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = CommunicationLogPatch,
    responses((status = 200, body = UpdatedLogResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<CommunicationLogPatch>,
) -> ApiResult<Json<UpdatedLogResponse>> {
    auth.require(Permission::UpdateLog)?;
    let (log, warnings) = app.store.update_log(&auth.scope, id, patch).await?;
    Ok(Json(UpdatedLogResponse { log, warnings }))
}

/// Soft-delete a log (managers and admins); refused with an active follow-up or pending attachment.
#[utoipa::path(delete, path = "/api/communication-logs/{id}/", tag = "communication-logs", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    if !auth.actor().can(Permission::DeleteLog) {
        // Existence is only revealed to those who can see the log.
        app.store.get_log(&auth.scope, id).await?;
        auth.require(Permission::DeleteLog)?;
    }
    app.store.delete_log(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign a log to a user of the company, within their capacity (blueprint §6.3).
#[utoipa::path(post, path = "/api/communication-logs/{id}/assign/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = AssignRequest,
    responses((status = 200, body = AssignResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<AssignResponse>> {
    auth.require(Permission::AssignLog)?;
    let patch = CommunicationLogPatch {
        assigned_to_user_id: Some(req.user_id),
        ..Default::default()
    };
    let (log, warnings) = app.store.update_log(&auth.scope, id, patch).await?;
    let assigned_to = match log.assigned_to_user_id {
        Some(u) => Some(app.store.get_user(&auth.scope, u).await?),
        None => None,
    };
    Ok(Json(AssignResponse {
        communication_log: log,
        notified: req.notify.unwrap_or(true) && assigned_to.is_some(),
        assigned_to,
        warnings,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub customer_id: Uuid,
    /// The contact at that customer, when known.
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// Remember the other party's number for this customer (or contact), so later calls from
    /// it are matched (default `true`).
    #[serde(default)]
    pub remember_number: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkResponse {
    pub communication_log: CommunicationLog,
    /// The number remembered for the customer or contact, if one was.
    pub remembered_number: Option<String>,
}

/// Link a log — typically a call from an unknown number — to its customer and contact.
#[utoipa::path(post, path = "/api/communication-logs/{id}/link/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = LinkRequest,
    responses((status = 200, body = LinkResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn link_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> ApiResult<Json<LinkResponse>> {
    auth.require(Permission::UpdateLog)?;
    let patch = CommunicationLogPatch {
        customer_id: Some(Some(req.customer_id)),
        contact_id: Some(req.contact_id),
        ..Default::default()
    };
    let (log, _) = app.store.update_log(&auth.scope, id, patch).await?;
    let mut remembered = None;
    if req.remember_number.unwrap_or(true) {
        let own = app.store.own_numbers(&auth.scope).await?;
        // The other party: a number that is neither a user's nor one of the company's own.
        let number = log
            .participants
            .iter()
            .filter(|p| p.user_id.is_none())
            .filter_map(|p| p.phone.clone())
            .find(|phone| !own.contains(phone));
        if let Some(phone) = number {
            app.store
                .remember_number(&auth.scope, &phone, req.customer_id, req.contact_id)
                .await?;
            remembered = Some(phone);
        }
    }
    Ok(Json(LinkResponse {
        communication_log: log,
        remembered_number: remembered,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeThreadRequest {
    /// A log of the conversation to merge into.
    pub into_log_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct ThreadChange {
    pub thread_id: Uuid,
    /// The logs that moved.
    pub moved: Vec<Uuid>,
}

/// The logs of a thread the caller can see, oldest first (at most 100).
async fn thread_logs(
    app: &AppState,
    auth: &Auth,
    thread: Uuid,
) -> ApiResult<Vec<CommunicationLog>> {
    let params: LogListParams = serde_json::from_value(
        serde_json::json!({"thread_id": thread, "page_size": 100, "ordering": "start_time"}),
    )
    .map_err(ApiError::internal)?;
    Ok(app.store.list_logs(&auth.scope, &params).await?.results)
}

fn thread_key(l: &CommunicationLog) -> Option<String> {
    (l.source == "email")
        .then(|| l.external_id.as_ref().map(|id| format!("id:{id}")))
        .flatten()
}

/// Merge this log's conversation into another's: every log of its thread moves there, and
/// later messages of either follow.
#[utoipa::path(post, path = "/api/communication-logs/{id}/merge-thread/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = MergeThreadRequest,
    responses((status = 200, body = ThreadChange), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn merge_communication_thread(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<MergeThreadRequest>,
) -> ApiResult<Json<ThreadChange>> {
    auth.require(Permission::UpdateLog)?;
    let log = app.store.get_log(&auth.scope, id).await?;
    let target = app
        .store
        .get_log(&auth.scope, req.into_log_id)
        .await
        .map_err(|_| ApiError::field("into_log_id", "unknown_log", "no such communication log"))?;
    let into = target.thread_id.unwrap_or(target.id);
    if target.thread_id.is_none() {
        let patch = CommunicationLogPatch {
            thread_id: Some(Some(into)),
            ..Default::default()
        };
        app.store.update_log(&auth.scope, target.id, patch).await?;
    }
    let moving = match log.thread_id {
        Some(t) => thread_logs(&app, &auth, t).await?,
        None => vec![log.clone()],
    };
    let mut moved = Vec::new();
    for l in moving.iter().filter(|l| l.thread_id != Some(into)) {
        let patch = CommunicationLogPatch {
            thread_id: Some(Some(into)),
            ..Default::default()
        };
        app.store.update_log(&auth.scope, l.id, patch).await?;
        moved.push(l.id);
    }
    if let Some(from) = log.thread_id.filter(|t| *t != into) {
        app.store
            .move_thread_keys(&auth.scope, from, into, None)
            .await?;
    }
    Ok(Json(ThreadChange {
        thread_id: into,
        moved,
    }))
}

/// Split a conversation: this log and the later ones of its thread start a thread of their own.
#[utoipa::path(post, path = "/api/communication-logs/{id}/split-thread/", tag = "communication-logs", params(("id" = Uuid, Path)),
    responses((status = 200, body = ThreadChange), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn split_communication_thread(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ThreadChange>> {
    auth.require(Permission::UpdateLog)?;
    let log = app.store.get_log(&auth.scope, id).await?;
    let fresh = commlog_domain::new_id();
    let moving = match log.thread_id {
        Some(t) => thread_logs(&app, &auth, t)
            .await?
            .into_iter()
            .filter(|l| (l.start_time, l.id) >= (log.start_time, log.id))
            .collect(),
        None => vec![log.clone()],
    };
    let mut moved = Vec::new();
    for l in &moving {
        let patch = CommunicationLogPatch {
            thread_id: Some(Some(fresh)),
            ..Default::default()
        };
        app.store.update_log(&auth.scope, l.id, patch).await?;
        moved.push(l.id);
    }
    if let Some(from) = log.thread_id {
        let keys: Vec<String> = moving.iter().filter_map(thread_key).collect();
        app.store
            .move_thread_keys(&auth.scope, from, fresh, Some(&keys))
            .await?;
    }
    Ok(Json(ThreadChange {
        thread_id: fresh,
        moved,
    }))
}

/// Who changed what on a log, oldest first.
#[utoipa::path(get, path = "/api/communication-logs/{id}/history/", tag = "communication-logs", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AuditEntry>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_communication_log_history(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(app.store.log_history(&auth.scope, id).await?))
}

/// The participants of a log.
#[utoipa::path(get, path = "/api/communication-logs/{id}/participants/", tag = "communication-logs", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Participant>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_communication_log_participants(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<Participant>>> {
    auth.require(Permission::ReadLogs)?;
    let mut participants = app.store.get_log(&auth.scope, id).await?.participants;
    if crate::processing::masking::applies(&app, &auth.scope).await? {
        crate::processing::masking::mask_participants(&mut participants);
    }
    Ok(Json(participants))
}

/// Start watching a log (or make another user watch it).
#[utoipa::path(post, path = "/api/communication-logs/{id}/watchers/", tag = "communication-logs", params(("id" = Uuid, Path)),
    request_body = WatcherRequest, responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_communication_log_watcher(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<WatcherRequest>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::UpdateLog)?;
    app.store.add_watcher(&auth.scope, id, req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop a user watching a log.
#[utoipa::path(delete, path = "/api/communication-logs/{id}/watchers/{user_id}/", tag = "communication-logs",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn remove_communication_log_watcher(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::UpdateLog)?;
    app.store.remove_watcher(&auth.scope, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
