//! IMAP mailboxes: their settings (the password sealed by the server), their sync status, and
//! each folder's checkpoint.

use super::audit;
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::records::{MailAccount, MailAccountInput, MailFolderState};
use commlog_domain::time_fmt;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "company_id, id, name, host, port, security, username, folders, start_date, is_active, status, \
    last_error, last_sync_at, created_at, updated_at";

fn account(r: &super::rows::Row, folder_states: Vec<MailFolderState>) -> StoreResult<MailAccount> {
    let folders: String = rows::get(r, "folders")?;
    Ok(MailAccount {
        id: rows::get(r, "id")?,
        name: rows::get(r, "name")?,
        host: rows::get(r, "host")?,
        port: rows::get(r, "port")?,
        security: rows::get(r, "security")?,
        username: rows::get(r, "username")?,
        folders: serde_json::from_str(&folders).unwrap_or_default(),
        start_date: rows::opt_time(r, "start_date")?,
        is_active: rows::get(r, "is_active")?,
        status: rows::get(r, "status")?,
        last_error: rows::get(r, "last_error")?,
        last_sync_at: rows::opt_time(r, "last_sync_at")?,
        folder_states,
        created_at: rows::time(r, "created_at")?,
        updated_at: rows::time(r, "updated_at")?,
    })
}

impl Engine<Db> {
    async fn folder_states(&self, company: Uuid, account: Uuid) -> StoreResult<Vec<MailFolderState>> {
        let rows = sqlx::query(
            "SELECT folder, uidvalidity, last_uid, updated_at FROM mail_folder_states WHERE company_id = $1 AND account_id = $2 ORDER BY folder",
        )
        .bind(company)
        .bind(account)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MailFolderState {
                    folder: rows::get(r, "folder")?,
                    uidvalidity: rows::get(r, "uidvalidity")?,
                    last_uid: rows::get(r, "last_uid")?,
                    updated_at: rows::time(r, "updated_at")?,
                })
            })
            .collect()
    }

    /// Creates account `id` from a complete, checked input (the password sealed for that id).
    pub(crate) async fn create_mail_account(&self, scope: &Scope, id: Uuid, i: &MailAccountInput, sealed_password: &str) -> StoreResult<MailAccount> {
        let now = DbTime::from(time_fmt::now());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mail_accounts (company_id, id, name, host, port, security, username, sealed_password, folders, start_date, \
             is_active, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $12)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(i.name.clone().unwrap_or_default())
        .bind(i.host.clone().unwrap_or_default())
        .bind(i.port.unwrap_or(993))
        .bind(i.security.clone().unwrap_or_else(|| "tls".into()))
        .bind(i.username.clone().unwrap_or_default())
        .bind(sealed_password)
        .bind(serde_json::to_string(&i.folders.clone().unwrap_or_default()).unwrap_or_else(|_| "[]".into()))
        .bind(DbTime::opt(i.start_date.flatten()))
        .bind(i.is_active.unwrap_or(true))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "create", "mail_account", Some(id), json!({"host": i.host, "username": i.username})).await?;
        tx.commit().await?;
        self.get_mail_account(scope, id).await
    }

    pub(crate) async fn get_mail_account(&self, scope: &Scope, id: Uuid) -> StoreResult<MailAccount> {
        let sql = format!("SELECT {COLUMNS} FROM mail_accounts WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        account(&row, self.folder_states(scope.company_id(), id).await?)
    }

    pub(crate) async fn list_mail_accounts(&self, scope: &Scope) -> StoreResult<Vec<MailAccount>> {
        let sql = format!("SELECT {COLUMNS} FROM mail_accounts WHERE company_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: Uuid = rows::get(r, "id")?;
            out.push(account(r, self.folder_states(scope.company_id(), id).await?)?);
        }
        Ok(out)
    }

    /// Applies the given fields (a new password only when `sealed_password` is given).
    pub(crate) async fn update_mail_account(&self, scope: &Scope, id: Uuid, i: &MailAccountInput, sealed_password: Option<&str>) -> StoreResult<MailAccount> {
        let b = self.get_mail_account(scope, id).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE mail_accounts SET name = $1, host = $2, port = $3, security = $4, username = $5, \
             sealed_password = COALESCE($6, sealed_password), folders = $7, start_date = $8, is_active = $9, \
             status = CASE WHEN $9 THEN status ELSE 'paused' END, updated_at = $10 WHERE company_id = $11 AND id = $12",
        )
        .bind(i.name.clone().unwrap_or(b.name))
        .bind(i.host.clone().unwrap_or(b.host))
        .bind(i.port.unwrap_or(b.port))
        .bind(i.security.clone().unwrap_or(b.security))
        .bind(i.username.clone().unwrap_or(b.username))
        .bind(sealed_password)
        .bind(serde_json::to_string(&i.folders.clone().unwrap_or(b.folders)).unwrap_or_else(|_| "[]".into()))
        .bind(DbTime::opt(i.start_date.unwrap_or(b.start_date)))
        .bind(i.is_active.unwrap_or(b.is_active))
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "update", "mail_account", Some(id), json!({"password_changed": sealed_password.is_some(), "is_active": i.is_active})).await?;
        tx.commit().await?;
        self.get_mail_account(scope, id).await
    }

    pub(crate) async fn delete_mail_account(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM mail_folder_states WHERE company_id = $1 AND account_id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM mail_accounts WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "delete", "mail_account", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every active account of every company: `(company, account, last change)`.
    pub(crate) async fn active_mail_accounts(&self) -> StoreResult<Vec<(Uuid, Uuid, OffsetDateTime)>> {
        let rows = sqlx::query("SELECT company_id, id, updated_at FROM mail_accounts WHERE is_active")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok((rows::get(r, "company_id")?, rows::get(r, "id")?, rows::time(r, "updated_at")?))).collect()
    }

    /// An account with its sealed password, for the sync.
    pub(crate) async fn mail_account_for_sync(&self, company: Uuid, id: Uuid) -> StoreResult<Option<(MailAccount, String)>> {
        let sql = format!("SELECT {COLUMNS}, sealed_password FROM mail_accounts WHERE company_id = $1 AND id = $2");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company).bind(id).fetch_optional(&self.read).await? else {
            return Ok(None);
        };
        let sealed: String = rows::get(&row, "sealed_password")?;
        Ok(Some((account(&row, self.folder_states(company, id).await?)?, sealed)))
    }

    pub(crate) async fn set_mail_account_status(&self, company: Uuid, id: Uuid, status: &str, error: Option<&str>, synced: bool) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let now = DbTime::from(time_fmt::now());
        sqlx::query(
            "UPDATE mail_accounts SET status = $1, last_error = $2, last_sync_at = CASE WHEN $3 THEN $4 ELSE last_sync_at END \
             WHERE company_id = $5 AND id = $6",
        )
        .bind(status)
        .bind(error.map(|e| e.chars().take(1000).collect::<String>()))
        .bind(synced)
        .bind(now)
        .bind(company)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn set_mail_folder_state(&self, company: Uuid, account: Uuid, folder: &str, uidvalidity: i64, last_uid: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mail_folder_states (company_id, account_id, folder, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (company_id, account_id, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        )
        .bind(company)
        .bind(account)
        .bind(folder)
        .bind(uidvalidity)
        .bind(last_uid)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
