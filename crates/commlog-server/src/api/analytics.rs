//! `/api/analytics/`: reports scoped by role (a rep sees their own figures, a team lead the
//! team's, managers the company's), live counters, the company's analytics settings, and the
//! satisfaction score of a log.

use crate::analytics::export::csv_response;
use crate::analytics::{self, Context, Report, ReportKind};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use commlog_domain::analytics::{AnalyticsQuery, AnalyticsSettings, Counters, ReportFormat};
use commlog_domain::{CommunicationLog, Permission};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

async fn answer(
    app: AppState,
    auth: Auth,
    q: AnalyticsQuery,
    kind: ReportKind,
) -> ApiResult<Response> {
    auth.require(Permission::ReadLogs)?;
    if q.group_by.is_some() && kind != ReportKind::Volume {
        return Err(ApiError::field(
            "group_by",
            "not_applicable",
            "group_by applies to the volume report only",
        ));
    }
    let format = q.format.unwrap_or_default();
    let ctx = Context::new(&app, auth.actor(), q).await?;
    let made = analytics::report(&app, &ctx, kind).await?;
    Ok(match format {
        ReportFormat::Json => {
            ([(header::CONTENT_TYPE, "application/json")], made.json).into_response()
        }
        ReportFormat::Csv => csv_response(made.report),
    })
}

/// Communications by channel (or `group_by`: type, direction, status) per bucket, and totals.
#[utoipa::path(get, path = "/api/analytics/volume/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_volume(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::Volume).await
}

/// First-response, response and resolution times (average, p50, p90) overall, per agent, team
/// and channel, SLA shares, and first responses per bucket. Business hours count when a
/// calendar is set.
#[utoipa::path(get, path = "/api/analytics/response-times/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_response_times(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::ResponseTimes).await
}

/// Per channel: volume, share, calls answered and missed, answer rate, average handle time and
/// first-response time; capture errors per integration (company scope).
#[utoipa::path(get, path = "/api/analytics/channels/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_channels(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::Channels).await
}

/// Sentiment distribution and trend, by channel, agent and customer, and the most negative
/// conversations.
#[utoipa::path(get, path = "/api/analytics/sentiment/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_sentiment(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::Sentiment).await
}

/// Follow-up rate, completion, overdue and time to complete, per bucket and agent.
#[utoipa::path(get, path = "/api/analytics/follow-ups/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_follow_ups(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::FollowUps).await
}

/// Communications handled per agent and team, open items against capacity, utilisation.
#[utoipa::path(get, path = "/api/analytics/productivity/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_productivity(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::Productivity).await
}

/// First-contact resolution, cost per communication by channel, customer satisfaction.
#[utoipa::path(get, path = "/api/analytics/business/", tag = "analytics", params(AnalyticsQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn analytics_business(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    answer(app, auth, q, ReportKind::Business).await
}

/// What needs attention now in the caller's scope.
#[utoipa::path(get, path = "/api/analytics/counters/", tag = "analytics",
    responses((status = 200, body = Counters)), security(("bearer" = [])))]
pub async fn analytics_counters(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Counters>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(
        crate::analytics::counters::current(&app, auth.actor()).await?,
    ))
}

/// The company's business hours, SLA targets and channel costs.
#[utoipa::path(get, path = "/api/analytics/settings/", tag = "analytics",
    responses((status = 200, body = AnalyticsSettings)), security(("bearer" = [])))]
pub async fn get_analytics_settings(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<AnalyticsSettings>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(
        app.store
            .analytics_settings(auth.actor().company_id)
            .await?,
    ))
}

/// Replaces the company's analytics settings (managers and administrators).
#[utoipa::path(put, path = "/api/analytics/settings/", tag = "analytics", request_body = AnalyticsSettings,
    responses((status = 200, body = AnalyticsSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_analytics_settings(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(settings): ApiJson<AnalyticsSettings>,
) -> ApiResult<Json<AnalyticsSettings>> {
    auth.require(Permission::ManageChannels)?;
    for (i, t) in settings.team_calendars.iter().enumerate() {
        // A team of another company does not exist here.
        if app.store.get_team(&auth.scope, t.team_id).await.is_err() {
            return Err(ApiError::field(
                &format!("team_calendars[{i}].team_id"),
                "not_found",
                "no such team",
            ));
        }
    }
    Ok(Json(
        app.store
            .set_analytics_settings(&auth.scope, &settings)
            .await?,
    ))
}

/// A customer-satisfaction score (1–5), or `null` to clear it.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionRequest {
    pub score: Option<i32>,
}

/// Records the customer's satisfaction with a communication (e.g. from a survey).
#[utoipa::path(put, path = "/api/communication-logs/{id}/satisfaction/", tag = "analytics", params(("id" = Uuid, Path)),
    request_body = SatisfactionRequest,
    responses((status = 200, body = CommunicationLog), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_satisfaction(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SatisfactionRequest>,
) -> ApiResult<Json<CommunicationLog>> {
    auth.require(Permission::UpdateLog)?;
    Ok(Json(
        app.store
            .set_satisfaction(&auth.scope, id, req.score)
            .await?,
    ))
}
