//! Automatic processing over the API: the company's processing settings, what ran on a log
//! and re-running it, escalation rules, and the example texts that teach auto-categorisation.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::processing::rules::check_rule;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commlog_domain::Permission;
use commlog_domain::processing::{
    CategoryExample, EscalationRuleRecord, ProcessingRun, ProcessingSettings, STEPS,
};
use commlog_domain::records::Job;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How the company's logs are processed.
#[utoipa::path(get, path = "/api/company/processing-settings/", tag = "processing",
    responses((status = 200, body = ProcessingSettings)), security(("bearer" = [])))]
pub async fn get_processing_settings(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<ProcessingSettings>> {
    auth.require(Permission::ReadReferenceData)?;
    let (mut settings, key) = app
        .store
        .processing_settings(auth.scope.company_id())
        .await?;
    settings.transcription.api_key_set = key.is_some();
    Ok(Json(settings))
}

/// Set how the company's logs are processed (admins): the transcription engine (`local`,
/// `http`, `none`), the sentiment engine, the PII region and which roles see PII masked,
/// follow-up detection and escalation.
#[utoipa::path(put, path = "/api/company/processing-settings/", tag = "processing", request_body = ProcessingSettings,
    responses((status = 200, body = ProcessingSettings), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_processing_settings(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(mut settings): ApiJson<ProcessingSettings>,
) -> ApiResult<Json<ProcessingSettings>> {
    auth.require(Permission::ManageIntegrations)?;
    crate::processing::settings::check(&mut settings)?;
    let sealed = match settings.transcription.api_key.take() {
        None => None,
        Some(k) if k.is_empty() => Some(None),
        Some(k) => Some(Some(app.cipher.seal(
            &k,
            &crate::processing::settings::key_context(auth.scope.company_id()),
        ))),
    };
    let mut saved = app
        .store
        .set_processing_settings(&auth.scope, &settings, sealed)
        .await?;
    let (_, key) = app
        .store
        .processing_settings(auth.scope.company_id())
        .await?;
    saved.transcription.api_key_set = key.is_some();
    Ok(Json(saved))
}

/// What automatic processing did to a log: each step that ran (engine, version, outcome) and
/// the jobs that worked on it.
#[derive(Serialize, ToSchema)]
pub struct LogProcessing {
    pub runs: Vec<ProcessingRun>,
    pub jobs: Vec<Job>,
}

/// What ran on a log, when, and with which engine and version.
#[utoipa::path(get, path = "/api/communication-logs/{id}/processing/", tag = "processing", params(("id" = Uuid, Path)),
    responses((status = 200, body = LogProcessing), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_log_processing(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LogProcessing>> {
    auth.require(Permission::ReadLogs)?;
    let runs = app.store.processing_runs(&auth.scope, id).await?;
    let jobs = app.store.subject_jobs(auth.scope.company_id(), id).await?;
    Ok(Json(LogProcessing { runs, jobs }))
}

/// The period of `GET /api/key-topics/`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KeyTopicsQuery {
    /// Logs that started at or after this time (RFC 3339; default 30 days ago).
    #[serde(default, with = "commlog_domain::time_fmt::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<time::OffsetDateTime>,
    /// …and before this time (default now).
    #[serde(default, with = "commlog_domain::time_fmt::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<time::OffsetDateTime>,
    /// At most this many topics, most frequent first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A topic and the number of logs it came up in.
#[derive(Serialize, ToSchema)]
pub struct TopicCount {
    pub topic: String,
    pub logs: usize,
}

#[derive(Serialize, ToSchema)]
pub struct KeyTopics {
    pub topics: Vec<TopicCount>,
    /// How many logs were counted (the newest 20,000 of the period at most).
    pub logs_counted: usize,
}

/// Logs read at most for one answer: the newest of the period.
const MAX_TOPIC_LOGS: i64 = 20_000;

/// What the caller's customers talked about in a period: the key topics of the logs the
/// caller may see, counted once per log (singular and plural merged).
#[utoipa::path(get, path = "/api/key-topics/", tag = "processing", params(KeyTopicsQuery),
    responses((status = 200, body = KeyTopics), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_key_topics(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<KeyTopicsQuery>,
) -> ApiResult<Json<KeyTopics>> {
    auth.require(Permission::ReadLogs)?;
    let limit = crate::extract::list_limit(q.limit)?;
    let until = q.until.unwrap_or_else(commlog_domain::time_fmt::now);
    let since = q.since.unwrap_or(until - time::Duration::days(30));
    if since >= until {
        return Err(ApiError::field(
            "since",
            "invalid_range",
            "since must be before until",
        ));
    }
    let per_log = app
        .store
        .key_topics_between(&auth.scope, since, until, MAX_TOPIC_LOGS)
        .await?;
    let counts = commlog_analysis::topics::company_topics(
        per_log.iter().map(|l| l.iter().map(String::as_str)),
    );
    let topics = counts
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|(topic, logs)| TopicCount { topic, logs })
        .collect();
    Ok(Json(KeyTopics {
        topics,
        logs_counted: per_log.len(),
    }))
}

/// Which steps to run again.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReprocessRequest {
    /// Steps to run (`transcription`, `language`, `pii`, `sentiment`, `key_topics`,
    /// `categorization`, `follow_up`, `escalation`); empty or absent: all of them.
    pub steps: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reprocessing {
    pub queued: Vec<Uuid>,
    pub steps: Vec<String>,
}

/// Analyse a log again (after a model upgrade, a changed rule, …). Answers 202: the work is
/// queued and shows up under `…/processing/`.
#[utoipa::path(post, path = "/api/communication-logs/{id}/reprocess/", tag = "processing", params(("id" = Uuid, Path)),
    request_body = ReprocessRequest,
    responses((status = 202, body = Reprocessing), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reprocess_communication_log(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReprocessRequest>,
) -> ApiResult<(StatusCode, Json<Reprocessing>)> {
    auth.require(Permission::UpdateLog)?;
    let steps = check_steps(req.steps)?;
    let queued = app.store.reprocess_logs(&auth.scope, &[id], &steps).await?;
    app.jobs.notify_one();
    Ok((StatusCode::ACCEPTED, Json(Reprocessing { queued, steps })))
}

/// The steps named, checked and in run order.
pub fn check_steps(steps: Vec<String>) -> Result<Vec<String>, ApiError> {
    for (i, s) in steps.iter().enumerate() {
        if !STEPS.contains(&s.as_str()) {
            return Err(ApiError::field(
                &format!("steps[{i}]"),
                "unknown_step",
                format!("one of {}", STEPS.join(", ")),
            ));
        }
    }
    Ok(STEPS
        .iter()
        .filter(|s| steps.iter().any(|x| x == *s))
        .map(|s| (*s).to_owned())
        .collect())
}

/// An escalation rule: a name and conditions that must all hold (see `docs/processing.md`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationRuleInput {
    pub name: String,
    /// `{"min_priority", "sentiment_below", "keywords", "channels", "communication_types",
    /// "raise_priority_to"}`; at least one condition.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// The company's escalation rules (managers). With none, the built-in defaults apply.
#[utoipa::path(get, path = "/api/escalation-rules/", tag = "processing",
    responses((status = 200, body = Vec<EscalationRuleRecord>)), security(("bearer" = [])))]
pub async fn list_escalation_rules(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<EscalationRuleRecord>>> {
    auth.require(Permission::ManageCategories)?;
    Ok(Json(app.store.list_escalation_rules(&auth.scope).await?))
}

/// Add an escalation rule (managers).
#[utoipa::path(post, path = "/api/escalation-rules/", tag = "processing", request_body = EscalationRuleInput,
    responses((status = 201, body = EscalationRuleRecord), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_escalation_rule(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<EscalationRuleInput>,
) -> ApiResult<(StatusCode, Json<EscalationRuleRecord>)> {
    auth.require(Permission::ManageCategories)?;
    check_rule(&input.name, &input.rule)?;
    let saved = app
        .store
        .save_escalation_rule(&auth.scope, None, &input.name, &input.rule, input.is_active)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Replace an escalation rule (managers).
#[utoipa::path(put, path = "/api/escalation-rules/{id}/", tag = "processing", params(("id" = Uuid, Path)),
    request_body = EscalationRuleInput,
    responses((status = 200, body = EscalationRuleRecord), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_escalation_rule(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<EscalationRuleInput>,
) -> ApiResult<Json<EscalationRuleRecord>> {
    auth.require(Permission::ManageCategories)?;
    check_rule(&input.name, &input.rule)?;
    Ok(Json(
        app.store
            .save_escalation_rule(
                &auth.scope,
                Some(id),
                &input.name,
                &input.rule,
                input.is_active,
            )
            .await?,
    ))
}

/// Delete an escalation rule (managers).
#[utoipa::path(delete, path = "/api/escalation-rules/{id}/", tag = "processing", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_escalation_rule(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageCategories)?;
    app.store.delete_escalation_rule(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The texts that teach auto-categorisation what this category looks like: administrators'
/// examples and people's corrections.
#[utoipa::path(get, path = "/api/communication-categories/{id}/examples/", tag = "processing", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CategoryExample>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_category_examples(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<CategoryExample>>> {
    auth.require(Permission::ManageCategories)?;
    app.store.get_category(&auth.scope, id).await?;
    Ok(Json(
        app.store
            .list_category_examples(&auth.scope, Some(id))
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryExampleInput {
    /// A text typical of the category (3 to 2000 characters are kept).
    pub text: String,
}

/// Teach auto-categorisation with an example text (managers).
#[utoipa::path(post, path = "/api/communication-categories/{id}/examples/", tag = "processing", params(("id" = Uuid, Path)),
    request_body = CategoryExampleInput,
    responses((status = 201, body = CategoryExample), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn add_category_example(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<CategoryExampleInput>,
) -> ApiResult<(StatusCode, Json<CategoryExample>)> {
    auth.require(Permission::ManageCategories)?;
    let example = app
        .store
        .add_category_example(&auth.scope, id, &input.text)
        .await?;
    Ok((StatusCode::CREATED, Json(example)))
}
