//! Legal holds: what they cover, placing and releasing them, and the SQL test "is this log
//! held?" that retention and erasure both apply, so that neither can touch what a hold keeps.

use super::audit::{self, Tx};
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::compliance::{HoldQuery, HoldTarget, LegalHold, NewLegalHold};
use commlog_domain::{CommunicationType, new_id, time_fmt};
use serde_json::json;
use uuid::Uuid;

/// Whether hold `h` covers log `l`: the log itself, its customer, a contact it names or that
/// took part, its thread, or a held query it matches.
macro_rules! hold_covers_log {
    () => {
        "((h.target_type = 'log' AND h.target_id = l.id) \
        OR (h.target_type = 'customer' AND h.target_id = l.customer_id) \
        OR (h.target_type = 'thread' AND h.target_id = l.thread_id) \
        OR (h.target_type = 'contact' AND (h.target_id = l.contact_id OR EXISTS (SELECT 1 FROM crm_communication_participants hp \
            WHERE hp.company_id = l.company_id AND hp.communication_log_id = l.id AND hp.contact_id = h.target_id))) \
        OR (h.target_type = 'query' \
            AND (h.q_customer_id IS NULL OR h.q_customer_id = l.customer_id) \
            AND (h.q_contact_id IS NULL OR h.q_contact_id = l.contact_id) \
            AND (h.q_channel IS NULL OR h.q_channel = l.channel) \
            AND (h.q_communication_type IS NULL OR h.q_communication_type = l.communication_type) \
            AND (h.q_start_after IS NULL OR l.start_time >= h.q_start_after) \
            AND (h.q_start_before IS NULL OR l.start_time < h.q_start_before)))"
    };
}

/// True for a log (alias `l`) that a hold in force covers.
pub(super) const HELD: &str = concat!(
    "EXISTS (SELECT 1 FROM legal_holds h WHERE h.company_id = l.company_id AND h.released_at IS NULL AND ",
    hold_covers_log!(),
    ")"
);

const COLUMNS: &str = "id, target_type, target_id, q_customer_id, q_contact_id, q_channel, q_communication_type, q_start_after, q_start_before, \
    reason, owner_user_id, created_by_user_id, created_at, released_at, released_by_user_id, release_reason";

fn hold(r: &rows::Row) -> StoreResult<LegalHold> {
    let target: String = rows::get(r, "target_type")?;
    let target_type = HoldTarget::parse(&target).ok_or_else(|| StoreError::corrupt("legal_holds.target_type"))?;
    let query = (target_type == HoldTarget::Query)
        .then(|| -> StoreResult<HoldQuery> {
            Ok(HoldQuery {
                customer_id: rows::get(r, "q_customer_id")?,
                contact_id: rows::get(r, "q_contact_id")?,
                channel: rows::get(r, "q_channel")?,
                communication_type: rows::opt_parse::<CommunicationType>(r, "q_communication_type")?,
                start_time_after: rows::opt_time(r, "q_start_after")?,
                start_time_before: rows::opt_time(r, "q_start_before")?,
            })
        })
        .transpose()?;
    Ok(LegalHold {
        id: rows::get(r, "id")?,
        target_type,
        target_id: rows::get(r, "target_id")?,
        query,
        reason: rows::get(r, "reason")?,
        owner_user_id: rows::get(r, "owner_user_id")?,
        created_by_user_id: rows::get(r, "created_by_user_id")?,
        created_at: rows::time(r, "created_at")?,
        released_at: rows::opt_time(r, "released_at")?,
        released_by_user_id: rows::get(r, "released_by_user_id")?,
        release_reason: rows::get(r, "release_reason")?,
    })
}

/// Whether the company has a row with this id in `table` (the hold's target must exist).
async fn target_exists(tx: &mut Tx, company_id: Uuid, target: HoldTarget, id: Uuid) -> StoreResult<bool> {
    let sql = match target {
        HoldTarget::Customer => "SELECT count(*) FROM customers WHERE company_id = $1 AND id = $2",
        HoldTarget::Contact => "SELECT count(*) FROM contacts WHERE company_id = $1 AND id = $2",
        HoldTarget::Log => "SELECT count(*) FROM crm_communication_logs WHERE company_id = $1 AND id = $2",
        HoldTarget::Thread => "SELECT count(*) FROM crm_communication_logs WHERE company_id = $1 AND thread_id = $2",
        HoldTarget::Query => return Ok(true),
    };
    let n: i64 = sqlx::query_scalar(sql).bind(company_id).bind(id).fetch_one(&mut **tx).await?;
    Ok(n > 0)
}

