//! Companies, users and teams: the tenant, who works in it, and how they are grouped.

use super::audit::{self, Tx};
use super::{Db, rows};
use crate::store::{CreatedCompany, LoginUser, NewCompany, NewUserRecord};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::filters::UserFilter;
use commlog_domain::records::*;
use commlog_domain::{ChannelType, Priority, Role, new_id, time_fmt};
use serde_json::json;
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

/// The channels every new company starts with: (code, name, type).
const DEFAULT_CHANNELS: &[(&str, &str, ChannelType)] = &[
    ("phone", "Phone", ChannelType::Phone),
    ("email", "Email", ChannelType::Email),
    ("sms", "SMS", ChannelType::Sms),
    ("chat", "Web chat", ChannelType::Chat),
    ("slack", "Slack", ChannelType::Messaging),
    ("teams", "Microsoft Teams", ChannelType::Messaging),
    ("whatsapp", "WhatsApp Business", ChannelType::Messaging),
    ("web", "Web form", ChannelType::Web),
];

/// The categories every new company starts with: (code, name, default priority).
const DEFAULT_CATEGORIES: &[(&str, &str, Priority)] = &[
    ("general", "General", Priority::Normal),
    ("sales", "Sales", Priority::Normal),
    ("support", "Support", Priority::Normal),
    ("billing", "Billing", Priority::Normal),
    ("renewal", "Renewal", Priority::High),
    ("complaint", "Complaint", Priority::High),
];

