//! Creating, reading, changing and deleting communication logs. Every change checks the
//! domain rules, then the database rules (`log_refs`), writes the row, its links, an audit
//! entry and outbox events in one transaction.

use super::audit::{self, Tx};
use super::log_links::{self, Conn};
use super::log_refs::{self, Resolved};
use super::{field_crypto, processing, processing_rules};
use super::{Db, dialect, rows};
use crate::store::CreatedLog;
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::log::CommunicationLog;
use commlog_domain::records::AuditEntry;
use commlog_domain::status::check_transition;
use commlog_domain::validation::{Derived, validate_log, validate_patched_log};
use commlog_domain::{
    Actor, CommunicationLogPatch, LogStatus, NewCommunicationLog, Permission, Priority, Visibility,
    new_id, time_fmt,
};
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

/// Fields whose values never enter the audit trail (only that they changed).
const CONTENT_FIELDS: &[&str] = &[
    "content",
    "summary",
    "transcription",
    "participants",
    "subject",
];

/// Appends the caller's sight over logs aliased `l` (SPEC §4): the company always; for reps and
/// team leads only what they own, watch, follow up, or what belongs to their team.
pub(super) fn push_visible(qb: &mut QueryBuilder<Db>, actor: &Actor) {
    qb.push("l.company_id = ").push_bind(actor.company_id);
    if let Visibility::OwnAndTeam { user_id, team_id } = actor.visibility() {
        qb.push(" AND (l.assigned_to_user_id = ").push_bind(user_id);
        qb.push(" OR l.created_by_user_id = ").push_bind(user_id);
        qb.push(" OR l.follow_up_assigned_to = ").push_bind(user_id);
        if let Some(team) = team_id {
            qb.push(" OR l.team_id = ").push_bind(team);
        }
        qb.push(" OR EXISTS (SELECT 1 FROM crm_communication_watchers w WHERE w.company_id = l.company_id AND w.communication_log_id = l.id AND w.user_id = ");
        qb.push_bind(user_id).push("))");
    }
}

/// Reads one live, visible log with its links through `conn`; `lock` takes a row lock.
pub(super) async fn fetch(
    conn: &mut Conn,
    scope: &Scope,
    id: Uuid,
    lock: bool,
) -> StoreResult<CommunicationLog> {
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {} FROM crm_communication_logs l WHERE ",
        rows::LOG_COLUMNS
    ));
    push_visible(&mut qb, &scope.actor);
    qb.push(" AND l.id = ")
        .push_bind(id)
        .push(" AND ")
        .push(dialect::LIVE);
    if lock {
        qb.push(dialect::FOR_UPDATE);
    }
    let row = qb
        .build()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut logs = vec![rows::log(&row)?];
    log_links::load(conn, scope.company_id(), &mut logs).await?;
    logs.pop().ok_or(StoreError::NotFound)
}

impl Engine<Db> {
    pub(crate) async fn get_log(&self, scope: &Scope, id: Uuid) -> StoreResult<CommunicationLog> {
        let mut conn = self.read.acquire().await?;
        fetch(&mut conn, scope, id, false).await
    }

