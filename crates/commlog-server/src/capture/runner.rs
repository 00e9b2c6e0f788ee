//! The job runner: claims due jobs of every company, runs each, and records the outcome
//! (done, retried with backoff, or dead-lettered). Webhooks wake it as soon as they queue
//! work; otherwise it looks for due jobs every second.

use crate::state::AppState;
use commlog_domain::records::Job;
use std::time::Duration;

/// How long a claimed job is this runner's before another may take it over.
const LEASE: time::Duration = time::Duration::minutes(5);
/// Jobs claimed at a time.
const BATCH: i64 = 16;
/// How often the runner looks for due jobs when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Why a job did not finish.
#[derive(Debug)]
pub enum JobError {
    /// Try again later (the provider is down, the call is not captured yet, …).
    Retry(String),
    /// Trying again cannot help (the payload is unusable, the URL not allowed, …).
    Permanent(String),
}

impl JobError {
    pub fn retry(e: impl std::fmt::Display) -> Self {
        Self::Retry(e.to_string())
    }
    pub fn permanent(e: impl std::fmt::Display) -> Self {
        Self::Permanent(e.to_string())
    }
}

impl From<commlog_store::StoreError> for JobError {
    fn from(e: commlog_store::StoreError) -> Self {
        match e {
            commlog_store::StoreError::Invalid(v) => Self::Permanent(v.to_string()),
            other => Self::Retry(other.to_string()),
        }
    }
}

/// Runs every job that is due now, until none is left; returns how many ran.
pub async fn run_due(app: &AppState) -> anyhow::Result<usize> {
    let mut ran = 0;
    loop {
        let jobs = app.store.claim_jobs(BATCH, LEASE).await?;
        if jobs.is_empty() {
            return Ok(ran);
        }
        for job in jobs {
            run_one(app, &job).await?;
            ran += 1;
        }
    }
}

async fn run_one(app: &AppState, job: &Job) -> anyhow::Result<()> {
    let outcome = match job.kind.as_str() {
        crate::capture::CAPTURE_JOB => crate::capture::process(app, job).await,
        other => Err(JobError::Permanent(format!(
            "no handler for jobs of kind {other}"
        ))),
    };
    match outcome {
        Ok(()) => app.store.finish_job(job.company_id, job.id).await?,
        Err(JobError::Retry(e)) => {
            let status = app
                .store
                .fail_job(job.company_id, job.id, &e, false)
                .await?;
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, ?status, "job failed: {e}");
        }
        Err(JobError::Permanent(e)) => {
            app.store.fail_job(job.company_id, job.id, &e, true).await?;
            tracing::warn!(job = %job.id, kind = %job.kind, "job dead-lettered: {e}");
        }
    }
    Ok(())
}

/// Runs jobs until the process ends: woken by new work, or every second for retries.
pub fn spawn(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_due(&app).await {
                tracing::warn!("job runner: {e:#}");
            }
            let _ = tokio::time::timeout(IDLE_POLL, app.jobs.notified()).await;
        }
    })
}
