//! Retention: the company's policies, and the run that archives and purges logs by them. A dry
//! run walks the same logs with the same rules and writes nothing, so what it reports is what
//! the real run does. Logs a legal hold covers are reported and left alone.

use super::audit::{self, Tx};
use super::legal_holds::HELD;
use super::purge::{self, Purged};
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::compliance::{RetentionAction, RetentionCandidate, RetentionPolicy, RetentionPolicyInput, RetentionReport, retention_action};
use commlog_domain::{CommunicationType, new_id};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, name, category_id, channel, communication_type, archive_after_days, delete_after_days, keep_tombstone, is_active, created_at, updated_at";
/// Logs looked at per transaction.
const BATCH: i64 = 500;

fn policy(r: &rows::Row) -> StoreResult<RetentionPolicy> {
    Ok(RetentionPolicy {
        id: rows::get(r, "id")?,
        policy: RetentionPolicyInput {
            name: rows::get(r, "name")?,
            category_id: rows::get(r, "category_id")?,
            channel: rows::get(r, "channel")?,
            communication_type: rows::opt_parse::<CommunicationType>(r, "communication_type")?,
            archive_after_days: rows::get(r, "archive_after_days")?,
            delete_after_days: rows::get(r, "delete_after_days")?,
            keep_tombstone: rows::get(r, "keep_tombstone")?,
            is_active: rows::get(r, "is_active")?,
        },
        created_at: rows::time(r, "created_at")?,
        updated_at: rows::time(r, "updated_at")?,
    })
}

/// The candidates of one batch: logs not yet purged that started before `cutoff`, after `after`
/// in id order, with their categories and whether a hold covers them.
async fn candidates(tx: &mut Tx, company_id: Uuid, cutoff: DbTime, after: Option<Uuid>) -> StoreResult<Vec<RetentionCandidate>> {
    let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
        "SELECT l.id, l.channel, l.communication_type, l.start_time, l.archived_at, CASE WHEN {HELD} THEN 1 ELSE 0 END AS held \
         FROM crm_communication_logs l WHERE l.company_id = "
    ));
    qb.push_bind(company_id).push(" AND l.purged_at IS NULL AND l.start_time < ").push_bind(cutoff);
    if let Some(a) = after {
        qb.push(" AND l.id > ").push_bind(a);
    }
    qb.push(" ORDER BY l.id LIMIT ").push_bind(BATCH);
    let found = qb.build().fetch_all(&mut **tx).await?;
    let mut logs = Vec::with_capacity(found.len());
    for r in &found {
        logs.push(RetentionCandidate {
            id: rows::get(r, "id")?,
            channel: rows::get(r, "channel")?,
            communication_type: rows::get(r, "communication_type")?,
            categories: Vec::new(),
            start_time: rows::time(r, "start_time")?,
            archived: rows::opt_time(r, "archived_at")?.is_some(),
            held: r.try_get::<i32, _>("held")? == 1,
        });
    }
    if !logs.is_empty() {
        let ids: Vec<Uuid> = logs.iter().map(|l| l.id).collect();
        let mut qb = sqlx::QueryBuilder::<Db>::new("SELECT communication_log_id, category_id FROM crm_communication_log_categories WHERE company_id = ");
        qb.push_bind(company_id).push(" AND ");
        purge::push_ids(&mut qb, "communication_log_id", &ids);
        let mut by_log: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for r in qb.build().fetch_all(&mut **tx).await? {
            by_log.entry(rows::get(&r, "communication_log_id")?).or_default().push(rows::get(&r, "category_id")?);
        }
        for l in &mut logs {
            l.categories = by_log.remove(&l.id).unwrap_or_default();
        }
    }
    Ok(logs)
}

