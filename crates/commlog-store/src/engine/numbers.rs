//! Phone numbers for caller-ID matching: the company's own numbers (never matched as a
//! customer) and the numbers users taught Commlog by linking an unmatched call to a customer.

use super::audit;
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::time_fmt;
use serde_json::json;
use uuid::Uuid;

/// How many own numbers a company may list.
pub(crate) const MAX_OWN_NUMBERS: usize = 1000;

impl Engine<Db> {
    pub(crate) async fn own_numbers(&self, scope: &Scope) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT phone FROM company_own_numbers WHERE company_id = $1 ORDER BY phone")
            .bind(scope.company_id())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| rows::get(r, "phone")).collect()
    }

    /// Replaces the company's own numbers (already normalised to E.164).
    pub(crate) async fn set_own_numbers(&self, scope: &Scope, numbers: &[String]) -> StoreResult<Vec<String>> {
        if numbers.len() > MAX_OWN_NUMBERS {
            return Err(StoreError::invalid("numbers", "too_many", format!("at most {MAX_OWN_NUMBERS} numbers")));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM company_own_numbers WHERE company_id = $1")
            .bind(scope.company_id())
            .execute(&mut *tx)
            .await?;
        let now = DbTime::from(time_fmt::now());
        for n in numbers {
            sqlx::query("INSERT INTO company_own_numbers (company_id, phone, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(scope.company_id())
                .bind(n)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(&mut tx, scope, "update", "own_numbers", None, json!({"count": numbers.len()})).await?;
        tx.commit().await?;
        self.own_numbers(scope).await
    }

    /// Remembers that `phone` belongs to a customer (or one of its contacts), so the next call
    /// from it matches. A contact gets the number among its phones; a customer without a
    /// contact gets it as a linked number, replacing any earlier link of that number.
    pub(crate) async fn remember_number(&self, scope: &Scope, phone: &str, customer_id: Uuid, contact_id: Option<Uuid>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let now = DbTime::from(time_fmt::now());
        if let Some(contact) = contact_id {
            sqlx::query("INSERT INTO contact_phones (company_id, contact_id, phone) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(scope.company_id())
                .bind(contact)
                .bind(phone)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO customer_numbers (company_id, phone, customer_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (company_id, phone) DO UPDATE SET customer_id = excluded.customer_id, created_at = excluded.created_at",
            )
            .bind(scope.company_id())
            .bind(phone)
            .bind(customer_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(&mut tx, scope, "link_number", "customer", Some(customer_id), json!({"contact_id": contact_id})).await?;
        tx.commit().await?;
        Ok(())
    }
}
