//! The REST API under `/api/`, its OpenAPI document, health probes and the middleware around
//! them (body limits, rate limits, CORS, security headers, request ids, tracing, JSON errors
//! for unknown routes).

pub mod analytics;
pub mod attachments;
pub mod compliance;
pub mod email;
pub mod integrations;
pub mod logs;
pub mod mail_accounts;
pub mod people;
pub mod processing;
pub mod reference;
pub mod security;
pub mod session;
pub mod webhooks;

use crate::error::{ApiError, ErrorBody};
use crate::http;
use crate::http::ratelimit::{RateLimiter, rate_limit};
use crate::state::{AppState, Limits};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Commlog API", description = "Every conversation with your customers, captured, searchable and access-controlled."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags(
        (name = "communication-logs", description = "Calls, emails and messages"),
        (name = "communication-attachments", description = "Files attached to logs"),
        (name = "reference-data", description = "Categories, channels and tags"),
        (name = "people", description = "Users, teams, customers and contacts"),
        (name = "auth", description = "Sign-in, sessions and MFA"),
        (name = "security", description = "Passwords, sessions, MFA policy, API tokens and the audit trail"),
        (name = "email", description = "E-mail captured from uploads, imports and the forwarding address"),
        (name = "capture", description = "Calls and messages captured from telephony and messaging providers"),
        (name = "events", description = "Real-time events over a WebSocket, resumable by sequence number"),
        (name = "analytics", description = "Reports by role scope with drill-down filters and CSV export, live counters, SLA and cost settings"),
        (name = "processing", description = "Automatic processing: transcription, sentiment, topics, PII, categories, follow-ups and escalation"),
        (name = "compliance", description = "Legal holds, retention policies and runs, subject access exports and erasure"),
        (name = "health", description = "Probes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds the error answers every operation can give (bad input, authentication, limits, an
/// unavailable database) to each operation that does not describe them itself.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
            let content = ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", content)
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ];
            for (writes, op) in ops
                .into_iter()
                .filter_map(|(w, op)| op.as_mut().map(|op| (w, op)))
            {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description));
                };
                add("400", "malformed request (JSON, query string or form)");
                if secured {
                    add(
                        "401",
                        "not signed in, or the token is invalid, expired or revoked",
                    );
                    add("403", "the caller's role does not allow this");
                }
                add("422", "the input breaks a rule; details name each field");
                if writes {
                    add(
                        "409",
                        "conflicts with the current state: a unique value, or a rule such as an active follow-up",
                    );
                }
                if op.request_body.is_some() {
                    add("413", "the body is larger than this endpoint accepts");
                    add("415", "the body is not in the expected media type");
                }
                add("429", "too many requests; see Retry-After");
                add("503", "the database is unavailable; see Retry-After");
            }
        }
    }
}