    /// Records on a reply how long its answer took (a derived figure, not an edit).
    pub(crate) async fn set_response_seconds(&self, scope: &Scope, id: Uuid, seconds: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE crm_communication_logs SET response_seconds = $1 WHERE company_id = $2 AND id = $3")
            .bind(seconds)
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live log an item at a source became (a call, a message), if the caller can see it.
    pub(crate) async fn find_log_by_external(&self, scope: &Scope, source: &str, external_id: &str) -> StoreResult<Option<CommunicationLog>> {
        let mut conn = self.read.acquire().await?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM crm_communication_logs WHERE company_id = $1 AND source = $2 AND external_id = $3 AND NOT is_deleted",
        )
        .bind(scope.company_id())
        .bind(source)
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?;
        match id {
            Some(id) => match fetch(&mut conn, scope, id, false).await {
                Ok(log) => Ok(Some(log)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    pub(crate) async fn create_log(
        &self,
        scope: &Scope,
        mut new: NewCommunicationLog,
        idempotency: Option<(&str, &str)>,
    ) -> StoreResult<CreatedLog> {
        if let Some((key, hash)) = idempotency
            && let Some(replay) = self.replay(scope, key, hash).await?
        {
            return Ok(replay);
        }
        let derived = validate_log(&mut new)?;
        if new.status == Some(LogStatus::Escalated) && !scope.actor.can(Permission::EscalateLog) {
            return Err(StoreError::Forbidden(
                "only team leads, managers and admins may escalate".into(),
            ));
        }
        let source = new.source.clone().unwrap_or_else(|| "api".into());
        if let Some(ext) = &new.external_id
            && let Some(existing) = self.find_external(scope, &source, ext).await?
        {
            return Ok(existing);
        }
        let mut tx = self.begin_write().await?;
        let resolved = log_refs::resolve(&mut tx, scope, &mut new, None).await?;
        let log = build(scope, new_id(), &new, &derived, &resolved, source, None);
        if let Err(e) = insert_row(&mut tx, &log).await {
            drop(tx);
            return match (e, &new.external_id) {
                // A concurrent capture of the same item won: answer as its retry would be.
                (StoreError::Conflict { .. }, Some(ext)) => self
                    .find_external(scope, &log.source, ext)
                    .await?
                    .ok_or_else(external_conflict),
                (StoreError::Conflict { .. }, None) => Err(external_conflict()),
                (other, _) => Err(other),
            };
        }
        let company = scope.company_id();
        log_links::set_categories(&mut tx, company, log.id, false, &new.category_ids).await?;
        log_links::set_tags(&mut tx, company, log.id, false, &new.tags).await?;
        log_links::set_watchers(&mut tx, company, log.id, false, &new.watcher_ids).await?;
        let participants =
            log_links::set_participants(&mut tx, company, log.id, false, &new.participants).await?;
        let log = CommunicationLog {
            participants,
            ..log
        };
        audit::record(
            &mut tx,
            scope,
            "create",
            "communication_log",
            Some(log.id),
            json!({"source": log.source}),
        )
        .await?;
        audit::emit(
            &mut tx,
            company,
            "communication.created",
            log.id,
            event(&log, json!({})),
        )
        .await?;
        if let Some(user) = log.assigned_to_user_id {
            audit::emit(
                &mut tx,
                company,
                "communication.assigned",
                log.id,
                event(&log, json!({"assigned_to_user_id": user})),
            )
            .await?;
        }
        processing::enqueue(&mut tx, company, log.id, &[], "created").await?;
        if let Some((key, hash)) = idempotency {
            let saved = sqlx::query(
                "INSERT INTO idempotency_keys (company_id, user_id, idempotency_key, request_hash, status_code, response_body, created_at) \
                 VALUES ($1, $2, $3, $4, 201, $5, $6)",
            )
            .bind(company)
            .bind(scope.user_id())
            .bind(key)
            .bind(hash)
            .bind(log.id.to_string())
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut *tx)
            .await;
            if let Err(e) = saved {
                // A concurrent request with the same key won: answer with its result.
                drop(tx);
                return match StoreError::from(e) {
                    StoreError::Conflict { .. } => self
                        .replay(scope, key, hash)
                        .await?
                        .ok_or(StoreError::NotFound),
                    other => Err(other),
                };
            }
        }
        tx.commit().await?;
        Ok(CreatedLog {
            log,
            warnings: derived.warnings,
            replayed: false,
            duplicate: false,
        })
    }

    /// The result of an earlier create with the same idempotency key, if any.
    async fn replay(
        &self,
        scope: &Scope,
        key: &str,
        hash: &str,
    ) -> StoreResult<Option<CreatedLog>> {
        let row = sqlx::query("SELECT request_hash, response_body FROM idempotency_keys WHERE company_id = $1 AND user_id = $2 AND idempotency_key = $3")
            .bind(scope.company_id())
            .bind(scope.user_id())
            .bind(key)
            .fetch_optional(&self.write)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("request_hash")?;
        if stored != hash {
            return Err(StoreError::Refused {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different request body".into(),
            });
        }
        let body: String = row.try_get("response_body")?;
        let id = Uuid::parse_str(&body).map_err(|_| StoreError::corrupt("idempotency_keys"))?;
        let log = self.get_log(scope, id).await?;
        Ok(Some(CreatedLog {
            log,
            warnings: Vec::new(),
            replayed: true,
            duplicate: false,
        }))
    }

    /// An existing log with this source and external id: returned when visible, a conflict otherwise.
    async fn find_external(
        &self,
        scope: &Scope,
        source: &str,
        external_id: &str,
    ) -> StoreResult<Option<CreatedLog>> {
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM crm_communication_logs WHERE company_id = $1 AND source = $2 AND external_id = $3")
            .bind(scope.company_id())
            .bind(source)
            .bind(external_id)
            .fetch_optional(&self.write)
            .await?;
        let Some(id) = id else { return Ok(None) };
        match self.get_log(scope, id).await {
            Ok(log) => Ok(Some(CreatedLog {
                log,
                warnings: vec!["already captured: returning the existing log".into()],
                replayed: false,
                duplicate: true,
            })),
            Err(StoreError::NotFound) => Err(external_conflict()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn update_log(
        &self,
        scope: &Scope,
        id: Uuid,
        patch: CommunicationLogPatch,
    ) -> StoreResult<(CommunicationLog, Vec<String>)> {
        let mut tx = self.begin_write().await?;
        let before = fetch(&mut tx, scope, id, true).await?;
        let touches = (
            patch.category_ids.is_some(),
            patch.tags.is_some(),
            patch.watcher_ids.is_some(),
            patch.participants.is_some(),
        );
        let mut draft = NewCommunicationLog::from_existing(&before);
        draft.apply(patch);
        let derived = validate_patched_log(&mut draft)?;
        let status = draft.status.unwrap_or(before.status);
        if status != before.status {
            check_transition(before.status, status).map_err(|message| StoreError::Refused {
                code: "invalid_transition",
                message,
            })?;
            if status == LogStatus::Escalated && !scope.actor.can(Permission::EscalateLog) {
                return Err(StoreError::Forbidden(
                    "only team leads, managers and admins may escalate".into(),
                ));
            }
        }
        if draft.assigned_to_user_id != before.assigned_to_user_id
            && !scope.actor.can(Permission::AssignLog)
        {
            return Err(StoreError::Forbidden(
                "you may not assign communications".into(),
            ));
        }
        if draft.external_id != before.external_id
            || draft.source.as_deref() != Some(before.source.as_str())
        {
            return Err(StoreError::invalid(
                "external_id",
                "immutable",
                "source and external_id identify a captured item and cannot change",
            ));
        }
        let resolved = log_refs::resolve(&mut tx, scope, &mut draft, Some(&before)).await?;
        let mut after = build(
            scope,
            id,
            &draft,
            &derived,
            &resolved,
            before.source.clone(),
            Some(&before),
        );
        update_row(&mut tx, &after).await?;
        let company = scope.company_id();
        if touches.0 {
            log_links::set_categories(&mut tx, company, id, true, &draft.category_ids).await?;
        }
        if touches.1 {
            log_links::set_tags(&mut tx, company, id, true, &draft.tags).await?;
        }
        if touches.2 {
            log_links::set_watchers(&mut tx, company, id, true, &draft.watcher_ids).await?;
        }
        if touches.3 {
            after.participants =
                log_links::set_participants(&mut tx, company, id, true, &draft.participants)
                    .await?;
        }
        if touches.0 {
            let auto: Vec<Uuid> = before.categories.iter().filter(|c| c.confidence.is_some()).map(|c| c.id).collect();
            let mut chosen = draft.category_ids.clone();
            chosen.sort();
            chosen.dedup();
            let mut auto_sorted = auto.clone();
            auto_sorted.sort();
            // A person replaced what processing chose: keep it as an example to learn from.
            if !auto.is_empty() && chosen != auto_sorted && !chosen.is_empty() {
                let text = format!("{}\n{}", after.subject, after.content);
                processing_rules::record_correction(&mut tx, company, id, &text, &chosen).await?;
            }
        }
        // What the analysis reads changed: analyse again.
        if after.content != before.content || after.subject != before.subject || after.transcription != before.transcription {
            processing::enqueue(&mut tx, company, id, &[], "updated").await?;
        }
        let changes = diff(&before, &after);
        audit::record(
            &mut tx,
            scope,
            "update",
            "communication_log",
            Some(id),
            changes.clone(),
        )
        .await?;
        audit::emit(
            &mut tx,
            company,
            "communication.updated",
            id,
            event(&after, json!({"changes": changes})),
        )
        .await?;
        if after.status != before.status {
            let extra = json!({"from": before.status, "to": after.status});
            audit::emit(
                &mut tx,
                company,
                "communication.status_changed",
                id,
                event(&after, extra),
            )
            .await?;
        }
        if after.assigned_to_user_id != before.assigned_to_user_id {
            let extra =
                json!({"from": before.assigned_to_user_id, "to": after.assigned_to_user_id});
            audit::emit(
                &mut tx,
                company,
                "communication.assigned",
                id,
                event(&after, extra),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((after, derived.warnings))
    }

    pub(crate) async fn delete_log(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let log = fetch(&mut tx, scope, id, true).await?;
        if log.requires_follow_up && log.follow_up_status.is_some_and(|s| s.is_active()) {
            return Err(StoreError::Refused {
                code: "active_follow_up",
                message: "the log has an active follow-up; complete or cancel it first".into(),
            });
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM crm_communication_attachments WHERE company_id = $1 AND communication_log_id = $2 AND status = 'pending' AND NOT is_deleted",
        )
        .bind(scope.company_id())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if pending > 0 {
            return Err(StoreError::Refused {
                code: "pending_attachment",
                message: format!(
                    "{pending} attachment(s) are still being stored; try again when they are done"
                ),
            });
        }
        let now = DbTime::from(time_fmt::now());
        sqlx::query("UPDATE crm_communication_logs SET is_deleted = TRUE, deleted_at = $1, updated_at = $1, updated_by_user_id = $2 WHERE company_id = $3 AND id = $4")
            .bind(now)
            .bind(scope.user_id())
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Attachments go with their log; their files stay (blueprint §5.3).
        let files = sqlx::query("UPDATE crm_communication_attachments SET is_deleted = TRUE, deleted_at = $1 WHERE company_id = $2 AND communication_log_id = $3 AND NOT is_deleted")
            .bind(now)
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "delete",
            "communication_log",
            Some(id),
            json!({"attachments_deleted": files.rows_affected()}),
        )
        .await?;
        audit::emit(
            &mut tx,
            scope.company_id(),
            "communication.deleted",
            id,
            event(&log, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn log_history(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.get_log(scope, id).await?;
        self.entity_audit(scope, "communication_log", id).await
    }

    pub(crate) async fn add_watcher(
        &self,
        scope: &Scope,
        log_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        fetch(&mut tx, scope, log_id, true).await?;
        let user: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE company_id = $1 AND id = $2 AND is_active",
        )
        .bind(scope.company_id())
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if user.is_none() {
            return Err(StoreError::invalid(
                "user_id",
                "unknown_user",
                "no such active user in this company",
            ));
        }
        sqlx::query(
            "INSERT INTO crm_communication_watchers (company_id, communication_log_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (company_id, communication_log_id, user_id) DO NOTHING",
        )
        .bind(scope.company_id())
        .bind(log_id)
        .bind(user_id)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            scope,
            "watch",
            "communication_log",
            Some(log_id),
            json!({"user_id": user_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn remove_watcher(
        &self,
        scope: &Scope,
        log_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        fetch(&mut tx, scope, log_id, true).await?;
        let gone = sqlx::query("DELETE FROM crm_communication_watchers WHERE company_id = $1 AND communication_log_id = $2 AND user_id = $3")
            .bind(scope.company_id())
            .bind(log_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            scope,
            "unwatch",
            "communication_log",
            Some(log_id),
            json!({"user_id": user_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Another log, one the caller may not see, already has this source and external id.
fn external_conflict() -> StoreError {
    StoreError::Conflict {
        constraint: "external_id".into(),
        message: "a log with this source and external_id already exists".into(),
    }
}

/// The stored record a valid draft becomes.
fn build(
    scope: &Scope,
    id: Uuid,
    d: &NewCommunicationLog,
    derived: &Derived,
    r: &Resolved,
    source: String,
    before: Option<&CommunicationLog>,
) -> CommunicationLog {
    let now = time_fmt::now();
    CommunicationLog {
        id,
        company_id: scope.company_id(),
        customer_id: d.customer_id,
        contact_id: d.contact_id,
        assigned_to_user_id: d.assigned_to_user_id,
        created_by_user_id: before.map_or(scope.user_id(), |b| b.created_by_user_id),
        updated_by_user_id: before.map(|_| scope.user_id()),
        team_id: r.team_id,
        communication_type: d.communication_type,
        channel: d.channel.clone(),
        direction: d.direction,
        subject: d.subject.clone().unwrap_or_default(),
        start_time: time_fmt::normalize(d.start_time),
        end_time: d.end_time.map(time_fmt::normalize),
        duration_minutes: derived.duration_minutes,
        duration_seconds: derived.duration_seconds,
        call_outcome: d.call_outcome,
        // Derived by e-mail capture, never edited: kept across updates.
        response_seconds: before.and_then(|b| b.response_seconds),
        // Recorded through its own endpoint: kept across updates.
        satisfaction_score: before.and_then(|b| b.satisfaction_score),
        content: d.content.clone(),
        summary: d.summary.clone(),
        transcription: d.transcription.clone(),
        priority: d
            .priority
            .or(r.category_priority)
            .unwrap_or(Priority::Normal),
        status: d.status.unwrap_or(LogStatus::Logged),
        is_internal: d.is_internal,
        sentiment: d.sentiment,
        sentiment_score: d.sentiment_score,
        key_topics: d.key_topics.clone(),
        requires_follow_up: d.requires_follow_up,
        follow_up_assigned_to: d.follow_up_assigned_to,
        follow_up_date: d.follow_up_date.map(time_fmt::normalize),
        follow_up_status: d.follow_up_status,
        source,
        external_id: d.external_id.clone(),
        thread_id: d.thread_id,
        categories: r.categories.clone(),
        tags: d.tags.clone(),
        watchers: d.watcher_ids.clone(),
        participants: before.map(|b| b.participants.clone()).unwrap_or_default(),
        // Written by automatic processing only: kept across updates.
        language: before.and_then(|b| b.language.clone()),
        analysis: before.map_or_else(|| json!({}), |b| b.analysis.clone()),
        created_at: before.map_or(now, |b| b.created_at),
        updated_at: now,
        is_deleted: false,
    }
}

/// The columns a create and an update both write, in the order [`bind_editable`] binds them.
const EDITABLE_COLUMNS: [&str; 29] = [
    "customer_id", "contact_id", "assigned_to_user_id", "updated_by_user_id", "team_id", "communication_type", "channel",
    "direction", "subject", "start_time", "end_time", "duration_minutes", "duration_seconds", "content", "summary",
    "transcription", "priority", "status", "is_internal", "sentiment", "sentiment_score", "key_topics",
    "requires_follow_up", "follow_up_assigned_to", "follow_up_date", "follow_up_status", "thread_id", "call_outcome", "updated_at",
];

type LogQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

fn bind_editable<'q>(q: LogQuery<'q>, l: &CommunicationLog) -> LogQuery<'q> {
    q.bind(l.customer_id)
        .bind(l.contact_id)
        .bind(l.assigned_to_user_id)
        .bind(l.updated_by_user_id)
        .bind(l.team_id)
        .bind(l.communication_type.as_str())
        .bind(&l.channel)
        .bind(l.direction.as_str())
        .bind(&l.subject)
        .bind(DbTime::from(l.start_time))
        .bind(DbTime::opt(l.end_time))
        .bind(l.duration_minutes)
        .bind(l.duration_seconds)
        .bind(&l.content)
        .bind(&l.summary)
        .bind(&l.transcription)
        .bind(l.priority.as_str())
        .bind(l.status.as_str())
        .bind(l.is_internal)
        .bind(l.sentiment.map(|s| s.as_str()))
        .bind(l.sentiment_score)
        .bind(Json(&l.key_topics))
        .bind(l.requires_follow_up)
        .bind(l.follow_up_assigned_to)
        .bind(DbTime::opt(l.follow_up_date))
        .bind(l.follow_up_status.map(|s| s.as_str()))
        .bind(l.thread_id)
        .bind(l.call_outcome.map(|o| o.as_str()))
        .bind(DbTime::from(l.updated_at))
}

async fn insert_row(tx: &mut Tx, l: &CommunicationLog) -> StoreResult<()> {
    field_crypto::index_log(tx, l.company_id, l.id, &[&l.subject, &l.content]).await?;
    let l = &field_crypto::sealed_log(tx, l.company_id, l).await?;
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let n = EDITABLE_COLUMNS.len();
        let placeholders: Vec<String> = (1..=n + 6).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO crm_communication_logs ({}, company_id, id, created_by_user_id, source, external_id, created_at, is_deleted) \
             VALUES ({}, FALSE)",
            EDITABLE_COLUMNS.join(", "),
            placeholders.join(", ")
        )
    });
    bind_editable(sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())), l)
        .bind(l.company_id)
        .bind(l.id)
        .bind(l.created_by_user_id)
        .bind(&l.source)
        .bind(&l.external_id)
        .bind(DbTime::from(l.created_at))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn update_row(tx: &mut Tx, l: &CommunicationLog) -> StoreResult<()> {
    field_crypto::index_log(tx, l.company_id, l.id, &[&l.subject, &l.content]).await?;
    let l = &field_crypto::sealed_log(tx, l.company_id, l).await?;
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let n = EDITABLE_COLUMNS.len();
        let sets: Vec<String> = EDITABLE_COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        format!("UPDATE crm_communication_logs SET {} WHERE company_id = ${} AND id = ${}", sets.join(", "), n + 1, n + 2)
    });
    bind_editable(sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())), l)
        .bind(l.company_id)
        .bind(l.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `{field: {"old", "new"}}` for every changed field; content fields say only `changed`.
fn diff(before: &CommunicationLog, after: &CommunicationLog) -> Value {
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return json!({});
    };
    let mut out = serde_json::Map::new();
    for (k, new) in &a {
        if k == "updated_at" || k == "updated_by_user_id" {
            continue;
        }
        let old = b.get(k).unwrap_or(&Value::Null);
        if old != new {
            let entry = if CONTENT_FIELDS.contains(&k.as_str()) {
                json!({"changed": true})
            } else {
                json!({"old": old, "new": new})
            };
            out.insert(k.clone(), entry);
        }
    }
    Value::Object(out)
}

/// The outbox payload: enough to route the event to the users allowed to see the log.
pub(super) fn event(l: &CommunicationLog, extra: Value) -> Value {
    json!({
        "id": l.id, "company_id": l.company_id, "communication_type": l.communication_type, "channel": l.channel,
        "direction": l.direction, "status": l.status, "priority": l.priority, "assigned_to_user_id": l.assigned_to_user_id,
        "created_by_user_id": l.created_by_user_id, "team_id": l.team_id, "customer_id": l.customer_id,
        "follow_up_assigned_to": l.follow_up_assigned_to, "watchers": l.watchers, "detail": extra,
    })
}