impl Engine<Db> {
    pub(crate) async fn list_retention_policies(&self, scope: &Scope) -> StoreResult<Vec<RetentionPolicy>> {
        let sql = format!("SELECT {COLUMNS} FROM retention_policies WHERE company_id = $1 ORDER BY name");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).fetch_all(&self.read).await?.iter().map(policy).collect()
    }

    /// Creates a policy (`id` None) or replaces one.
    pub(crate) async fn save_retention_policy(&self, scope: &Scope, id: Option<Uuid>, input: &RetentionPolicyInput) -> StoreResult<RetentionPolicy> {
        let mut input = input.clone();
        input.validate()?;
        let now = DbTime::from(commlog_domain::time_fmt::now());
        let mut tx = self.begin_write().await?;
        if let Some(c) = input.category_id {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM crm_communication_categories WHERE company_id = $1 AND id = $2")
                .bind(scope.company_id())
                .bind(c)
                .fetch_one(&mut *tx)
                .await?;
            if n == 0 {
                return Err(StoreError::invalid("category_id", "not_found", "no category of the company has this id"));
            }
        }
        if let Some(code) = &input.channel {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM crm_channel_configurations WHERE company_id = $1 AND channel_code = $2")
                .bind(scope.company_id())
                .bind(code)
                .fetch_one(&mut *tx)
                .await?;
            if n == 0 {
                return Err(StoreError::invalid("channel", "not_found", "no channel of the company has this code"));
            }
        }
        let policy_id = id.unwrap_or_else(new_id);
        let q = match id {
            None => sqlx::query(
                "INSERT INTO retention_policies (name, category_id, channel, communication_type, archive_after_days, delete_after_days, keep_tombstone, is_active, updated_at, company_id, id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9)",
            ),
            Some(_) => sqlx::query(
                "UPDATE retention_policies SET name = $1, category_id = $2, channel = $3, communication_type = $4, archive_after_days = $5, delete_after_days = $6, \
                 keep_tombstone = $7, is_active = $8, updated_at = $9 WHERE company_id = $10 AND id = $11",
            ),
        };
        let done = q
            .bind(&input.name)
            .bind(input.category_id)
            .bind(input.channel.as_deref())
            .bind(input.communication_type.map(|t| t.as_str()))
            .bind(input.archive_after_days)
            .bind(input.delete_after_days)
            .bind(input.keep_tombstone)
            .bind(input.is_active)
            .bind(now)
            .bind(scope.company_id())
            .bind(policy_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if id.is_some() { "update" } else { "create" };
        audit::record(&mut tx, scope, action, "retention_policy", Some(policy_id), serde_json::to_value(&input).unwrap_or_default()).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM retention_policies WHERE company_id = $1 AND id = $2")))
            .bind(scope.company_id())
            .bind(policy_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        policy(&row)
    }

    pub(crate) async fn delete_retention_policy(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM retention_policies WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "delete", "retention_policy", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies the company's retention policies as of `now` (or, with `dry_run`, reports what
    /// that would do). Each batch is one transaction whose every action is audited; the files
    /// of purged logs come back for the caller to delete from the blob store.
    pub(crate) async fn run_retention(&self, scope: &Scope, now: OffsetDateTime, dry_run: bool) -> StoreResult<(RetentionReport, Vec<String>)> {
        let policies: Vec<RetentionPolicy> = self.list_retention_policies(scope).await?.into_iter().filter(|p| p.policy.is_active).collect();
        let mut report = RetentionReport { dry_run, ..RetentionReport::default() };
        let mut purged = Purged::default();
        let Some(shortest) = policies.iter().filter_map(|p| p.policy.archive_after_days.or(p.policy.delete_after_days)).min() else {
            return Ok((report, Vec::new()));
        };
        let cutoff = DbTime::from(now - time::Duration::days(i64::from(shortest)));
        let stamp = DbTime::from(now);
        let company = scope.company_id();
        let mut after = None;
        loop {
            let mut tx = self.begin_write().await?;
            let batch = candidates(&mut tx, company, cutoff, after).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            let (mut archive, mut purge_ids, mut remove) = (Vec::new(), Vec::new(), Vec::new());
            for log in &batch {
                let Some(action) = retention_action(&policies, log, now) else { continue };
                if log.held {
                    report.held.push(log.id);
                    continue;
                }
                match action {
                    RetentionAction::Archive => archive.push(log.id),
                    RetentionAction::Purge => purge_ids.push(log.id),
                    RetentionAction::Remove => remove.push(log.id),
                }
            }
            if dry_run {
                // What the run would delete from the blob store.
                for ids in [&purge_ids, &remove] {
                    for chunk in ids.chunks(purge::CHUNK) {
                        for sql in [
                            "SELECT count(*) FROM crm_communication_attachments WHERE file_path <> '' AND company_id = ",
                            "SELECT count(*) FROM email_quarantine WHERE company_id = ",
                        ] {
                            let mut qb = sqlx::QueryBuilder::<Db>::new(sql);
                            qb.push_bind(company).push(" AND ");
                            purge::push_ids(&mut qb, "communication_log_id", chunk);
                            report.files += u64::try_from(qb.build_query_scalar::<i64>().fetch_one(&mut *tx).await?).unwrap_or(0);
                        }
                    }
                }
                tx.rollback().await?;
            } else {
                for chunk in archive.chunks(purge::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<Db>::new("UPDATE crm_communication_logs SET archived_at = ");
                    qb.push_bind(stamp).push(" WHERE company_id = ").push_bind(company).push(" AND ");
                    purge::push_ids(&mut qb, "id", chunk);
                    qb.build().execute(&mut *tx).await?;
                }
                let mut done = purge::purge_logs(&mut tx, company, &purge_ids, true, stamp).await?;
                done.add(purge::purge_logs(&mut tx, company, &remove, false, stamp).await?);
                report.files += done.blob_keys.len() as u64;
                for (action, ids) in [("retention_archive", &archive), ("retention_purge", &purge_ids), ("retention_remove", &remove)] {
                    for id in ids.iter() {
                        audit::record(&mut tx, scope, action, "communication_log", Some(*id), json!({})).await?;
                    }
                }
                purged.add(done);
                tx.commit().await?;
            }
            report.archived.extend(archive);
            report.purged.extend(purge_ids);
            report.removed.extend(remove);
        }
        if !dry_run {
            let mut tx = self.begin_write().await?;
            audit::record(
                &mut tx,
                scope,
                "retention_run",
                "company",
                Some(company),
                json!({"archived": report.archived.len(), "purged": report.purged.len(), "removed": report.removed.len(), "held": report.held.len(), "files": report.files}),
            )
            .await?;
            tx.commit().await?;
            if !(report.purged.is_empty() && report.removed.is_empty()) {
                self.after_purge().await?;
            }
        }
        Ok((report, purged.blob_keys))
    }
}
