//! E-mail capture's storage: where each message was seen, the quarantine of messages that could
//! not be captured, conversation threads found by any of their keys, and customers found by
//! their e-mail domain.

use super::audit;
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::records::QuarantinedEmail;
use commlog_domain::{new_id, time_fmt};
use serde_json::json;
use sqlx::QueryBuilder;
use uuid::Uuid;

const QUARANTINE_COLUMNS: &str =
    "id, origin, reason, size_bytes, blob_key, received_at, retried_at, communication_log_id";

fn quarantined(r: &super::rows::Row) -> StoreResult<QuarantinedEmail> {
    Ok(QuarantinedEmail {
        id: rows::get(r, "id")?,
        origin: rows::get(r, "origin")?,
        reason: rows::get(r, "reason")?,
        size_bytes: rows::get(r, "size_bytes")?,
        blob_key: rows::get(r, "blob_key")?,
        received_at: rows::time(r, "received_at")?,
        retried_at: rows::opt_time(r, "retried_at")?,
        communication_log_id: rows::get(r, "communication_log_id")?,
    })
}

impl Engine<Db> {
    /// Notes that a captured message was seen in `mailbox` (once per mailbox).
    pub(crate) async fn record_email_sighting(&self, scope: &Scope, log_id: Uuid, mailbox: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO email_sightings (company_id, communication_log_id, mailbox, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(scope.company_id())
        .bind(log_id)
        .bind(mailbox)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The mailboxes a captured message was seen in.
    pub(crate) async fn email_sightings(&self, scope: &Scope, log_id: Uuid) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT mailbox FROM email_sightings WHERE company_id = $1 AND communication_log_id = $2 ORDER BY seen_at, mailbox")
            .bind(scope.company_id())
            .bind(log_id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| rows::get(r, "mailbox")).collect()
    }

    pub(crate) async fn quarantine_email(&self, scope: &Scope, origin: &str, reason: &str, size: i64, blob_key: &str) -> StoreResult<QuarantinedEmail> {
        let mut tx = self.begin_write().await?;
        let id = new_id();
        let reason: String = reason.chars().take(1000).collect();
        let origin: String = origin.chars().take(500).collect();
        let sql = format!(
            "INSERT INTO email_quarantine (company_id, id, origin, reason, size_bytes, blob_key, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {QUARANTINE_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(id)
            .bind(&origin)
            .bind(&reason)
            .bind(size)
            .bind(blob_key)
            .bind(DbTime::from(time_fmt::now()))
            .fetch_one(&mut *tx)
            .await?;
        audit::record(&mut tx, scope, "quarantine", "email", Some(id), json!({"origin": origin, "reason": reason})).await?;
        tx.commit().await?;
        quarantined(&row)
    }

    /// Quarantined messages, newest first; `open` keeps those not captured since.
    pub(crate) async fn list_quarantined_emails(&self, scope: &Scope, open: bool, limit: i64) -> StoreResult<Vec<QuarantinedEmail>> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {QUARANTINE_COLUMNS} FROM email_quarantine WHERE company_id = "));
        qb.push_bind(scope.company_id());
        if open {
            qb.push(" AND communication_log_id IS NULL");
        }
        qb.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(limit);
        qb.build().fetch_all(&self.read).await?.iter().map(quarantined).collect()
    }

    pub(crate) async fn get_quarantined_email(&self, scope: &Scope, id: Uuid) -> StoreResult<QuarantinedEmail> {
        let sql = format!("SELECT {QUARANTINE_COLUMNS} FROM email_quarantine WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        quarantined(&row)
    }

    /// Records a retry of a quarantined message, and the log it became if it did.
    pub(crate) async fn mark_quarantine_retried(&self, scope: &Scope, id: Uuid, reason: Option<&str>, log_id: Option<Uuid>) -> StoreResult<QuarantinedEmail> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE email_quarantine SET retried_at = $1, communication_log_id = $2, reason = COALESCE($3, reason) WHERE company_id = $4 AND id = $5",
        )
        .bind(DbTime::from(time_fmt::now()))
        .bind(log_id)
        .bind(reason)
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "retry", "email", Some(id), json!({"communication_log_id": log_id})).await?;
        tx.commit().await?;
        self.get_quarantined_email(scope, id).await
    }

    /// The thread any of `keys` belongs to at `source`, if one does.
    pub(crate) async fn find_thread(&self, company_id: Uuid, source: &str, keys: &[String]) -> StoreResult<Option<Uuid>> {
        if keys.is_empty() {
            return Ok(None);
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT thread_id FROM conversation_threads WHERE company_id = ");
        qb.push_bind(company_id).push(" AND source = ").push_bind(source.to_owned()).push(" AND thread_key IN (");
        let mut sep = qb.separated(", ");
        for k in keys.iter().take(200) {
            sep.push_bind(k.clone());
        }
        qb.push(") ORDER BY created_at LIMIT 1");
        let row = qb.build().fetch_optional(&self.read).await?;
        row.map(|r| rows::get(&r, "thread_id")).transpose()
    }

    /// The thread `key` leads to, if that key was last used since `since` (a conversation
    /// found by subject only counts while it is recent).
    pub(crate) async fn find_recent_thread(&self, company_id: Uuid, source: &str, key: &str, since: time::OffsetDateTime) -> StoreResult<Option<Uuid>> {
        let id = sqlx::query_scalar(
            "SELECT thread_id FROM conversation_threads WHERE company_id = $1 AND source = $2 AND thread_key = $3 AND created_at >= $4",
        )
        .bind(company_id)
        .bind(source)
        .bind(key)
        .bind(DbTime::from(since))
        .fetch_optional(&self.read)
        .await?;
        Ok(id)
    }

    /// Makes each of `keys` lead to `thread` (keys already leading elsewhere keep their thread;
    /// keys already leading there are marked as used now).
    pub(crate) async fn link_thread_keys(&self, company_id: Uuid, source: &str, keys: &[String], thread: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let now = DbTime::from(time_fmt::now());
        for k in keys.iter().take(200) {
            sqlx::query(
                "INSERT INTO conversation_threads (company_id, source, thread_key, thread_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (company_id, source, thread_key) DO UPDATE SET created_at = excluded.created_at \
                 WHERE conversation_threads.thread_id = excluded.thread_id",
            )
            .bind(company_id)
            .bind(source)
            .bind(k)
            .bind(thread)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The company's forwarding-address token, made on first use (`token` is the candidate).
    pub(crate) async fn capture_token(&self, scope: &Scope, candidate: &str) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO capture_addresses (company_id, token, created_at) VALUES ($1, $2, $3) ON CONFLICT (company_id) DO NOTHING")
            .bind(scope.company_id())
            .bind(candidate)
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut *tx)
            .await?;
        let token: String = sqlx::query_scalar("SELECT token FROM capture_addresses WHERE company_id = $1")
            .bind(scope.company_id())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Replaces the company's forwarding-address token; the old address stops working.
    pub(crate) async fn rotate_capture_token(&self, scope: &Scope, token: &str) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO capture_addresses (company_id, token, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET token = excluded.token, created_at = excluded.created_at",
        )
        .bind(scope.company_id())
        .bind(token)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "rotate", "capture_address", None, json!({})).await?;
        tx.commit().await?;
        Ok(token.to_owned())
    }

    /// The company a forwarding-address token belongs to.
    pub(crate) async fn company_by_capture_token(&self, token: &str) -> StoreResult<Option<Uuid>> {
        let id = sqlx::query_scalar("SELECT company_id FROM capture_addresses WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.read)
            .await?;
        Ok(id)
    }

    /// The company's mail capture policy (JSON), if one was set.
    pub(crate) async fn email_settings(&self, scope: &Scope) -> StoreResult<Option<serde_json::Value>> {
        let text: Option<String> = sqlx::query_scalar("SELECT settings FROM company_email_settings WHERE company_id = $1")
            .bind(scope.company_id())
            .fetch_optional(&self.read)
            .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub(crate) async fn set_email_settings(&self, scope: &Scope, settings: &serde_json::Value) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO company_email_settings (company_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(scope.company_id())
        .bind(settings.to_string())
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "update", "email_settings", None, settings.clone()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Points thread keys at another thread: every key of `from` (a merge), or only `keys` of
    /// it (a split), so later messages follow the user's decision.
    pub(crate) async fn move_thread_keys(&self, scope: &Scope, from: Uuid, to: Uuid, keys: Option<&[String]>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let mut qb = QueryBuilder::<Db>::new("UPDATE conversation_threads SET thread_id = ");
        qb.push_bind(to).push(" WHERE company_id = ").push_bind(scope.company_id()).push(" AND thread_id = ").push_bind(from);
        if let Some(keys) = keys {
            if keys.is_empty() {
                return Ok(());
            }
            qb.push(" AND thread_key IN (");
            let mut sep = qb.separated(", ");
            for k in keys.iter().take(500) {
                sep.push_bind(k.clone());
            }
            qb.push(")");
        }
        qb.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
