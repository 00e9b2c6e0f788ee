//! Attachment records (blueprint §3.2). The bytes live in the blob store; a row here is written
//! only after they are safely there, and is visible exactly when its log is.

use super::audit;
use super::logs::push_visible;
use super::{Db, dialect, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::filters::{AttachmentFilter, limit_offset};
use commlog_domain::records::{Attachment, NewAttachment};
use commlog_domain::{AttachmentStatus, time_fmt};
use serde_json::json;
use sqlx::QueryBuilder;
use uuid::Uuid;

const COLUMNS: &str = "a.id, a.company_id, a.communication_log_id, a.uploaded_by_user_id, a.file_name, a.file_type, a.file_size, \
    a.file_path, a.checksum_sha256, a.status, a.is_public, a.is_internal, a.download_count, a.created_at, a.is_deleted";

/// `FROM` attachments joined to the logs the caller can see.
fn push_from_visible(qb: &mut QueryBuilder<Db>, scope: &Scope) {
    qb.push(format!(
        "SELECT {COLUMNS} FROM crm_communication_attachments a JOIN crm_communication_logs l \
         ON l.company_id = a.company_id AND l.id = a.communication_log_id WHERE NOT a.is_deleted AND "
    ));
    qb.push(dialect::LIVE).push(" AND ");
    push_visible(qb, &scope.actor);
}

impl Engine<Db> {
    pub(crate) async fn create_attachment(
        &self,
        scope: &Scope,
        new: &NewAttachment,
    ) -> StoreResult<Attachment> {
        let mut tx = self.begin_write().await?;
        let mut qb = QueryBuilder::<Db>::new("SELECT l.id FROM crm_communication_logs l WHERE ");
        push_visible(&mut qb, &scope.actor);
        qb.push(" AND ")
            .push(dialect::LIVE)
            .push(" AND l.id = ")
            .push_bind(new.communication_log_id);
        let visible: Option<Uuid> = qb.build_query_scalar().fetch_optional(&mut *tx).await?;
        if visible.is_none() {
            return Err(StoreError::invalid(
                "communication_log_id",
                "unknown_log",
                "no such communication log",
            ));
        }
        sqlx::query(
            "INSERT INTO crm_communication_attachments (company_id, id, communication_log_id, uploaded_by_user_id, file_name, file_type, \
             file_size, file_path, checksum_sha256, status, is_public, is_internal, download_count, created_at, is_deleted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, FALSE)",
        )
        .bind(scope.company_id())
        .bind(new.id)
        .bind(new.communication_log_id)
        .bind(scope.user_id())
        .bind(&new.file_name)
        .bind(&new.file_type)
        .bind(new.file_size)
        .bind(&new.file_path)
        .bind(&new.checksum_sha256)
        .bind(new.status.as_str())
        .bind(new.is_public)
        .bind(new.is_internal)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        let changes = json!({"communication_log_id": new.communication_log_id, "file_size": new.file_size, "file_type": new.file_type});
        audit::record(
            &mut tx,
            scope,
            "create",
            "attachment",
            Some(new.id),
            changes,
        )
        .await?;
        // A recording or voice message is transcribed (and the log analysed again) once kept.
        if new.file_type.starts_with("audio/") && new.status == AttachmentStatus::Available {
            super::processing::enqueue(&mut tx, scope.company_id(), new.communication_log_id, &[], "recording").await?;
        }
        tx.commit().await?;
        self.get_attachment(scope, new.id).await
    }

    pub(crate) async fn get_attachment(&self, scope: &Scope, id: Uuid) -> StoreResult<Attachment> {
        let mut qb = QueryBuilder::<Db>::new("");
        push_from_visible(&mut qb, scope);
        qb.push(" AND a.id = ").push_bind(id);
        let row = qb
            .build()
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        rows::attachment(&row)
    }

    pub(crate) async fn list_attachments(
        &self,
        scope: &Scope,
        f: &AttachmentFilter,
    ) -> StoreResult<Vec<Attachment>> {
        let mut qb = QueryBuilder::<Db>::new("");
        push_from_visible(&mut qb, scope);
        if let Some(v) = f.communication_log_id {
            qb.push(" AND a.communication_log_id = ").push_bind(v);
        }
        if let Some(v) = &f.file_type {
            qb.push(" AND a.file_type = ").push_bind(v.clone());
        }
        if let Some(v) = f.uploaded_by_user_id {
            qb.push(" AND a.uploaded_by_user_id = ").push_bind(v);
        }
        if let Some(t) = f.created_after {
            qb.push(" AND a.created_at >= ").push_bind(DbTime::from(t));
        }
        if let Some(t) = f.created_before {
            qb.push(" AND a.created_at < ").push_bind(DbTime::from(t));
        }
        let (limit, offset) = limit_offset(f.page, f.page_size)?;
        qb.push(" ORDER BY a.created_at DESC, a.id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::attachment).collect()
    }

    pub(crate) async fn record_download(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        self.get_attachment(scope, id).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE crm_communication_attachments SET download_count = download_count + 1 WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "download",
            "attachment",
            Some(id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
