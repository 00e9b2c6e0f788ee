//! Sessions, sign-in lockout, MFA state and API tokens: the store side of identity. Secrets
//! never arrive here in the clear except the TOTP secret, which the server needs to check codes.

use super::audit::{self, Tx};
use super::{Db, dialect, rows};
use crate::store::{NewApiToken, NewSession, Rotation};
use crate::{DbTime, Engine, RequestMeta, Scope, StoreError, StoreResult};
use commlog_domain::records::*;
use commlog_domain::{Role, time_fmt};
use serde_json::json;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

impl Engine<Db> {
    pub(crate) async fn create_session(&self, scope: &Scope, new: &NewSession) -> StoreResult<()> {
        let now = DbTime::from(time_fmt::now());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (company_id, id, user_id, refresh_jti, mfa_passed, created_at, last_used_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)",
        )
        .bind(scope.company_id())
        .bind(new.id)
        .bind(scope.user_id())
        .bind(new.refresh_jti)
        .bind(new.mfa_passed)
        .bind(now)
        .bind(DbTime::from(new.expires_at))
        .bind(scope.meta.ip.as_deref())
        .bind(scope.meta.user_agent.as_deref())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE company_id = $2 AND id = $3")
            .bind(now)
            .bind(scope.company_id())
            .bind(scope.user_id())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "login",
            "user",
            Some(scope.user_id()),
            json!({"session_id": new.id, "mfa": new.mfa_passed}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn session_user(
        &self,
        company_id: Uuid,
        session_id: Uuid,
    ) -> StoreResult<Option<(User, bool)>> {
        let sql = format!(
            "SELECT {}, s.mfa_passed FROM sessions s JOIN users u ON u.company_id = s.company_id AND u.id = s.user_id \
             WHERE s.company_id = $1 AND s.id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND u.is_active",
            prefixed_user_columns()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(session_id)
            .bind(DbTime::from(time_fmt::now()))
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((rows::user(&r)?, rows::get(&r, "mfa_passed")?)))
            .transpose()
    }

    pub(crate) async fn rotate_session(
        &self,
        company_id: Uuid,
        session_id: Uuid,
        presented: Uuid,
        next: Uuid,
    ) -> StoreResult<Rotation> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT user_id, refresh_jti, mfa_passed FROM sessions WHERE company_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3{}",
            dialect::FOR_UPDATE
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(session_id)
            .bind(DbTime::from(time_fmt::now()))
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Rotation::Invalid);
        };
        let user_id: Uuid = row.try_get("user_id")?;
        let current: Uuid = row.try_get("refresh_jti")?;
        let mfa_passed: bool = row.try_get("mfa_passed")?;
        let scope = Scope::admin(company_id, user_id);
        if current != presented {
            revoke(&mut tx, company_id, "id", session_id, "refresh_token_reuse").await?;
            audit::record(
                &mut tx,
                &scope,
                "session_revoked",
                "session",
                Some(session_id),
                json!({"reason": "refresh_token_reuse"}),
            )
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        sqlx::query("UPDATE sessions SET refresh_jti = $1, last_used_at = $2 WHERE company_id = $3 AND id = $4")
            .bind(next)
            .bind(DbTime::from(time_fmt::now()))
            .bind(company_id)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "SELECT {} FROM users WHERE company_id = $1 AND id = $2 AND is_active",
            rows::USER_COLUMNS
        );
        let user = sqlx::query(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        match user {
            Some(u) => Ok(Rotation::Rotated {
                user: rows::user(&u)?,
                mfa_passed,
            }),
            None => Ok(Rotation::Invalid),
        }
    }

    pub(crate) async fn list_sessions(
        &self,
        scope: &Scope,
        user_id: Uuid,
    ) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {} FROM sessions WHERE company_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 200",
            rows::SESSION_COLUMNS
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(user_id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::session).collect()
    }

    pub(crate) async fn revoke_session(
        &self,
        scope: &Scope,
        user_id: Uuid,
        session_id: Uuid,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let owner: Option<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM sessions WHERE company_id = $1 AND id = $2")
                .bind(scope.company_id())
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await?;
        if owner != Some(user_id) {
            return Err(StoreError::NotFound);
        }
        revoke(&mut tx, scope.company_id(), "id", session_id, reason).await?;
        audit::record(
            &mut tx,
            scope,
            "session_revoked",
            "session",
            Some(session_id),
            json!({"reason": reason, "user_id": user_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn revoke_user_sessions(
        &self,
        scope: &Scope,
        user_id: Uuid,
        reason: &str,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = revoke(&mut tx, scope.company_id(), "user_id", user_id, reason).await?;
        audit::record(
            &mut tx,
            scope,
            "sessions_revoked",
            "user",
            Some(user_id),
            json!({"reason": reason, "sessions": n}),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    pub(crate) async fn record_failed_login(
        &self,
        company_id: Uuid,
        user_id: Uuid,
        lock_after: i32,
        lock_seconds: i64,
        meta: &RequestMeta,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let mut tx = self.begin_write().await?;
        let failed: i32 = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE company_id = $1 AND id = $2 RETURNING failed_logins",
        )
        .bind(company_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let locked_until = (failed >= lock_after).then(|| {
            // Each further failure doubles the lock, up to a day.
            let extra = u32::try_from(failed - lock_after).unwrap_or(0).min(6);
            time_fmt::now() + Duration::seconds((lock_seconds << extra).min(86_400))
        });
        if let Some(until) = locked_until {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE company_id = $2 AND id = $3")
                .bind(DbTime::from(until))
                .bind(company_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        let scope = Scope {
            actor: Scope::admin(company_id, Uuid::nil()).actor,
            meta: meta.clone(),
        };
        let changes =
            json!({"user_id": user_id, "failed_logins": failed, "locked": locked_until.is_some()});
        audit::record(
            &mut tx,
            &scope,
            "login_failed",
            "user",
            Some(user_id),
            changes,
        )
        .await?;
        tx.commit().await?;
        Ok(locked_until)
    }

    pub(crate) async fn set_mfa(
        &self,
        scope: &Scope,
        user_id: Uuid,
        secret: Option<&str>,
        enabled: bool,
        recovery: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET mfa_secret = $1, mfa_enabled = $2, mfa_recovery_codes = $3, updated_at = $4 WHERE company_id = $5 AND id = $6")
            .bind(secret)
            .bind(enabled)
            .bind(Json(recovery))
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if enabled {
            "mfa_enabled"
        } else if secret.is_some() {
            "mfa_enrolment_started"
        } else {
            "mfa_disabled"
        };
        audit::record(&mut tx, scope, action, "user", Some(user_id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn use_recovery_code(
        &self,
        company_id: Uuid,
        user_id: Uuid,
        hash: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT mfa_recovery_codes FROM users WHERE company_id = $1 AND id = $2{}",
            dialect::FOR_UPDATE
        );
        let codes: Option<Json<Vec<String>>> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let mut codes = codes.map(|c| c.0).unwrap_or_default();
        let Some(pos) = codes.iter().position(|c| c == hash) else {
            return Ok(false);
        };
        codes.remove(pos);
        sqlx::query("UPDATE users SET mfa_recovery_codes = $1 WHERE company_id = $2 AND id = $3")
            .bind(Json(&codes))
            .bind(company_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let scope = Scope::admin(company_id, user_id);
        audit::record(
            &mut tx,
            &scope,
            "mfa_recovery_code_used",
            "user",
            Some(user_id),
            json!({"remaining": codes.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn set_mfa_policy(
        &self,
        scope: &Scope,
        roles: &[Role],
    ) -> StoreResult<Company> {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE companies SET mfa_required_roles = $1, updated_at = $2 WHERE id = $3")
            .bind(Json(&names))
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "mfa_policy_changed",
            "company",
            Some(scope.company_id()),
            json!({"mfa_required_roles": names}),
        )
        .await?;
        tx.commit().await?;
        self.get_company(scope).await
    }

    pub(crate) async fn create_api_token(
        &self,
        scope: &Scope,
        new: &NewApiToken,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (company_id, id, name, token_hash, role, permissions, created_by_user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(scope.company_id())
        .bind(new.id)
        .bind(&new.name)
        .bind(&new.token_hash)
        .bind(new.role.as_str())
        .bind(Json(&new.permissions))
        .bind(scope.user_id())
        .bind(DbTime::from(time_fmt::now()))
        .bind(DbTime::opt(new.expires_at))
        .execute(&mut *tx)
        .await?;
        let changes = json!({"name": new.name, "role": new.role, "permissions": new.permissions});
        audit::record(&mut tx, scope, "create", "api_token", Some(new.id), changes).await?;
        tx.commit().await?;
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE company_id = $1 AND id = $2",
            rows::API_TOKEN_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(new.id)
            .fetch_one(&self.read)
            .await?;
        rows::api_token(&row)
    }

    pub(crate) async fn list_api_tokens(&self, scope: &Scope) -> StoreResult<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {} FROM api_tokens WHERE company_id = $1 ORDER BY created_at DESC",
            rows::API_TOKEN_COLUMNS
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.company_id())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::api_token).collect()
    }

    pub(crate) async fn revoke_api_token(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE company_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "revoke", "api_token", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn api_token_for_auth(
        &self,
        id: Uuid,
    ) -> StoreResult<Option<(Uuid, ApiToken, String)>> {
        let now = time_fmt::now();
        let sql = format!(
            "SELECT company_id, token_hash, {} FROM api_tokens WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
            rows::API_TOKEN_COLUMNS
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(DbTime::from(now))
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let company: Uuid = row.try_get("company_id")?;
        let token = rows::api_token(&row)?;
        // Recording every use would turn each API call into a write; once a minute is enough.
        if token
            .last_used_at
            .is_none_or(|t| now - t > Duration::minutes(1))
        {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE company_id = $2 AND id = $3",
            )
            .bind(DbTime::from(now))
            .bind(company)
            .bind(id)
            .execute(&self.write)
            .await?;
        }
        Ok(Some((company, token, row.try_get("token_hash")?)))
    }
}

/// `USER_COLUMNS` qualified with `u.` for joins.
fn prefixed_user_columns() -> String {
    rows::USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn revoke(
    tx: &mut Tx,
    company_id: Uuid,
    column: &str,
    value: Uuid,
    reason: &str,
) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE company_id = $3 AND {column} = $4 AND revoked_at IS NULL"
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(DbTime::from(time_fmt::now()))
        .bind(reason)
        .bind(company_id)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}
