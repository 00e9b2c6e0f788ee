//! What automatic processing reads besides the log: the company's escalation rules, the texts
//! that teach auto-categorisation (examples and people's corrections), the names of people the
//! company knows (for PII detection) — and the sweep that marks follow-ups overdue.

use super::audit::{self, Tx};
use super::companies::check_name;
use super::{Db, field_crypto, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::processing::{CategoryExample, EscalationRuleRecord};
use commlog_domain::{new_id, time_fmt};
use serde_json::{Value, json};
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

const RULE_COLUMNS: &str = "id, name, rule, is_active, created_at, updated_at";
const EXAMPLE_COLUMNS: &str = "id, category_id, text, origin, communication_log_id, created_at";
/// Longest example text kept (longer ones are cut): examples teach, they are not archives.
const MAX_EXAMPLE_CHARS: usize = 2000;

fn rule(r: &super::rows::Row) -> StoreResult<EscalationRuleRecord> {
    Ok(EscalationRuleRecord {
        id: rows::get(r, "id")?,
        name: rows::get(r, "name")?,
        rule: rows::get::<Json<Value>>(r, "rule")?.0,
        is_active: rows::get(r, "is_active")?,
        created_at: rows::time(r, "created_at")?,
        updated_at: rows::time(r, "updated_at")?,
    })
}

/// What an example's sealed text is bound to.
fn example_aad(id: Uuid) -> String {
    format!("category_example:{id}")
}

fn example(r: &super::rows::Row) -> StoreResult<CategoryExample> {
    Ok(CategoryExample {
        id: rows::get(r, "id")?,
        category_id: rows::get(r, "category_id")?,
        text: rows::get(r, "text")?,
        origin: rows::get(r, "origin")?,
        communication_log_id: rows::get(r, "communication_log_id")?,
        created_at: rows::time(r, "created_at")?,
    })
}

/// Keeps a person's change of an automatically chosen category as an example of the
/// categories they chose, so the next logs like it are categorised their way.
pub(super) async fn record_correction(tx: &mut Tx, company_id: Uuid, log_id: Uuid, text: &str, chosen: &[Uuid]) -> StoreResult<()> {
    let text: String = text.chars().take(MAX_EXAMPLE_CHARS).collect();
    for category in chosen {
        // A correction copies a customer's words: sealed like the log they come from.
        let id = new_id();
        let stored = field_crypto::seal_company_text(tx, company_id, &text, &example_aad(id)).await?;
        sqlx::query(
            "INSERT INTO category_examples (company_id, id, category_id, text, origin, communication_log_id, created_at) VALUES ($1, $2, $3, $4, 'correction', $5, $6)",
        )
        .bind(company_id)
        .bind(id)
        .bind(category)
        .bind(&stored)
        .bind(log_id)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Engine<Db> {
    pub(crate) async fn list_escalation_rules(&self, scope: &Scope) -> StoreResult<Vec<EscalationRuleRecord>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM escalation_rules WHERE company_id = $1 ORDER BY name");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).fetch_all(&self.read).await?.iter().map(rule).collect()
    }

    /// Creates a rule (`id` None) or replaces one; the server has checked the rule's body.
    pub(crate) async fn save_escalation_rule(&self, scope: &Scope, id: Option<Uuid>, name: &str, body: &Value, is_active: bool) -> StoreResult<EscalationRuleRecord> {
        let name = check_name("name", name)?;
        let now = DbTime::from(time_fmt::now());
        let mut tx = self.begin_write().await?;
        let rule_id = id.unwrap_or_else(new_id);
        let done = match id {
            None => sqlx::query("INSERT INTO escalation_rules (company_id, id, name, rule, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
                .bind(scope.company_id()).bind(rule_id).bind(&name).bind(Json(body)).bind(is_active).bind(now)
                .execute(&mut *tx).await?,
            Some(_) => sqlx::query("UPDATE escalation_rules SET name = $1, rule = $2, is_active = $3, updated_at = $4 WHERE company_id = $5 AND id = $6")
                .bind(&name).bind(Json(body)).bind(is_active).bind(now).bind(scope.company_id()).bind(rule_id)
                .execute(&mut *tx).await?,
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if id.is_some() { "update" } else { "create" };
        audit::record(&mut tx, scope, action, "escalation_rule", Some(rule_id), json!({"name": name, "rule": body, "is_active": is_active})).await?;
        let sql = format!("SELECT {RULE_COLUMNS} FROM escalation_rules WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).bind(rule_id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        rule(&row)
    }

    pub(crate) async fn delete_escalation_rule(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM escalation_rules WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "delete", "escalation_rule", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The examples of a company's categories (of one category when given), newest first.
    pub(crate) async fn list_category_examples(&self, scope: &Scope, category: Option<Uuid>) -> StoreResult<Vec<CategoryExample>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!("SELECT {EXAMPLE_COLUMNS} FROM category_examples WHERE company_id = "));
        qb.push_bind(scope.company_id());
        if let Some(c) = category {
            qb.push(" AND category_id = ").push_bind(c);
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT 5000");
        let mut conn = self.read.acquire().await?;
        let mut out = qb.build().fetch_all(&mut *conn).await?.iter().map(example).collect::<StoreResult<Vec<_>>>()?;
        for e in &mut out {
            e.text = field_crypto::open_company_text(&mut conn, scope.company_id(), &e.text, &example_aad(e.id)).await?;
        }
        Ok(out)
    }

    /// Adds an administrator's example text to a category of the company.
    pub(crate) async fn add_category_example(&self, scope: &Scope, category: Uuid, text: &str) -> StoreResult<CategoryExample> {
        let text = text.trim();
        if text.chars().count() < 3 {
            return Err(StoreError::invalid("text", "too_short", "an example needs at least 3 characters"));
        }
        let text: String = text.chars().take(MAX_EXAMPLE_CHARS).collect();
        let mut tx = self.begin_write().await?;
        let exists: Option<Uuid> = sqlx::query_scalar("SELECT id FROM crm_communication_categories WHERE company_id = $1 AND id = $2")
            .bind(scope.company_id())
            .bind(category)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = new_id();
        let now = time_fmt::now();
        let stored = field_crypto::seal_company_text(&mut tx, scope.company_id(), &text, &example_aad(id)).await?;
        sqlx::query("INSERT INTO category_examples (company_id, id, category_id, text, origin, created_at) VALUES ($1, $2, $3, $4, 'example', $5)")
            .bind(scope.company_id())
            .bind(id)
            .bind(category)
            .bind(&stored)
            .bind(DbTime::from(now))
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, scope, "create", "category_example", Some(id), json!({"category_id": category})).await?;
        tx.commit().await?;
        Ok(CategoryExample { id, category_id: category, text, origin: "example".into(), communication_log_id: None, created_at: now })
    }

    /// Names of the people a company knows (its contacts and users), for PII detection.
    pub(crate) async fn known_names(&self, company_id: Uuid) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT full_name FROM contacts WHERE company_id = $1 UNION SELECT full_name FROM users WHERE company_id = $1",
        )
        .bind(company_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// Every company's id (for per-company sweeps).
    pub(crate) async fn company_ids(&self) -> StoreResult<Vec<Uuid>> {
        Ok(sqlx::query_scalar("SELECT id FROM companies ORDER BY id").fetch_all(&self.read).await?)
    }

    /// Marks a company's open follow-ups that were due before `now` as overdue, with an
    /// event per log telling whoever owns the follow-up; returns the logs it marked.
    pub(crate) async fn mark_overdue_follow_ups(&self, company_id: Uuid, now: OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        let mut tx = self.begin_write().await?;
        let due: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
            "SELECT id, follow_up_assigned_to FROM crm_communication_logs WHERE company_id = $1 AND requires_follow_up \
             AND follow_up_status IN ('pending', 'in_progress') AND follow_up_date < $2 AND NOT is_deleted ORDER BY follow_up_date LIMIT 1000",
        )
        .bind(company_id)
        .bind(DbTime::from(now))
        .fetch_all(&mut *tx)
        .await?;
        let system = Scope::admin(company_id, Uuid::nil());
        let mut marked = Vec::new();
        for (id, owner) in &due {
            // Conditional, so that two processes sweeping at once mark (and announce) each
            // follow-up once: the second finds it overdue already.
            let done = sqlx::query(
                "UPDATE crm_communication_logs SET follow_up_status = 'overdue', updated_at = $1 \
                 WHERE company_id = $2 AND id = $3 AND follow_up_status IN ('pending', 'in_progress')",
            )
            .bind(DbTime::from(now))
            .bind(company_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            audit::record(&mut tx, &system, "follow_up_overdue", "communication_log", Some(*id), json!({})).await?;
            let log = super::logs::fetch(&mut tx, &system, *id, false).await?;
            let payload = super::logs::event(&log, json!({"notify_user_ids": owner}));
            audit::emit(&mut tx, company_id, "communication.follow_up_overdue", *id, payload).await?;
            marked.push(*id);
        }
        tx.commit().await?;
        Ok(marked)
    }
}