fn api_router(limits: Limits) -> OpenApiRouter<AppState> {
    // Uploads get their own, larger body limit; every other endpoint takes small JSON bodies.
    let uploads = OpenApiRouter::new()
        .routes(routes!(
            attachments::list_communication_attachments,
            attachments::create_communication_attachment
        ))
        .routes(routes!(attachments::get_communication_attachment))
        .routes(routes!(attachments::download_communication_attachment))
        .routes(routes!(email::import_email))
        .layer(DefaultBodyLimit::max(
            limits.max_attachment_bytes + 64 * 1024,
        ));
    // Provider webhooks take bodies up to the capture limit, checked before buffering.
    let webhooks = OpenApiRouter::new()
        .routes(routes!(webhooks::calls::receive_call_event))
        .routes(routes!(webhooks::twilio::receive_twilio_voice))
        .routes(routes!(webhooks::twilio::receive_twilio_recording))
        .routes(routes!(webhooks::freeswitch::receive_freeswitch_cdr))
        .routes(routes!(webhooks::slack::receive_slack_event))
        .routes(routes!(
            webhooks::whatsapp::verify_whatsapp_subscription,
            webhooks::whatsapp::receive_whatsapp_event
        ))
        .routes(routes!(webhooks::teams::receive_teams_notifications))
        .layer(DefaultBodyLimit::max(commlog_ingest::MAX_WEBHOOK_BYTES));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(uploads)
        .merge(webhooks)
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::me))
        .routes(routes!(session::logout))
        .routes(routes!(session::list_my_sessions))
        .routes(routes!(session::revoke_my_session))
        .routes(routes!(session::change_password))
        .routes(routes!(session::enroll_mfa))
        .routes(routes!(session::activate_mfa))
        .routes(routes!(session::verify_mfa))
        .routes(routes!(security::reset_user_password))
        .routes(routes!(security::list_user_sessions))
        .routes(routes!(security::revoke_user_sessions))
        .routes(routes!(security::reset_user_mfa))
        .routes(routes!(
            security::list_api_tokens,
            security::create_api_token
        ))
        .routes(routes!(security::revoke_api_token))
        .routes(routes!(security::list_audit_entries))
        .routes(routes!(
            logs::list_communication_logs,
            logs::create_communication_log
        ))
        .routes(routes!(
            logs::get_communication_log,
            logs::replace_communication_log,
            logs::update_communication_log,
            logs::delete_communication_log
        ))
        .routes(routes!(logs::assign_communication_log))
        .routes(routes!(logs::link_communication_log))
        .routes(routes!(logs::merge_communication_thread))
        .routes(routes!(logs::split_communication_thread))
        .routes(routes!(logs::list_communication_log_history))
        .routes(routes!(logs::list_communication_log_participants))
        .routes(routes!(logs::add_communication_log_watcher))
        .routes(routes!(logs::remove_communication_log_watcher))
        .routes(routes!(
            reference::list_communication_categories,
            reference::create_communication_category
        ))
        .routes(routes!(
            reference::get_communication_category,
            reference::update_communication_category
        ))
        .routes(routes!(
            reference::list_channel_configurations,
            reference::create_channel_configuration
        ))
        .routes(routes!(
            reference::get_channel_configuration,
            reference::update_channel_configuration
        ))
        .routes(routes!(reference::list_tags, reference::create_tag))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(people::get_user, people::update_user))
        .routes(routes!(people::list_teams, people::create_team))
        .routes(routes!(
            people::get_team,
            people::update_team,
            people::delete_team
        ))
        .routes(routes!(people::list_customers, people::create_customer))
        .routes(routes!(
            people::get_customer,
            people::update_customer,
            people::delete_customer
        ))
        .routes(routes!(people::list_contacts, people::create_contact))
        .routes(routes!(
            people::get_contact,
            people::update_contact,
            people::delete_contact
        ))
        .routes(routes!(
            people::get_company,
            security::update_company_security
        ))
        .routes(routes!(
            compliance::list_legal_holds,
            compliance::create_legal_hold
        ))
        .routes(routes!(compliance::get_legal_hold))
        .routes(routes!(compliance::release_legal_hold))
        .routes(routes!(
            compliance::list_retention_policies,
            compliance::create_retention_policy
        ))
        .routes(routes!(
            compliance::update_retention_policy,
            compliance::delete_retention_policy
        ))
        .routes(routes!(compliance::run_retention))
        .routes(routes!(compliance::export_subject))
        .routes(routes!(
            compliance::list_erasures,
            compliance::start_erasure
        ))
        .routes(routes!(compliance::get_erasure))
        .routes(routes!(compliance::regulator_export))
        .routes(routes!(compliance::get_signing_key))
        .routes(routes!(integrations::configure_channel_webhook))
        .routes(routes!(
            integrations::get_own_numbers,
            integrations::set_own_numbers
        ))
        .routes(routes!(integrations::list_jobs))
        .routes(routes!(email::list_quarantined_emails))
        .routes(routes!(email::retry_quarantined_email))
        .routes(routes!(email::get_capture_address))
        .routes(routes!(email::list_log_mailboxes))
        .routes(routes!(
            email::get_email_settings,
            email::set_email_settings
        ))
        .routes(routes!(
            mail_accounts::list_mail_accounts,
            mail_accounts::create_mail_account
        ))
        .routes(routes!(
            mail_accounts::get_mail_account,
            mail_accounts::update_mail_account,
            mail_accounts::delete_mail_account
        ))
        .routes(routes!(email::rotate_capture_address))
        .routes(routes!(integrations::retry_job))
        .routes(routes!(
            processing::get_processing_settings,
            processing::set_processing_settings
        ))
        .routes(routes!(processing::get_log_processing))
        .routes(routes!(processing::list_key_topics))
        .routes(routes!(crate::events::ws::events_socket))
        .routes(routes!(crate::events::ws::create_ws_ticket))
        .routes(routes!(analytics::analytics_volume))
        .routes(routes!(analytics::analytics_response_times))
        .routes(routes!(analytics::analytics_channels))
        .routes(routes!(analytics::analytics_sentiment))
        .routes(routes!(analytics::analytics_follow_ups))
        .routes(routes!(analytics::analytics_productivity))
        .routes(routes!(analytics::analytics_business))
        .routes(routes!(analytics::analytics_counters))
        .routes(routes!(
            analytics::get_analytics_settings,
            analytics::put_analytics_settings
        ))
        .routes(routes!(analytics::put_satisfaction))
        .routes(routes!(processing::reprocess_communication_log))
        .routes(routes!(
            processing::list_escalation_rules,
            processing::create_escalation_rule
        ))
        .routes(routes!(
            processing::update_escalation_rule,
            processing::delete_escalation_rule
        ))
        .routes(routes!(
            processing::list_category_examples,
            processing::add_category_example
        ))
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
}

/// The OpenAPI document of every endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router(Limits::default()).split_for_parts().1;
    // Applied here, not as a derive modifier: the router adds the paths after the derive runs.
    CommonErrors.modify(&mut doc);
    doc
}

/// The whole HTTP application.
pub fn router(state: AppState) -> axum::Router {
    let (router, mut doc) = api_router(state.limits).split_for_parts();
    CommonErrors.modify(&mut doc);
    let doc = Arc::new(doc);
    let router = router
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .merge(crate::web::routes(&state))
        .fallback(|| async { ApiError::not_found() });
    let limiter = Arc::new(RateLimiter::new(&state.http, state.jwt.clone()));
    let router = if limiter.is_active() {
        router.layer(axum::middleware::from_fn_with_state(limiter, rate_limit))
    } else {
        router
    };
    // Outside the limiter, so refusals carry CORS and security headers too.
    let router = http::cors::apply(router, &state.http.cors_origins);
    http::headers::apply(router, state.http.tls)
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The process is alive (no dependencies checked).
#[utoipa::path(get, path = "/livez", tag = "health", responses((status = 200, description = "alive")))]
pub async fn livez() -> impl IntoResponse {
    Json(serde_json::json!({"status": "alive"}))
}

/// The process can serve: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "ready"), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(app): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    match tokio::time::timeout(Duration::from_millis(750), app.store.ping()).await {
        Ok(Ok(())) => Ok((
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "database": "ok"})),
        )),
        Ok(Err(e)) => Err(ApiError::from(commlog_store::StoreError::Unavailable(
            e.to_string(),
        ))),
        Err(_) => Err(ApiError::from(commlog_store::StoreError::Unavailable(
            "database ping timed out".into(),
        ))),
    }
}