impl Engine<Db> {
    pub(crate) async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub(crate) async fn count_companies(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM companies")
            .fetch_one(&self.read)
            .await?)
    }

    pub(crate) async fn create_company(&self, new: &NewCompany) -> StoreResult<CreatedCompany> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "name",
                "invalid_length",
                "company name must be 1 to 200 characters",
            ));
        }
        let now = DbTime::from(time_fmt::now());
        let company_id = new_id();
        let user_id = new_id();
        let mut tx = self.begin_write().await?;
        super::dialect::set_tx_tenant(&mut tx, company_id).await?;
        sqlx::query("INSERT INTO companies (id, name, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(company_id)
            .bind(name)
            .bind(&new.timezone)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_user(
            &mut tx,
            company_id,
            user_id,
            &NewUserRecord {
                email: new.admin_email.clone(),
                full_name: new.admin_full_name.clone(),
                password_hash: new.admin_password_hash.clone(),
                role: Role::Admin,
                team_id: None,
                capacity: 50,
                is_compliance: false,
            },
        )
        .await?;
        for (i, (code, cname, ctype)) in DEFAULT_CHANNELS.iter().enumerate() {
            sqlx::query(
                "INSERT INTO crm_channel_configurations (company_id, id, channel_name, channel_code, channel_type, is_active, is_default, \
                 sentiment_analysis, auto_categorization, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, TRUE, TRUE, $7, $7)",
            )
            .bind(company_id)
            .bind(new_id())
            .bind(*cname)
            .bind(*code)
            .bind(ctype.as_str())
            .bind(i == 0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for (i, (code, cname, prio)) in DEFAULT_CATEGORIES.iter().enumerate() {
            sqlx::query(
                "INSERT INTO crm_communication_categories (company_id, id, category_name, category_code, is_active, is_default, \
                 default_priority, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $6, $7, $7)",
            )
            .bind(company_id)
            .bind(new_id())
            .bind(*cname)
            .bind(*code)
            .bind(i == 0)
            .bind(prio.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let scope = Scope::admin(company_id, user_id);
        audit::record(
            &mut tx,
            &scope,
            "create",
            "company",
            Some(company_id),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedCompany {
            company_id,
            user_id,
        })
    }

    pub(crate) async fn get_company(&self, scope: &Scope) -> StoreResult<Company> {
        let row = sqlx::query("SELECT id, name, timezone, default_country_code, mfa_required_roles, created_at FROM companies WHERE id = $1")
            .bind(scope.company_id())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        rows::company(&row)
    }

    /// Moves the company to another IANA time zone. Reports bucket days in it from then on;
    /// nothing stored needs recomputing (the rollup keeps UTC hours).
    pub(crate) async fn set_company_timezone(&self, scope: &Scope, timezone: &str) -> StoreResult<Company> {
        let timezone = timezone.trim();
        if commlog_domain::buckets::parse_zone(timezone).is_none() {
            return Err(StoreError::invalid("timezone", "unknown_timezone", "an IANA time zone such as Europe/Berlin"));
        }
        let before = self.get_company(scope).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE companies SET timezone = $1, updated_at = $2 WHERE id = $3")
            .bind(timezone)
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .execute(&mut *tx)
            .await?;
        let changes = json!({"timezone": {"from": before.timezone, "to": timezone}});
        audit::record(&mut tx, scope, "update", "company", Some(scope.company_id()), changes).await?;
        tx.commit().await?;
        self.get_company(scope).await
    }

    pub(crate) async fn login_user(&self, email: &str) -> StoreResult<Option<LoginUser>> {
        let sql = format!(
            "SELECT {}, password_hash, failed_logins, locked_until, mfa_enabled, mfa_secret FROM users WHERE email = $1",
            rows::USER_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(LoginUser {
                user: rows::user(&r)?,
                password_hash: rows::get(&r, "password_hash")?,
                failed_logins: rows::get(&r, "failed_logins")?,
                locked_until: rows::opt_time(&r, "locked_until")?,
                mfa_enabled: rows::get(&r, "mfa_enabled")?,
                mfa_secret: rows::get(&r, "mfa_secret")?,
            })
        })
        .transpose()
    }

    pub(crate) async fn get_active_user(
        &self,
        company_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE company_id = $1 AND id = $2 AND is_active",
            rows::USER_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(user_id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    pub(crate) async fn create_user(
        &self,
        scope: &Scope,
        new: &NewUserRecord,
    ) -> StoreResult<User> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        if let Some(team) = new.team_id {
            ensure_team(&mut tx, scope, team).await?;
        }
        insert_user(&mut tx, scope.company_id(), id, new).await?;
        audit::record(
            &mut tx,
            scope,
            "create",
            "user",
            Some(id),
            json!({"role": new.role, "team_id": new.team_id}),
        )
        .await?;
        tx.commit().await?;
        self.get_user(scope, id).await
    }

    pub(crate) async fn get_user(&self, scope: &Scope, id: Uuid) -> StoreResult<User> {
        let sql = format!(
            "SELECT {} FROM users WHERE company_id = $1 AND id = $2",
            rows::USER_COLUMNS
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(scope.company_id())
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        rows::user(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn list_users(&self, scope: &Scope, f: &UserFilter) -> StoreResult<Vec<User>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {} FROM users WHERE company_id = ",
            rows::USER_COLUMNS
        ));
        qb.push_bind(scope.company_id());
        if let Some(r) = f.role {
            qb.push(" AND role = ").push_bind(r.as_str());
        }
        if let Some(t) = f.team_id {
            qb.push(" AND team_id = ").push_bind(t);
        }
        if let Some(a) = f.is_active {
            qb.push(" AND is_active = ").push_bind(a);
        }
        qb.push(" ORDER BY full_name, id LIMIT 1000");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::user).collect()
    }

    pub(crate) async fn update_user(
        &self,
        scope: &Scope,
        id: Uuid,
        p: &UserPatch,
    ) -> StoreResult<User> {
        let before = self.get_user(scope, id).await?;
        if let Some(c) = p.capacity
            && !(0..=100_000).contains(&c)
        {
            return Err(StoreError::invalid(
                "capacity",
                "out_of_range",
                "capacity must be between 0 and 100000",
            ));
        }
        let full_name = match &p.full_name {
            Some(n) => check_name("full_name", n)?,
            None => before.full_name.clone(),
        };
        let demoted = before.role == Role::Admin && p.role.is_some_and(|r| r != Role::Admin);
        let deactivated = before.is_active && p.is_active == Some(false);
        if deactivated && id == scope.user_id() {
            return Err(StoreError::Refused {
                code: "cannot_deactivate_self",
                message: "you cannot deactivate your own account".into(),
            });
        }
        let mut tx = self.begin_write().await?;
        if before.role == Role::Admin && before.is_active && (demoted || deactivated) {
            let others: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE company_id = $1 AND role = 'admin' AND is_active AND id <> $2")
                .bind(scope.company_id())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if others == 0 {
                return Err(StoreError::Refused {
                    code: "last_admin",
                    message: "the company must keep at least one active admin; make someone else admin first".into(),
                });
            }
        }
        let team_id = p.team_id.unwrap_or(before.team_id);
        if let Some(t) = team_id {
            ensure_team(&mut tx, scope, t).await?;
        }
        sqlx::query(
            "UPDATE users SET full_name = $1, role = $2, team_id = $3, capacity = $4, is_active = $5, is_compliance = $6, updated_at = $7 \
             WHERE company_id = $8 AND id = $9",
        )
        .bind(&full_name)
        .bind(p.role.unwrap_or(before.role).as_str())
        .bind(team_id)
        .bind(p.capacity.unwrap_or(before.capacity))
        .bind(p.is_active.unwrap_or(before.is_active))
        .bind(p.is_compliance.unwrap_or(before.is_compliance))
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changes = json!({"role": p.role, "team_id": p.team_id, "capacity": p.capacity, "is_active": p.is_active, "is_compliance": p.is_compliance});
        audit::record(&mut tx, scope, "update", "user", Some(id), changes).await?;
        tx.commit().await?;
        self.get_user(scope, id).await
    }

    pub(crate) async fn set_user_password(
        &self,
        scope: &Scope,
        id: Uuid,
        hash: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE company_id = $3 AND id = $4")
            .bind(hash)
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(
            &mut tx,
            scope,
            "password_change",
            "user",
            Some(id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn create_team(&self, scope: &Scope, input: &TeamInput) -> StoreResult<Team> {
        let name = check_name("name", input.name.as_deref().unwrap_or(""))?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO teams (company_id, id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(scope.company_id())
            .bind(id)
            .bind(&name)
            .bind(input.description.clone().flatten())
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "create",
            "team",
            Some(id),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        self.get_team(scope, id).await
    }

    pub(crate) async fn get_team(&self, scope: &Scope, id: Uuid) -> StoreResult<Team> {
        let row = sqlx::query("SELECT id, company_id, name, description, created_at FROM teams WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        rows::team(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn list_teams(&self, scope: &Scope) -> StoreResult<Vec<Team>> {
        let rows = sqlx::query("SELECT id, company_id, name, description, created_at FROM teams WHERE company_id = $1 ORDER BY name")
            .bind(scope.company_id())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(rows::team).collect()
    }

    pub(crate) async fn update_team(
        &self,
        scope: &Scope,
        id: Uuid,
        input: &TeamInput,
    ) -> StoreResult<Team> {
        let before = self.get_team(scope, id).await?;
        let name = match &input.name {
            Some(n) => check_name("name", n)?,
            None => before.name,
        };
        let description = input.description.clone().unwrap_or(before.description);
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE teams SET name = $1, description = $2, updated_at = $3 WHERE company_id = $4 AND id = $5")
            .bind(&name)
            .bind(description)
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            scope,
            "update",
            "team",
            Some(id),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        self.get_team(scope, id).await
    }

    pub(crate) async fn delete_team(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        self.get_team(scope, id).await?;
        let mut tx = self.begin_write().await?;
        let members: i64 =
            sqlx::query_scalar("SELECT count(*) FROM users WHERE company_id = $1 AND team_id = $2")
                .bind(scope.company_id())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let logs: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM crm_communication_logs WHERE company_id = $1 AND team_id = $2",
        )
        .bind(scope.company_id())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if members > 0 || logs > 0 {
            return Err(StoreError::Refused {
                code: "team_in_use",
                message: format!(
                    "the team still has {members} member(s) and {logs} log(s); move them first"
                ),
            });
        }
        sqlx::query("DELETE FROM teams WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, scope, "delete", "team", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_user(
    tx: &mut Tx,
    company_id: Uuid,
    id: Uuid,
    new: &NewUserRecord,
) -> StoreResult<()> {
    let email = commlog_domain::validation::normalize_email(&new.email).ok_or_else(|| {
        StoreError::invalid("email", "invalid_email", "not a valid email address")
    })?;
    let full_name = if new.full_name.trim().is_empty() {
        email.clone()
    } else {
        check_name("full_name", &new.full_name)?
    };
    if !(0..=100_000).contains(&new.capacity) {
        return Err(StoreError::invalid(
            "capacity",
            "out_of_range",
            "capacity must be between 0 and 100000",
        ));
    }
    let now = DbTime::from(time_fmt::now());
    let result = sqlx::query(
        "INSERT INTO users (company_id, id, email, full_name, password_hash, role, team_id, capacity, is_active, is_compliance, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10, $10)",
    )
    .bind(company_id)
    .bind(id)
    .bind(&email)
    .bind(&full_name)
    .bind(&new.password_hash)
    .bind(new.role.as_str())
    .bind(new.team_id)
    .bind(new.capacity)
    .bind(new.is_compliance)
    .bind(now)
    .execute(&mut **tx)
    .await;
    match result {
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict { .. } => Err(StoreError::Conflict {
                constraint: "users_email_key".into(),
                message: "a user with this email already exists".into(),
            }),
            other => Err(other),
        },
        Ok(_) => Ok(()),
    }
}

async fn ensure_team(tx: &mut Tx, scope: &Scope, team_id: Uuid) -> StoreResult<()> {
    let found: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM teams WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(team_id)
            .fetch_optional(&mut **tx)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        StoreError::invalid("team_id", "unknown_team", "no such team in this company")
    })
}

/// Trims a display name and checks its length.
pub(super) fn check_name(field: &str, name: &str) -> StoreResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 {
        return Err(StoreError::invalid(
            field,
            "invalid_length",
            format!("{field} must be 1 to 200 characters"),
        ));
    }
    // PostgreSQL text cannot hold NUL: refusing it here keeps both engines alike.
    if n.contains('\0') {
        return Err(StoreError::invalid(
            field,
            "nul_character",
            format!("{field} must not contain NUL characters"),
        ));
    }
    Ok(n.to_owned())
}
