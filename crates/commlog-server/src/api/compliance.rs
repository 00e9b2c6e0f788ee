//! Compliance over the API: legal holds, retention policies and runs, and data-subject requests
//! (access exports and erasures). Compliance officers and administrators only; every change and
//! every export is in the audit trail.

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use commlog_domain::Permission;
use commlog_domain::compliance::{
    ErasureRequest, LegalHold, NewErasure, NewLegalHold, RetentionPolicy, RetentionPolicyInput,
    RetentionReport, SubjectRef,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HoldListQuery {
    /// `true` to list released holds too.
    pub include_released: Option<bool>,
}

/// Legal holds in force (with `include_released=true`, released ones too), newest first.
#[utoipa::path(get, path = "/api/legal-holds/", tag = "compliance", params(HoldListQuery),
    responses((status = 200, body = Vec<LegalHold>)), security(("bearer" = [])))]
pub async fn list_legal_holds(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HoldListQuery>,
) -> ApiResult<Json<Vec<LegalHold>>> {
    auth.require(Permission::ManageLegalHold)?;
    Ok(Json(
        app.store
            .list_legal_holds(&auth.scope, q.include_released.unwrap_or(false))
            .await?,
    ))
}

/// Place a legal hold on a customer, contact, thread, log or saved query: what it covers is
/// exempt from retention and erasure until it is released.
#[utoipa::path(post, path = "/api/legal-holds/", tag = "compliance", request_body = NewLegalHold,
    responses((status = 201, body = LegalHold), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_legal_hold(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(new): ApiJson<NewLegalHold>,
) -> ApiResult<(StatusCode, Json<LegalHold>)> {
    auth.require(Permission::ManageLegalHold)?;
    let hold = app.store.create_legal_hold(&auth.scope, &new).await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

#[utoipa::path(get, path = "/api/legal-holds/{id}/", tag = "compliance", params(("id" = Uuid, Path)),
    responses((status = 200, body = LegalHold), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_legal_hold(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LegalHold>> {
    auth.require(Permission::ManageLegalHold)?;
    Ok(Json(app.store.get_legal_hold(&auth.scope, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseHold {
    /// Why the data need no longer be kept.
    pub reason: String,
}

/// Release a legal hold (it stays listed, with who released it, when and why).
#[utoipa::path(post, path = "/api/legal-holds/{id}/release/", tag = "compliance", params(("id" = Uuid, Path)),
    request_body = ReleaseHold,
    responses((status = 200, body = LegalHold), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn release_legal_hold(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReleaseHold>,
) -> ApiResult<Json<LegalHold>> {
    auth.require(Permission::ManageLegalHold)?;
    Ok(Json(
        app.store
            .release_legal_hold(&auth.scope, id, &body.reason)
            .await?,
    ))
}

/// The company's retention policies.
#[utoipa::path(get, path = "/api/retention-policies/", tag = "compliance",
    responses((status = 200, body = Vec<RetentionPolicy>)), security(("bearer" = [])))]
pub async fn list_retention_policies(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<RetentionPolicy>>> {
    auth.require(Permission::ManageRetention)?;
    Ok(Json(app.store.list_retention_policies(&auth.scope).await?))
}

/// Add a retention policy. The most specific policy matching a log governs it (category,
/// channel and type each count); among equals, the one that keeps data longest.
#[utoipa::path(post, path = "/api/retention-policies/", tag = "compliance", request_body = RetentionPolicyInput,
    responses((status = 201, body = RetentionPolicy), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_retention_policy(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<RetentionPolicyInput>,
) -> ApiResult<(StatusCode, Json<RetentionPolicy>)> {
    auth.require(Permission::ManageRetention)?;
    let saved = app
        .store
        .save_retention_policy(&auth.scope, None, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Replace a retention policy.
#[utoipa::path(put, path = "/api/retention-policies/{id}/", tag = "compliance", params(("id" = Uuid, Path)),
    request_body = RetentionPolicyInput,
    responses((status = 200, body = RetentionPolicy), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_retention_policy(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RetentionPolicyInput>,
) -> ApiResult<Json<RetentionPolicy>> {
    auth.require(Permission::ManageRetention)?;
    Ok(Json(
        app.store
            .save_retention_policy(&auth.scope, Some(id), &input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/retention-policies/{id}/", tag = "compliance", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_retention_policy(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageRetention)?;
    app.store.delete_retention_policy(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRun {
    /// Report what the run would do, and do nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Apply the retention policies now (they also run every hour), or with `dry_run` see exactly
/// what that would do. Logs under legal hold are listed in `held` and left alone.
#[utoipa::path(post, path = "/api/retention/run/", tag = "compliance", request_body = RetentionRun,
    responses((status = 200, body = RetentionReport)), security(("bearer" = [])))]
pub async fn run_retention(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<RetentionRun>,
) -> ApiResult<Json<RetentionReport>> {
    auth.require(Permission::ManageRetention)?;
    let report = crate::compliance::apply_retention(&app, &auth.scope, body.dry_run)
        .await
        .map_err(crate::error::ApiError::internal)?;
    Ok(Json(report))
}

/// Everything Commlog holds about a data subject (named by contact, e-mail address or phone
/// number), as a ZIP: JSON records, transcripts, attachments and recordings, and a manifest
/// with each file's SHA-256.
#[utoipa::path(post, path = "/api/subject-requests/export/", tag = "compliance", request_body = SubjectRef,
    responses((status = 200, description = "application/zip"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_subject(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(mut subject): ApiJson<SubjectRef>,
) -> ApiResult<Response> {
    auth.require(Permission::SubjectRequests)?;
    subject
        .validate()
        .map_err(crate::error::ApiError::validation)?;
    let (bytes, counts) =
        crate::compliance::export::subject_export(&app, &auth.scope, &subject).await?;
    let name = format!(
        "attachment; filename=\"subject-export-{}.zip\"",
        commlog_domain::new_id()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (
                header::HeaderName::from_static("x-commlog-export-logs"),
                counts.logs.to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Erase a data subject: their logs' content, participants' addresses and numbers,
/// attachments, recordings and transcripts, their contact record and what names them in raw
/// captured data. Runs in the background, in batches (see `GET …/erasures/{id}/` for progress);
/// refused with 409 `legal_hold` while a hold covers any of it.
#[utoipa::path(post, path = "/api/subject-requests/erasures/", tag = "compliance", request_body = NewErasure,
    responses((status = 202, body = ErasureRequest), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_erasure(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(new): ApiJson<NewErasure>,
) -> ApiResult<(StatusCode, Json<ErasureRequest>)> {
    auth.require(Permission::SubjectRequests)?;
    let request = crate::compliance::start_erasure(&app, &auth.scope, new).await?;
    Ok((StatusCode::ACCEPTED, Json(request)))
}

/// Erasure requests, newest first.
#[utoipa::path(get, path = "/api/subject-requests/erasures/", tag = "compliance",
    responses((status = 200, body = Vec<ErasureRequest>)), security(("bearer" = [])))]
pub async fn list_erasures(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ErasureRequest>>> {
    auth.require(Permission::SubjectRequests)?;
    Ok(Json(app.store.list_erasures(&auth.scope).await?))
}

/// An erasure request: its progress (`logs_done` of `logs_total`) and, once completed, its
/// receipt (counts of what was erased; never the data).
#[utoipa::path(get, path = "/api/subject-requests/erasures/{id}/", tag = "compliance", params(("id" = Uuid, Path)),
    responses((status = 200, body = ErasureRequest), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_erasure(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ErasureRequest>> {
    auth.require(Permission::SubjectRequests)?;
    Ok(Json(app.store.get_erasure(&auth.scope, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegulatorExportRequest {
    /// The period's start (ISO 8601), inclusive: logs that started at or after it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: time::OffsetDateTime,
    /// The period's end, exclusive; at most 366 days after `since`.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub until: time::OffsetDateTime,
}

/// Every communication of a period (live, archived, deleted and purged alike) with its files
/// and the period's audit trail, as a ZIP with a `manifest.json` of SHA-256 hashes signed with
/// Ed25519 (`manifest.sig`; the public key is in the manifest and at
/// `GET /api/compliance/signing-key/`). Compliance officers only; audited.
#[utoipa::path(post, path = "/api/compliance/regulator-export/", tag = "compliance", request_body = RegulatorExportRequest,
    responses((status = 200, description = "application/zip"), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn regulator_export(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<RegulatorExportRequest>,
) -> ApiResult<Response> {
    auth.require(Permission::SubjectRequests)?;
    if body.until <= body.since {
        return Err(crate::error::ApiError::field(
            "until",
            "invalid_range",
            "until must be after since",
        ));
    }
    if body.until - body.since > time::Duration::days(crate::compliance::regulator::MAX_DAYS) {
        return Err(crate::error::ApiError::field(
            "until",
            "too_long",
            "one export covers at most 366 days; export longer periods in parts",
        ));
    }
    let (bytes, manifest) =
        crate::compliance::regulator::regulator_export(&app, &auth.scope, body.since, body.until)
            .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"regulator-export.zip\"".to_owned(),
            ),
            (
                header::HeaderName::from_static("x-commlog-export-logs"),
                manifest["counts"]["logs"].to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(serde::Serialize, ToSchema)]
pub struct SigningKey {
    pub algorithm: String,
    /// The Ed25519 public key, base64: it verifies `manifest.sig` over `manifest.json`.
    pub public_key: String,
}

/// The public key regulator exports are signed with (it changes when the master key is rotated;
/// each export's manifest names the key it was signed with).
#[utoipa::path(get, path = "/api/compliance/signing-key/", tag = "compliance",
    responses((status = 200, body = SigningKey)), security(("bearer" = [])))]
pub async fn get_signing_key(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SigningKey>> {
    auth.require(Permission::ReadAudit)?;
    Ok(Json(SigningKey {
        algorithm: "Ed25519".into(),
        public_key: crate::compliance::regulator::public_key(&app)?,
    }))
}
