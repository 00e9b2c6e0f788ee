//! Data protection work beyond a single request: erasure requests worked through in batches by
//! the job runner (and their ledger), the hourly retention sweep, and deleting the files that
//! both leave behind.

pub mod export;
pub mod ledger;
pub mod regulator;

use crate::blobs::BlobError;
use crate::capture::runner::{JobError, Scopes};
use crate::state::AppState;
use commlog_domain::compliance::{ERASURE_JOB, ErasureRequest, RetentionReport};
use commlog_domain::records::Job;
use commlog_store::Scope;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Logs purged per transaction.
pub const ERASURE_BATCH: i64 = 500;
/// How long one run of an erasure job works before it queues its continuation: well inside
/// the job lease, so no other runner takes the job over while it is still working.
const ERASURE_SLICE: Duration = Duration::from_secs(60);
/// How often retention policies are applied.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Deletes files from the application's blob store; one already gone counts as deleted.
pub async fn delete_blobs(app: &AppState, keys: &[String]) -> Result<(), BlobError> {
    crate::blobs::delete_all(app.blobs.as_ref(), keys).await
}

/// Records an erasure request (refused under a legal hold), enters it in the ledger, and wakes
/// the job runner that carries it out.
pub async fn start_erasure(
    app: &AppState,
    scope: &Scope,
    mut new: commlog_domain::compliance::NewErasure,
) -> Result<commlog_domain::compliance::ErasureRequest, crate::error::ApiError> {
    new.validate().map_err(crate::error::ApiError::validation)?;
    let subject = app.store.resolve_subject(scope, &new.subject).await?;
    let request = app.store.start_erasure(scope, &new).await?;
    if let Some(dir) = &app.ledger_dir {
        // Without its ledger entry, restoring an older backup would bring the person back.
        ledger::append(
            dir,
            &ledger::entry(scope.company_id(), request.id, &subject),
        )
        .map_err(crate::error::ApiError::internal)?;
    }
    app.jobs.notify_one();
    Ok(request)
}

/// Works through an erasure request, batch by batch, deleting the files each batch frees,
/// until it is no longer running — or, with a `budget`, until that much time has passed.
/// Returns the request as it then stands.
pub async fn work_erasure(
    app: &AppState,
    scope: &Scope,
    id: Uuid,
    budget: Option<Duration>,
) -> Result<ErasureRequest, JobError> {
    let started = Instant::now();
    loop {
        let (request, files) = match app.store.erase_batch(scope, id, ERASURE_BATCH).await {
            Ok(done) => done,
            Err(commlog_store::StoreError::NotFound) => {
                return Err(JobError::permanent("no such erasure request"));
            }
            Err(e) => return Err(e.into()),
        };
        // Purges emit no events: cached figures of the company must not outlive them.
        crate::analytics::cache::forget_company(scope.company_id());
        delete_blobs(app, &files).await.map_err(JobError::retry)?;
        if request.status != "running" || budget.is_some_and(|b| started.elapsed() >= b) {
            return Ok(request);
        }
    }
}

/// The job that carries out an erasure request (payload `{"erasure_id"}`).
pub async fn erase(app: &AppState, job: &Job, scopes: &Scopes) -> Result<(), JobError> {
    let id = job
        .payload
        .get("erasure_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| JobError::permanent("the job names no erasure request"))?;
    let scope = scopes.of(app, job.company_id).await?;
    let request = work_erasure(app, &scope, id, Some(ERASURE_SLICE)).await?;
    if request.status == "running" {
        // Progress is committed batch by batch; the continuation picks up where this left.
        app.store
            .enqueue_job(job.company_id, ERASURE_JOB, &json!({"erasure_id": id}))
            .await?;
        app.jobs.notify_one();
    } else {
        tracing::info!(erasure = %id, status = %request.status, logs = request.logs_done, "erasure finished");
    }
    Ok(())
}

/// Applies one company's retention policies now and deletes the files of purged logs.
pub async fn apply_retention(
    app: &AppState,
    scope: &Scope,
    dry_run: bool,
) -> anyhow::Result<RetentionReport> {
    let now = commlog_domain::time_fmt::now();
    let (report, files) = app.store.run_retention(scope, now, dry_run).await?;
    if !dry_run {
        // Archiving and purging emit no events: cached figures must not outlive them.
        crate::analytics::cache::forget_company(scope.company_id());
    }
    delete_blobs(app, &files).await?;
    Ok(report)
}

/// Applies every company's retention policies; returns how many logs were archived or purged.
pub async fn sweep_retention(app: &AppState) -> anyhow::Result<usize> {
    let mut acted = 0;
    for company in app.store.company_ids().await? {
        // Most companies have no policy: look before finding who the run acts as.
        let probe = Scope::admin(company, Uuid::nil());
        if app.store.list_retention_policies(&probe).await?.is_empty() {
            continue;
        }
        let scope = crate::import::acting_scope(&app.store, company, None).await?;
        let r = apply_retention(app, &scope, false).await?;
        acted += r.archived.len() + r.purged.len() + r.removed.len();
    }
    Ok(acted)
}
