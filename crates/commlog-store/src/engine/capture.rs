//! Capture: a channel's webhook settings, and the ledger of captured provider events. An event
//! is recorded once per provider dedupe key in its own transaction before it is acknowledged,
//! and marked processed once it has become a log, so a delivery that failed half-way is
//! processed again when the provider retries.

use super::audit;
use super::{Db, rows};
use crate::store::{CaptureRecord, WebhookChannel};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::{new_id, time_fmt};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

impl Engine<Db> {
    pub(crate) async fn set_channel_webhook(&self, scope: &Scope, channel_id: Uuid, provider: &str, sealed_secret: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE crm_channel_configurations SET provider = $1, webhook_secret = $2, updated_at = $3 WHERE company_id = $4 AND id = $5")
            .bind(provider)
            .bind(sealed_secret)
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "webhook_configured", "channel_configuration", Some(channel_id), json!({"provider": provider})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The channel a webhook names, whichever company owns it (the webhook's signature then
    /// proves the caller knows that company's secret).
    pub(crate) async fn webhook_channel(&self, channel_id: Uuid) -> StoreResult<Option<WebhookChannel>> {
        let row = sqlx::query(
            "SELECT company_id, channel_code, is_active, provider, webhook_secret FROM crm_channel_configurations WHERE id = $1",
        )
        .bind(channel_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(WebhookChannel {
                company_id: rows::get(&r, "company_id")?,
                channel_code: rows::get(&r, "channel_code")?,
                is_active: rows::get(&r, "is_active")?,
                provider: rows::get(&r, "provider")?,
                sealed_secret: rows::get(&r, "webhook_secret")?,
            })
        })
        .transpose()
    }

    pub(crate) async fn record_capture_event(
        &self,
        company_id: Uuid,
        channel_id: Uuid,
        provider: &str,
        dedupe_key: &str,
        payload: &str,
    ) -> StoreResult<CaptureRecord> {
        let mut tx = self.begin_write().await?;
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO capture_events (company_id, id, channel_id, provider, dedupe_key, received_at, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (company_id, provider, dedupe_key) DO NOTHING",
        )
        .bind(company_id)
        .bind(id)
        .bind(channel_id)
        .bind(provider)
        .bind(dedupe_key)
        .bind(DbTime::from(time_fmt::now()))
        .bind(payload)
        .execute(&mut *tx)
        .await?;
        let record = if inserted.rows_affected() == 1 {
            CaptureRecord { id, new: true, processed: false }
        } else {
            let r = sqlx::query("SELECT id, processed_at FROM capture_events WHERE company_id = $1 AND provider = $2 AND dedupe_key = $3")
                .bind(company_id)
                .bind(provider)
                .bind(dedupe_key)
                .fetch_one(&mut *tx)
                .await?;
            CaptureRecord { id: r.try_get("id")?, new: false, processed: rows::opt_time(&r, "processed_at")?.is_some() }
        };
        tx.commit().await?;
        Ok(record)
    }

    pub(crate) async fn mark_capture_processed(&self, company_id: Uuid, id: Uuid, log_id: Uuid) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE capture_events SET processed_at = $1, communication_log_id = $2 WHERE company_id = $3 AND id = $4")
            .bind(DbTime::from(time_fmt::now()))
            .bind(log_id)
            .bind(company_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
