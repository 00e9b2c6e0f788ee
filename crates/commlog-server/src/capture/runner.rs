//! The job runner: claims due jobs of every company, runs each, and records the outcome
//! (done, retried with backoff, or dead-lettered). Webhooks wake it as soon as they queue
//! work; otherwise it looks for due jobs every second.

use crate::state::AppState;
use commlog_domain::records::Job;
use commlog_store::Scope;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// How long a claimed job is this runner's before another may take it over.
const LEASE: time::Duration = time::Duration::minutes(5);
/// Jobs claimed at a time.
const BATCH: i64 = 64;
/// Jobs (of different subjects) run at once.
const PARALLEL: usize = 8;
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

/// Runs every job that is due now, until none is left; returns how many ran. Jobs run
/// concurrently, except those of one subject (a call, a message: the payload's `serial`), which
/// run one after another in the order they were queued.
pub async fn run_due(app: &AppState) -> anyhow::Result<usize> {
    let scopes = Scopes::default();
    let mut ran = 0;
    loop {
        let jobs = app.store.claim_jobs(BATCH, LEASE).await?;
        if jobs.is_empty() {
            return Ok(ran);
        }
        ran += jobs.len();
        let mut groups: Vec<Vec<Job>> = Vec::new();
        let mut by_serial: HashMap<String, usize> = HashMap::new();
        for job in jobs {
            // A job without a subject is a group of its own.
            let serial = job
                .payload
                .get("serial")
                .and_then(|v| v.as_str())
                .map_or_else(|| job.id.to_string(), str::to_owned);
            match by_serial.get(&serial) {
                Some(&i) => groups[i].push(job),
                None => {
                    by_serial.insert(serial, groups.len());
                    groups.push(vec![job]);
                }
            }
        }
        let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(groups)
            .map(|group| {
                let scopes = &scopes;
                async move {
                    for job in &group {
                        run_one(app, job, scopes).await?;
                    }
                    Ok(())
                }
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        results.into_iter().collect::<anyhow::Result<()>>()?;
    }
}

/// Who jobs act as in each company (its first active admin), looked up once per run.
#[derive(Default)]
pub struct Scopes(Mutex<HashMap<Uuid, Scope>>);

impl Scopes {
    pub async fn of(&self, app: &AppState, company: Uuid) -> Result<Scope, JobError> {
        if let Some(s) = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&company)
        {
            return Ok(s.clone());
        }
        let scope = crate::import::acting_scope(&app.store, company, None)
            .await
            .map_err(JobError::retry)?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(company, scope.clone());
        Ok(scope)
    }
}

async fn run_one(app: &AppState, job: &Job, scopes: &Scopes) -> anyhow::Result<()> {
    let outcome = match job.kind.as_str() {
        crate::capture::CAPTURE_JOB => crate::capture::process(app, job, scopes).await,
        commlog_domain::processing::PROCESS_LOG_JOB => {
            crate::processing::process(app, job, scopes).await
        }
        commlog_domain::compliance::ERASURE_JOB => crate::compliance::erase(app, job, scopes).await,
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

/// Runs jobs until the process ends: woken by new work, or every second for retries; marks
/// overdue follow-ups every minute, and applies retention policies every hour.
pub fn spawn(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_sweep: Option<std::time::Instant> = None;
        let mut last_retention: Option<std::time::Instant> = None;
        loop {
            if let Err(e) = run_due(&app).await {
                tracing::warn!("job runner: {e:#}");
            }
            if last_sweep.is_none_or(|t| t.elapsed() >= crate::processing::SWEEP_EVERY) {
                last_sweep = Some(std::time::Instant::now());
                match crate::processing::sweep_follow_ups(&app).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(marked = n, "follow-ups overdue"),
                    Err(e) => tracing::warn!("follow-up sweep: {e:#}"),
                }
            }
            if last_retention.is_none_or(|t| t.elapsed() >= crate::compliance::RETENTION_EVERY) {
                last_retention = Some(std::time::Instant::now());
                match crate::compliance::sweep_retention(&app).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(logs = n, "retention applied"),
                    Err(e) => tracing::warn!("retention sweep: {e:#}"),
                }
            }
            let _ = tokio::time::timeout(IDLE_POLL, app.jobs.notified()).await;
        }
    })
}
