//! The audit trail and the outbox, both written inside the transaction of the change they
//! record, so that neither can disagree with the data. Audit entries name changed content
//! fields but never copy their values: the trail must not become a second copy of what a
//! customer said (erasure could not reach it).

use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreResult};
use commlog_domain::records::AuditEntry;
use commlog_domain::{new_id, time_fmt};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

pub(super) type Tx = sqlx::Transaction<'static, Db>;

/// Records one audited action.
pub(super) async fn record(
    tx: &mut Tx,
    scope: &Scope,
    action: &str,
    entity_type: &str,
    entity_id: Option<Uuid>,
    changes: Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (company_id, id, occurred_at, actor_user_id, action, entity_type, entity_id, changes, ip, user_agent, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(scope.company_id())
    .bind(new_id())
    .bind(DbTime::from(time_fmt::now()))
    .bind((!scope.user_id().is_nil()).then(|| scope.user_id()))
    .bind(action)
    .bind(entity_type)
    .bind(entity_id)
    .bind(Json(changes))
    .bind(scope.meta.ip.as_deref())
    .bind(scope.meta.user_agent.as_deref())
    .bind(scope.meta.request_id.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues an event for publication after commit (WebSocket, webhooks, jobs).
pub(super) async fn emit(
    tx: &mut Tx,
    company_id: Uuid,
    event_type: &str,
    aggregate_id: Uuid,
    payload: Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (company_id, id, event_type, aggregate_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(company_id)
    .bind(new_id())
    .bind(event_type)
    .bind(aggregate_id)
    .bind(Json(payload))
    .bind(DbTime::from(time_fmt::now()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Engine<Db> {
    /// Audit entries about one entity, oldest first.
    pub(super) async fn entity_audit(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: Uuid,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, occurred_at, actor_user_id, action, entity_type, entity_id, changes, ip, user_agent, request_id, seq, hash FROM audit_log \
             WHERE company_id = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY occurred_at, id",
        )
        .bind(scope.company_id())
        .bind(entity_type)
        .bind(entity_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(rows::audit).collect()
    }

    pub(crate) async fn begin_write(&self) -> StoreResult<Tx> {
        Ok(self.write.begin().await?)
    }
}
