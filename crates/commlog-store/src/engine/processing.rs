//! Automatic processing, store side: queuing a log's processing in the transaction that
//! creates or changes it, writing what a processing job found back to the log (with its audit
//! entry, outbox events and one run record per step) in one transaction, and the company's
//! processing settings.

use super::audit::{self, Tx};
use super::{Db, field_crypto, jobs, logs, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::log::CommunicationLog;
use commlog_domain::processing::{LogAnalysis, PROCESS_LOG_JOB, ProcessingRun, ProcessingSettings};
use commlog_domain::status::check_transition;
use commlog_domain::{FollowUpStatus, LogStatus, new_id, time_fmt};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::types::Json;
use uuid::Uuid;

/// Queues the processing of a log inside the transaction that created or changed it, so the
/// job exists exactly when the change does. `steps` empty means every step.
pub(super) async fn enqueue(tx: &mut Tx, company_id: Uuid, log_id: Uuid, steps: &[String], reason: &str) -> StoreResult<Uuid> {
    let payload = json!({"log_id": log_id, "steps": steps, "reason": reason, "serial": format!("log:{log_id}")});
    jobs::enqueue(tx, company_id, PROCESS_LOG_JOB, Some(log_id), &payload).await
}


fn run(r: &super::rows::Row) -> StoreResult<ProcessingRun> {
    Ok(ProcessingRun {
        id: rows::get(r, "id")?,
        communication_log_id: rows::get(r, "communication_log_id")?,
        job_id: rows::get(r, "job_id")?,
        step: rows::get(r, "step")?,
        engine: rows::get(r, "engine")?,
        engine_version: rows::get(r, "engine_version")?,
        status: rows::get(r, "status")?,
        detail: rows::get::<Json<Value>>(r, "detail")?.0,
        started_at: rows::time(r, "started_at")?,
        finished_at: rows::time(r, "finished_at")?,
    })
}

impl Engine<Db> {
    /// Queues processing for logs the caller can see; returns the ids it queued.
    pub(crate) async fn reprocess_logs(&self, scope: &Scope, ids: &[Uuid], steps: &[String]) -> StoreResult<Vec<Uuid>> {
        let mut queued = Vec::new();
        for id in ids {
            // Visibility first: another company's or another team's log is "not found".
            self.get_log(scope, *id).await?;
            let mut tx = self.begin_write().await?;
            enqueue(&mut tx, scope.company_id(), *id, steps, "reprocess").await?;
            audit::record(&mut tx, scope, "reprocess", "communication_log", Some(*id), json!({"steps": steps})).await?;
            tx.commit().await?;
            queued.push(*id);
        }
        Ok(queued)
    }

    /// Ids of a company's live logs that started in `[from, to)`, oldest first (for bulk
    /// re-processing after a model upgrade).
    pub(crate) async fn log_ids_between(&self, company_id: Uuid, from: time::OffsetDateTime, to: time::OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM crm_communication_logs WHERE company_id = $1 AND start_time >= $2 AND start_time < $3 AND NOT is_deleted ORDER BY start_time, id",
        )
        .bind(company_id)
        .bind(DbTime::from(from))
        .bind(DbTime::from(to))
        .fetch_all(&self.read)
        .await?)
    }

    /// The key topics of the live logs the caller can see that started in `[from, to)`, one
    /// list per log (at most `max_logs`, newest first), for the company's topics of a period.
    pub(crate) async fn key_topics_between(&self, scope: &Scope, from: time::OffsetDateTime, to: time::OffsetDateTime, max_logs: i64) -> StoreResult<Vec<Vec<String>>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new("SELECT l.id, l.key_topics FROM crm_communication_logs l WHERE ");
        logs::push_visible(&mut qb, &scope.actor);
        qb.push(" AND NOT l.is_deleted AND l.start_time >= ").push_bind(DbTime::from(from));
        qb.push(" AND l.start_time < ").push_bind(DbTime::from(to));
        qb.push(" ORDER BY l.start_time DESC LIMIT ").push_bind(max_logs);
        let mut conn = self.read.acquire().await?;
        let rows = qb.build().fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let topics = rows::get::<Json<Vec<String>>>(r, "key_topics")?.0;
            out.push(match topics.as_slice() {
                [only] if crate::encryption::sealed_key_id(only).is_some() => {
                    let id: Uuid = rows::get(r, "id")?;
                    let text = field_crypto::open_company_text(&mut conn, scope.company_id(), only, &format!("key_topics:{id}")).await?;
                    serde_json::from_str(&text).map_err(|_| StoreError::corrupt("key_topics"))?
                }
                _ => topics,
            });
        }
        Ok(out)
    }

    /// The steps that ran on a log the caller can see, newest first.
    pub(crate) async fn processing_runs(&self, scope: &Scope, log_id: Uuid) -> StoreResult<Vec<ProcessingRun>> {
        self.get_log(scope, log_id).await?;
        sqlx::query(
            "SELECT id, communication_log_id, job_id, step, engine, engine_version, status, detail, started_at, finished_at \
             FROM log_processing_runs WHERE company_id = $1 AND communication_log_id = $2 ORDER BY finished_at DESC, id DESC LIMIT 500",
        )
        .bind(scope.company_id())
        .bind(log_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(run)
        .collect()
    }

    /// Writes what processing found back to a log, as the system (no acting user): the
    /// fields, the automatic categories, a promised follow-up, an escalation, one run record
    /// per step, an audit entry naming the changed fields, and the events — all or nothing.
    /// A log deleted meanwhile is left alone.
    pub(crate) async fn apply_analysis(&self, company_id: Uuid, log_id: Uuid, job_id: Option<Uuid>, a: &LogAnalysis) -> StoreResult<()> {
        let system = Scope::admin(company_id, Uuid::nil());
        let mut tx = self.begin_write().await?;
        let log = match logs::fetch(&mut tx, &system, log_id, true).await {
            Ok(log) => log,
            // Deleted meanwhile: nothing to write back.
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut changed: Vec<&str> = Vec::new();
        // With encryption on, what processing found about the log is sealed like its content.
        let key = field_crypto::log_key(&mut tx, company_id, log.contact_id, log.customer_id).await?;
        let mut sealed = CommunicationLog { transcription: a.transcription.clone(), key_topics: a.key_topics.clone().unwrap_or_default(), analysis: json!({}), content: String::new(), subject: String::new(), summary: None, ..log.clone() };
        if !a.analysis.is_empty() {
            let mut merged = log.analysis.as_object().cloned().unwrap_or_default();
            merged.extend(a.analysis.clone());
            sealed.analysis = Value::Object(merged);
        }
        if let Some(k) = &key {
            field_crypto::seal_fields(k, &mut sealed);
        }
        let mut qb = sqlx::QueryBuilder::<Db>::new("UPDATE crm_communication_logs SET updated_at = ");
        qb.push_bind(DbTime::from(time_fmt::now()));
        if a.transcription.is_some() {
            qb.push(", transcription = ").push_bind(sealed.transcription.clone());
            changed.push("transcription");
        }
        if let Some(lang) = &a.language {
            qb.push(", language = ").push_bind(lang.clone());
            changed.push("language");
        }
        if let Some((label, score)) = a.sentiment {
            qb.push(", sentiment = ").push_bind(label.as_str()).push(", sentiment_score = ").push_bind(score);
            changed.push("sentiment");
        }
        if a.key_topics.is_some() {
            qb.push(", key_topics = ").push_bind(Json(sealed.key_topics.clone()));
            changed.push("key_topics");
        }
        if !a.analysis.is_empty() {
            qb.push(", analysis = ").push_bind(Json(sealed.analysis.clone()));
            changed.push("analysis");
        }
        let mut priority = log.priority;
        // Automatic categories only while no person has chosen the log's categories.
        let auto_only = log_has_only_auto_categories(&mut tx, company_id, log_id).await?;
        if auto_only && !a.categories.is_empty() {
            sqlx::query("DELETE FROM crm_communication_log_categories WHERE company_id = $1 AND communication_log_id = $2")
                .bind(company_id)
                .bind(log_id)
                .execute(&mut *tx)
                .await?;
            for (category, confidence) in &a.categories {
                sqlx::query(
                    "INSERT INTO crm_communication_log_categories (company_id, communication_log_id, category_id, confidence, assigned_by) VALUES ($1, $2, $3, $4, 'auto')",
                )
                .bind(company_id)
                .bind(log_id)
                .bind(category)
                .bind(confidence)
                .execute(&mut *tx)
                .await?;
            }
            changed.push("categories");
            if let Some(p) = a.category_priority {
                priority = priority.max(p);
            }
        }
        let follow_up = a.follow_up.filter(|_| !log.requires_follow_up);
        if let Some(due) = follow_up {
            qb.push(", requires_follow_up = ").push_bind(true);
            qb.push(", follow_up_date = ").push_bind(DbTime::from(time_fmt::normalize(due)));
            qb.push(", follow_up_status = ").push_bind(FollowUpStatus::Pending.as_str());
            qb.push(", follow_up_assigned_to = ").push_bind(log.assigned_to_user_id.unwrap_or(log.created_by_user_id));
            changed.push("follow_up");
        }
        let mut status = log.status;
        if let Some(e) = &a.escalation {
            priority = priority.max(e.priority);
            if log.status != LogStatus::Escalated && check_transition(log.status, LogStatus::Escalated).is_ok() {
                status = LogStatus::Escalated;
                qb.push(", status = ").push_bind(status.as_str());
                changed.push("status");
            }
        }
        if priority != log.priority {
            qb.push(", priority = ").push_bind(priority.as_str());
            changed.push("priority");
        }
        qb.push(" WHERE company_id = ").push_bind(company_id).push(" AND id = ").push_bind(log_id);
        qb.build().execute(&mut *tx).await?;
        for r in &a.runs {
            sqlx::query(
                "INSERT INTO log_processing_runs (company_id, id, communication_log_id, job_id, step, engine, engine_version, status, detail, started_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(company_id)
            .bind(new_id())
            .bind(log_id)
            .bind(job_id)
            .bind(r.step)
            .bind(&r.engine)
            .bind(&r.engine_version)
            .bind(r.status)
            .bind(Json(&r.detail))
            .bind(DbTime::from(r.started_at))
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut *tx)
            .await?;
        }
        let steps: Vec<&str> = a.runs.iter().map(|r| r.step).collect();
        audit::record(&mut tx, &system, "process", "communication_log", Some(log_id), json!({"changed": changed, "steps": steps})).await?;
        let after = CommunicationLog { status, priority, ..log.clone() };
        let base = |extra: Value| logs::event(&after, extra);
        if a.transcription.is_some() {
            audit::emit(&mut tx, company_id, "communication.transcription_completed", log_id, base(json!({}))).await?;
        }
        if !changed.is_empty() {
            audit::emit(&mut tx, company_id, "communication.analysed", log_id, base(json!({"changed": changed}))).await?;
        }
        if let Some(due) = follow_up {
            audit::emit(&mut tx, company_id, "communication.follow_up_set", log_id, base(json!({"follow_up_date": time_fmt::normalize(due).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()}))).await?;
        }
        if let Some(e) = a.escalation.as_ref().filter(|_| status != log.status) {
            let leads = team_leads(&mut tx, company_id, log.team_id).await?;
            let extra = json!({"from": log.status, "to": status, "rule": e.rule, "reason": e.reason, "notify_user_ids": leads});
            audit::emit(&mut tx, company_id, "communication.status_changed", log_id, base(extra.clone())).await?;
            audit::emit(&mut tx, company_id, "communication.escalated", log_id, base(extra)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A company's processing settings (the defaults until an administrator saves some) and
    /// the sealed key of its external transcription engine.
    pub(crate) async fn processing_settings(&self, company_id: Uuid) -> StoreResult<(ProcessingSettings, Option<String>)> {
        let row = sqlx::query("SELECT settings, sealed_transcription_key FROM company_processing_settings WHERE company_id = $1")
            .bind(company_id)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok((ProcessingSettings::default(), None)) };
        let settings: Json<Value> = row.try_get("settings")?;
        let settings = serde_json::from_value(settings.0).map_err(|_| StoreError::corrupt("company_processing_settings"))?;
        Ok((settings, row.try_get("sealed_transcription_key")?))
    }

    /// Saves a company's processing settings; `sealed_key`: `None` keeps the stored key,
    /// `Some(None)` removes it.
    pub(crate) async fn set_processing_settings(&self, scope: &Scope, settings: &ProcessingSettings, sealed_key: Option<Option<String>>) -> StoreResult<ProcessingSettings> {
        let mut tx = self.begin_write().await?;
        let now = DbTime::from(time_fmt::now());
        // `$5`: whether this call replaces the stored key (with `$3`, possibly NULL).
        sqlx::query(
            "INSERT INTO company_processing_settings (company_id, settings, sealed_transcription_key, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (company_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, \
             sealed_transcription_key = CASE WHEN $5 THEN excluded.sealed_transcription_key ELSE company_processing_settings.sealed_transcription_key END",
        )
        .bind(scope.company_id())
        .bind(Json(settings))
        .bind(sealed_key.clone().flatten())
        .bind(now)
        .bind(sealed_key.is_some())
        .execute(&mut *tx)
        .await?;
        let mut changes = serde_json::to_value(settings).unwrap_or(Value::Null);
        if let Some(obj) = changes.as_object_mut() {
            obj.insert("transcription_api_key".into(), json!(sealed_key.map(|k| if k.is_some() { "set" } else { "removed" })));
        }
        audit::record(&mut tx, scope, "update", "processing_settings", None, changes).await?;
        tx.commit().await?;
        Ok(settings.clone())
    }
}

/// True when every category on the log was set by processing (or there is none).
async fn log_has_only_auto_categories(tx: &mut Tx, company_id: Uuid, log_id: Uuid) -> StoreResult<bool> {
    let manual: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crm_communication_log_categories WHERE company_id = $1 AND communication_log_id = $2 AND assigned_by <> 'auto'",
    )
    .bind(company_id)
    .bind(log_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(manual == 0)
}

/// The active team leads of a team, who are told of its escalations.
async fn team_leads(tx: &mut Tx, company_id: Uuid, team_id: Option<Uuid>) -> StoreResult<Vec<Uuid>> {
    let Some(team) = team_id else { return Ok(Vec::new()) };
    Ok(sqlx::query_scalar("SELECT id FROM users WHERE company_id = $1 AND team_id = $2 AND role = 'team_lead' AND is_active ORDER BY id")
        .bind(company_id)
        .bind(team)
        .fetch_all(&mut **tx)
        .await?)
}
