//! Sealing and verifying the audit trail's per-company hash chain.
//!
//! Entries are written in the transaction of the change they record, without a position.
//! The sealer then gives them, in `(occurred_at, id)` order, the next `seq` and the hash that
//! covers the previous one. Sealing is separate so that writes of one company never queue on
//! a single chain-head lock (which would also defeat PostgreSQL's group commit); an entry is
//! sealed within a second of its commit by the task `commlog serve` runs.

use super::audit::{self, Tx};
use super::{Db, dialect, rows};
use crate::store::{AuditBreak, AuditVerification};
use crate::{DbTime, Engine, Scope, StoreResult};
use commlog_domain::audit::{ChainedFields, GENESIS, entry_hash};
use commlog_domain::filters::{AuditFilter, limit_offset};
use commlog_domain::records::AuditEntry;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

const COLUMNS: &str = "id, company_id, seq, prev_hash, hash, occurred_at, actor_user_id, action, entity_type, entity_id, changes, ip, user_agent, request_id";

fn fields<'a>(e: &'a AuditEntry, company_id: Uuid, seq: i64) -> ChainedFields<'a> {
    ChainedFields {
        company_id,
        seq,
        id: e.id,
        occurred_at: e.occurred_at,
        actor_user_id: e.actor_user_id,
        action: &e.action,
        entity_type: &e.entity_type,
        entity_id: e.entity_id,
        changes: &e.changes,
        ip: e.ip.as_deref(),
        user_agent: e.user_agent.as_deref(),
        request_id: e.request_id.as_deref(),
    }
}

impl Engine<Db> {
    /// Chains every unsealed entry (at most `limit` per company per call); returns how many.
    pub(crate) async fn seal_audit(&self, limit: i64) -> StoreResult<u64> {
        let companies: Vec<Uuid> =
            sqlx::query_scalar("SELECT DISTINCT company_id FROM audit_log WHERE seq IS NULL")
                .fetch_all(&self.read)
                .await?;
        let mut sealed = 0;
        for company in companies {
            sealed += self.seal_company(company, limit).await?;
        }
        Ok(sealed)
    }

