//! Durable background jobs. A job is queued in the transaction of the change that needs it
//! (so it exists exactly when that change does), claimed with a lease by a runner, and either
//! finished, retried later with backoff, or — after its last attempt — left `dead` for an
//! administrator to inspect and retry. A runner that dies mid-job loses its lease, and the job
//! is claimed again: job handlers are idempotent.

use super::audit::{self, Tx};
use super::{Db, dialect, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::JobStatus;
use commlog_domain::records::Job;
use commlog_domain::{new_id, time_fmt};
use serde_json::{Value, json};
use sqlx::Row;
use time::Duration;
use uuid::Uuid;

/// How many times a job runs before it is dead-lettered.
pub(crate) const DEFAULT_MAX_ATTEMPTS: i32 = 8;

const JOB_COLUMNS: &str =
    "company_id, id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at, finished_at";

/// Queues a job inside the caller's transaction; `subject` names the log it works on.
pub(super) async fn enqueue(tx: &mut Tx, company_id: Uuid, kind: &str, subject: Option<Uuid>, payload: &Value) -> StoreResult<Uuid> {
    let id = new_id();
    let now = DbTime::from(time_fmt::now());
    sqlx::query(
        "INSERT INTO jobs (company_id, id, kind, payload, status, attempts, max_attempts, run_at, created_at, subject_id) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $7)",
    )
    .bind(company_id)
    .bind(id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now)
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

fn job(r: &super::rows::Row) -> StoreResult<Job> {
    let payload: String = rows::get(r, "payload")?;
    Ok(Job {
        company_id: rows::get(r, "company_id")?,
        id: rows::get(r, "id")?,
        kind: rows::get(r, "kind")?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        status: rows::parse(r, "status")?,
        attempts: rows::get(r, "attempts")?,
        max_attempts: rows::get(r, "max_attempts")?,
        run_at: rows::time(r, "run_at")?,
        last_error: rows::get(r, "last_error")?,
        created_at: rows::time(r, "created_at")?,
        finished_at: rows::opt_time(r, "finished_at")?,
    })
}

impl Engine<Db> {
    /// Queues a job on its own.
    pub(crate) async fn enqueue_job(&self, company_id: Uuid, kind: &str, payload: &Value) -> StoreResult<Uuid> {
        let mut tx = self.begin_write().await?;
        let id = enqueue(&mut tx, company_id, kind, None, payload).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` due jobs, of any company, for `lease`: queued jobs whose time has
    /// come, and running jobs whose runner's lease ran out. One statement picks and marks them
    /// (skipping rows another runner is claiming), so two runners never hold the same job.
    pub(crate) async fn claim_jobs(&self, limit: i64, lease: Duration) -> StoreResult<Vec<Job>> {
        let now = time_fmt::now();
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1 \
             WHERE (company_id, id) IN (SELECT company_id, id FROM jobs WHERE (status = 'queued' AND run_at <= $2) \
             OR (status = 'running' AND locked_until < $2) ORDER BY run_at LIMIT $3{}) RETURNING {JOB_COLUMNS}",
            dialect::SKIP_LOCKED
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(DbTime::from(now + lease))
            .bind(DbTime::from(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut jobs = rows.iter().map(job).collect::<StoreResult<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.created_at, j.id));
        Ok(jobs)
    }

    /// Marks a claimed job done.
    pub(crate) async fn finish_job(&self, company_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE jobs SET status = 'done', locked_until = NULL, last_error = NULL, finished_at = $1 WHERE company_id = $2 AND id = $3")
            .bind(DbTime::from(time_fmt::now()))
            .bind(company_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: the job runs again after an exponential backoff (2 s, 4 s, …
    /// capped at an hour), or is dead-lettered once its attempts are spent or `permanent`.
    pub(crate) async fn fail_job(&self, company_id: Uuid, id: Uuid, error: &str, permanent: bool) -> StoreResult<JobStatus> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("SELECT attempts, max_attempts FROM jobs WHERE company_id = $1 AND id = $2")
            .bind(company_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (attempts, max): (i32, i32) = (r.try_get("attempts")?, r.try_get("max_attempts")?);
        let now = time_fmt::now();
        let error: String = error.chars().take(2000).collect();
        let status = if permanent || attempts >= max {
            sqlx::query("UPDATE jobs SET status = 'dead', locked_until = NULL, last_error = $1, finished_at = $2 WHERE company_id = $3 AND id = $4")
                .bind(&error)
                .bind(DbTime::from(now))
                .bind(company_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            JobStatus::Dead
        } else {
            let delay = Duration::seconds((1i64 << attempts.clamp(1, 11)).min(3600));
            sqlx::query("UPDATE jobs SET status = 'queued', locked_until = NULL, last_error = $1, run_at = $2 WHERE company_id = $3 AND id = $4")
                .bind(&error)
                .bind(DbTime::from(now + delay))
                .bind(company_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            JobStatus::Queued
        };
        tx.commit().await?;
        Ok(status)
    }

    /// A company's jobs, newest first, optionally of one status.
    pub(crate) async fn list_jobs(&self, scope: &Scope, status: Option<JobStatus>, limit: i64) -> StoreResult<Vec<Job>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE company_id = "));
        qb.push_bind(scope.company_id());
        if let Some(s) = status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        qb.push(" ORDER BY created_at DESC LIMIT ").push_bind(limit);
        qb.build().fetch_all(&self.read).await?.iter().map(job).collect()
    }

    /// The jobs that worked on one log, newest first (the caller has checked it may see the log).
    pub(crate) async fn subject_jobs(&self, company_id: Uuid, subject: Uuid) -> StoreResult<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE company_id = $1 AND subject_id = $2 ORDER BY created_at DESC LIMIT 200");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company_id).bind(subject).fetch_all(&self.read).await?.iter().map(job).collect()
    }

    /// Puts a dead job back in the queue for a fresh round of attempts.
    pub(crate) async fn retry_job(&self, scope: &Scope, id: Uuid) -> StoreResult<Job> {
        let mut tx = self.begin_write().await?;
        let now = DbTime::from(time_fmt::now());
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, finished_at = NULL WHERE company_id = $2 AND id = $3 AND status = 'dead'",
        )
        .bind(now)
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict { constraint: "job_status".into(), message: "only a dead job can be retried".into() });
        }
        audit::record(&mut tx, scope, "retry", "job", Some(id), json!({})).await?;
        tx.commit().await?;
        job(&row)
    }
}