/// The active holds that cover any of `log_ids` or any of `contacts`, for explaining a refusal.
pub(super) async fn holds_covering(tx: &mut Tx, company_id: Uuid, log_ids: &[Uuid], contacts: &[Uuid]) -> StoreResult<Vec<LegalHold>> {
    let mut found: Vec<LegalHold> = Vec::new();
    if !contacts.is_empty() {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM legal_holds WHERE company_id = "));
        qb.push_bind(company_id).push(" AND released_at IS NULL AND target_type = 'contact' AND ");
        super::purge::push_ids(&mut qb, "target_id", contacts);
        for r in qb.build().fetch_all(&mut **tx).await? {
            found.push(hold(&r)?);
        }
    }
    for chunk in log_ids.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM legal_holds h WHERE h.company_id = "));
        qb.push_bind(company_id).push(" AND h.released_at IS NULL AND EXISTS (SELECT 1 FROM crm_communication_logs l WHERE l.company_id = h.company_id AND ");
        super::purge::push_ids(&mut qb, "l.id", chunk);
        qb.push(" AND ").push(hold_covers_log!()).push(")");
        for r in qb.build().fetch_all(&mut **tx).await? {
            let h = hold(&r)?;
            if !found.iter().any(|f| f.id == h.id) {
                found.push(h);
            }
        }
    }
    Ok(found)
}

/// "held by …" for an error message: each hold's id and reason.
pub(super) fn describe(holds: &[LegalHold]) -> String {
    holds.iter().map(|h| format!("{} ({}: {})", h.id, h.target_type.as_str(), h.reason)).collect::<Vec<_>>().join("; ")
}

impl Engine<Db> {
    pub(crate) async fn create_legal_hold(&self, scope: &Scope, new: &NewLegalHold) -> StoreResult<LegalHold> {
        let mut new = new.clone();
        new.validate()?;
        let owner = new.owner_user_id.unwrap_or_else(|| scope.user_id());
        let mut tx = self.begin_write().await?;
        let owner_ok: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE company_id = $1 AND id = $2 AND is_active")
            .bind(scope.company_id())
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
        if owner_ok == 0 {
            return Err(StoreError::invalid("owner_user_id", "not_found", "no active user of the company has this id"));
        }
        if let Some(target) = new.target_id
            && !target_exists(&mut tx, scope.company_id(), new.target_type, target).await?
        {
            return Err(StoreError::invalid("target_id", "not_found", format!("no {} of the company has this id", new.target_type.as_str())));
        }
        let q = new.query.clone().unwrap_or_default();
        let id = new_id();
        sqlx::query(
            "INSERT INTO legal_holds (company_id, id, target_type, target_id, q_customer_id, q_contact_id, q_channel, q_communication_type, q_start_after, q_start_before, \
             reason, owner_user_id, created_by_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(new.target_type.as_str())
        .bind(new.target_id)
        .bind(q.customer_id)
        .bind(q.contact_id)
        .bind(q.channel.as_deref())
        .bind(q.communication_type.map(|t| t.as_str()))
        .bind(q.start_time_after.map(DbTime::from))
        .bind(q.start_time_before.map(DbTime::from))
        .bind(&new.reason)
        .bind(owner)
        .bind(scope.user_id())
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "place_hold", "legal_hold", Some(id), json!({"target_type": new.target_type.as_str(), "target_id": new.target_id, "owner_user_id": owner})).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM legal_holds WHERE company_id = $1 AND id = $2")))
            .bind(scope.company_id())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        hold(&row)
    }

    /// The company's holds, newest first (only those in force unless `include_released`).
    pub(crate) async fn list_legal_holds(&self, scope: &Scope, include_released: bool) -> StoreResult<Vec<LegalHold>> {
        let filter = if include_released { "" } else { " AND released_at IS NULL" };
        let sql = format!("SELECT {COLUMNS} FROM legal_holds WHERE company_id = $1{filter} ORDER BY created_at DESC, id DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).fetch_all(&self.read).await?.iter().map(hold).collect()
    }

    pub(crate) async fn get_legal_hold(&self, scope: &Scope, id: Uuid) -> StoreResult<LegalHold> {
        let sql = format!("SELECT {COLUMNS} FROM legal_holds WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).bind(id).fetch_optional(&self.read).await?;
        hold(&row.ok_or(StoreError::NotFound)?)
    }

    /// Releases a hold in force; what it kept is subject to retention and erasure again.
    pub(crate) async fn release_legal_hold(&self, scope: &Scope, id: Uuid, reason: &str) -> StoreResult<LegalHold> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "required", "say why the hold is released"));
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE legal_holds SET released_at = $1, released_by_user_id = $2, release_reason = $3 WHERE company_id = $4 AND id = $5 AND released_at IS NULL")
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.user_id())
            .bind(reason)
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM legal_holds WHERE company_id = $1 AND id = $2")
                .bind(scope.company_id())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            return Err(if exists == 0 {
                StoreError::NotFound
            } else {
                StoreError::Refused { code: "already_released", message: "the hold was already released".into() }
            });
        }
        audit::record(&mut tx, scope, "release_hold", "legal_hold", Some(id), json!({})).await?;
        tx.commit().await?;
        self.get_legal_hold(scope, id).await
    }
}