    async fn seal_company(&self, company: Uuid, limit: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO audit_chain_heads (company_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (company_id) DO NOTHING")
            .bind(company)
            .bind(GENESIS)
            .execute(&mut *tx)
            .await?;
        // The head row lock makes concurrent sealers (several `serve` processes) take turns.
        let head = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT seq, hash FROM audit_chain_heads WHERE company_id = $1{}",
            dialect::FOR_UPDATE
        )))
        .bind(company)
        .fetch_one(&mut *tx)
        .await?;
        let (mut seq, mut hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
        let pending = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE company_id = $1 AND seq IS NULL ORDER BY occurred_at, id LIMIT $2"
        )))
        .bind(company)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for row in &pending {
            let entry = rows::audit(row)?;
            seq += 1;
            let next = entry_hash(&hash, &fields(&entry, company, seq));
            sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE company_id = $4 AND id = $5")
                .bind(seq)
                .bind(&hash)
                .bind(&next)
                .bind(company)
                .bind(entry.id)
                .execute(&mut *tx)
                .await?;
            hash = next;
        }
        sqlx::query("UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE company_id = $3")
            .bind(seq)
            .bind(&hash)
            .bind(company)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(u64::try_from(pending.len()).unwrap_or(0))
    }

    /// Recomputes each company's chain from its first entry; reports the first broken link.
    pub(crate) async fn verify_audit(
        &self,
        company: Option<Uuid>,
    ) -> StoreResult<Vec<AuditVerification>> {
        let companies: Vec<Uuid> = match company {
            Some(c) => vec![c],
            None => {
                sqlx::query_scalar("SELECT id FROM companies ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
            }
        };
        let mut out = Vec::new();
        for company_id in companies {
            out.push(self.verify_company(company_id).await?);
        }
        Ok(out)
    }

    async fn verify_company(&self, company_id: Uuid) -> StoreResult<AuditVerification> {
        let mut report = AuditVerification {
            company_id,
            entries: 0,
            unsealed: 0,
            head_seq: 0,
            first_break: None,
        };
        let head = sqlx::query("SELECT seq, hash FROM audit_chain_heads WHERE company_id = $1")
            .bind(company_id)
            .fetch_optional(&self.read)
            .await?;
        let (head_seq, head_hash): (i64, String) = match &head {
            Some(r) => (r.try_get("seq")?, r.try_get("hash")?),
            None => (0, GENESIS.to_owned()),
        };
        report.head_seq = head_seq;
        report.unsealed = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE company_id = $1 AND seq IS NULL",
        )
        .bind(company_id)
        .fetch_one(&self.read)
        .await?;
        let (mut expected_seq, mut prev) = (0_i64, GENESIS.to_owned());
        let mut last: Option<(i64, Uuid)> = None;
        // Walk in pages so a long trail never sits in memory at once.
        loop {
            let page = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE company_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000"
            )))
            .bind(company_id)
            .bind(expected_seq)
            .fetch_all(&self.read)
            .await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                let entry = rows::audit(row)?;
                let seq: i64 = row.try_get("seq")?;
                let stored_prev: Option<String> = row.try_get("prev_hash")?;
                let stored_hash: Option<String> = row.try_get("hash")?;
                report.entries += 1;
                expected_seq += 1;
                let broken = |reason: String| {
                    Some(AuditBreak {
                        seq,
                        id: entry.id,
                        reason,
                    })
                };
                let problem = if seq != expected_seq {
                    broken(format!(
                        "entry {expected_seq} is missing (next present is {seq}): deleted or reordered"
                    ))
                } else if stored_prev.as_deref() != Some(prev.as_str()) {
                    broken("its link to the previous entry does not match: an entry before it was changed or removed".into())
                } else if stored_hash.as_deref()
                    != Some(entry_hash(&prev, &fields(&entry, company_id, seq)).as_str())
                {
                    broken("its content does not match its hash: the entry was altered".into())
                } else {
                    None
                };
                if problem.is_some() {
                    report.first_break = problem;
                    return Ok(report);
                }
                prev = stored_hash.unwrap_or_default();
                last = Some((seq, entry.id));
            }
        }
        if expected_seq != head_seq || prev != head_hash {
            let (seq, id) = last.unwrap_or((0, Uuid::nil()));
            report.first_break = Some(AuditBreak {
                seq,
                id,
                reason: format!(
                    "the chain ends at entry {expected_seq} but its head says {head_seq}: entries at the end were removed or the head was changed"
                ),
            });
        }
        Ok(report)
    }

    pub(crate) async fn list_audit(
        &self,
        scope: &Scope,
        f: &AuditFilter,
    ) -> StoreResult<Vec<AuditEntry>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE company_id = "
        ));
        qb.push_bind(scope.company_id());
        if let Some(v) = &f.entity_type {
            qb.push(" AND entity_type = ").push_bind(v.clone());
        }
        if let Some(v) = f.entity_id {
            qb.push(" AND entity_id = ").push_bind(v);
        }
        if let Some(v) = f.actor_user_id {
            qb.push(" AND actor_user_id = ").push_bind(v);
        }
        if let Some(v) = &f.action {
            qb.push(" AND action = ").push_bind(v.clone());
        }
        if let Some(t) = f.occurred_after {
            qb.push(" AND occurred_at >= ").push_bind(DbTime::from(t));
        }
        if let Some(t) = f.occurred_before {
            qb.push(" AND occurred_at < ").push_bind(DbTime::from(t));
        }
        let (limit, offset) = limit_offset(f.page, f.page_size)?;
        qb.push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::audit).collect()
    }

    /// The audit trail a regulator export of `[since, until)` carries: every entry recorded in
    /// the period, and every entry about a log that started in it, whenever recorded; in chain
    /// order (unsealed entries last).
    pub(crate) async fn regulator_audit(&self, scope: &Scope, since: time::OffsetDateTime, until: time::OffsetDateTime) -> StoreResult<Vec<AuditEntry>> {
        let (since, until) = (DbTime::from(since), DbTime::from(until));
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM audit_log WHERE company_id = "));
        qb.push_bind(scope.company_id())
            .push(" AND ((occurred_at >= ")
            .push_bind(since)
            .push(" AND occurred_at < ")
            .push_bind(until)
            .push(") OR (entity_type = 'communication_log' AND entity_id IN (SELECT l.id FROM crm_communication_logs l WHERE l.company_id = ")
            .push_bind(scope.company_id())
            .push(" AND l.start_time >= ")
            .push_bind(since)
            .push(" AND l.start_time < ")
            .push_bind(until)
            .push(")))");
        let mut entries = qb.build().fetch_all(&self.read).await?.iter().map(rows::audit).collect::<StoreResult<Vec<_>>>()?;
        entries.sort_by_key(|e| (e.seq.unwrap_or(i64::MAX), e.occurred_at, e.id));
        Ok(entries)
    }

    /// Records an action that changes nothing else (a read of sensitive content, a denial).
    pub(crate) async fn record_audit(
        &self,
        scope: &Scope,
        action: &str,
        entity_type: &str,
        entity_id: Option<Uuid>,
        changes: serde_json::Value,
    ) -> StoreResult<()> {
        let mut tx: Tx = self.begin_write().await?;
        audit::record(&mut tx, scope, action, entity_type, entity_id, changes).await?;
        tx.commit().await?;
        Ok(())
    }
}
