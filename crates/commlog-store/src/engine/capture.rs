//! Capture: a channel's webhook settings, the ledger of captured provider events, and what
//! processing them needs (threads, message delivery states). An event is recorded once per
//! provider dedupe key — with the job that processes it — in one transaction before it is
//! acknowledged; the job marks it processed once it has become a log, so a delivery that failed
//! half-way is processed again.

use super::audit;
use super::jobs;
use super::{Db, field_crypto, rows};
use crate::store::{CaptureRecord, CapturedEvent, NewCaptureEvent, WebhookChannel};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::{new_id, time_fmt};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// The job kind that turns a captured event into a log.
pub(crate) const CAPTURE_JOB: &str = "capture";

/// The most events of one call or thread that processing folds together.
const MAX_SUBJECT_EVENTS: i64 = 64;

impl Engine<Db> {
    pub(crate) async fn set_channel_webhook(
        &self,
        scope: &Scope,
        channel_id: Uuid,
        provider: &str,
        sealed_secret: &str,
        settings: &serde_json::Value,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE crm_channel_configurations SET provider = $1, webhook_secret = $2, integration_settings = $3, updated_at = $4 \
             WHERE company_id = $5 AND id = $6",
        )
        .bind(provider)
        .bind(sealed_secret)
        .bind(settings.to_string())
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(channel_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit::record(&mut tx, scope, "webhook_configured", "channel_configuration", Some(channel_id), json!({"provider": provider, "settings": settings})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The channel a webhook names, whichever company owns it (the webhook's signature then
    /// proves the caller knows that company's secret).
    pub(crate) async fn webhook_channel(&self, channel_id: Uuid) -> StoreResult<Option<WebhookChannel>> {
        let row = sqlx::query(
            "SELECT id, company_id, channel_code, is_active, provider, webhook_secret, integration_settings, record_calls \
             FROM crm_channel_configurations WHERE id = $1",
        )
        .bind(channel_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            let settings: Option<String> = rows::get(&r, "integration_settings")?;
            Ok(WebhookChannel {
                id: rows::get(&r, "id")?,
                company_id: rows::get(&r, "company_id")?,
                channel_code: rows::get(&r, "channel_code")?,
                is_active: rows::get(&r, "is_active")?,
                provider: rows::get(&r, "provider")?,
                sealed_secret: rows::get(&r, "webhook_secret")?,
                settings: settings.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(serde_json::Value::Null),
                record_calls: rows::get(&r, "record_calls")?,
            })
        })
        .transpose()
    }

    /// Stores an event once per `(provider, dedupe_key)`, queueing its processing job with it.
    pub(crate) async fn record_capture_event(&self, e: &NewCaptureEvent) -> StoreResult<CaptureRecord> {
        let mut tx = self.begin_write().await?;
        let id = new_id();
        // Raw payloads and normalised events hold what customers said and their numbers.
        let payload = field_crypto::seal_company_text(&mut tx, e.company_id, &e.payload, &format!("capture_event:{id}:payload")).await?;
        let event = match &e.event {
            Some(ev) => Some(field_crypto::seal_company_text(&mut tx, e.company_id, ev, &format!("capture_event:{id}:event")).await?),
            None => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO capture_events (company_id, id, channel_id, provider, kind, dedupe_key, subject, received_at, payload, event) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (company_id, provider, dedupe_key) DO NOTHING",
        )
        .bind(e.company_id)
        .bind(id)
        .bind(e.channel_id)
        .bind(&e.provider)
        .bind(&e.kind)
        .bind(&e.dedupe_key)
        .bind(&e.subject)
        .bind(DbTime::from(time_fmt::now()))
        .bind(&payload)
        .bind(&event)
        .execute(&mut *tx)
        .await?;
        let record = if inserted.rows_affected() == 1 {
            // Events of one subject are processed in order; the runner reads `serial` for that.
            let serial = format!("{}:{}", e.provider, e.subject.as_deref().unwrap_or(&id.to_string()));
            jobs::enqueue(&mut tx, e.company_id, CAPTURE_JOB, None, &json!({"capture_event_id": id, "serial": serial})).await?;
            CaptureRecord { id, new: true, processed: false }
        } else {
            let r = sqlx::query("SELECT id, processed_at FROM capture_events WHERE company_id = $1 AND provider = $2 AND dedupe_key = $3")
                .bind(e.company_id)
                .bind(&e.provider)
                .bind(&e.dedupe_key)
                .fetch_one(&mut *tx)
                .await?;
            CaptureRecord { id: r.try_get("id")?, new: false, processed: rows::opt_time(&r, "processed_at")?.is_some() }
        };
        tx.commit().await?;
        Ok(record)
    }

    pub(crate) async fn capture_event(&self, company_id: Uuid, id: Uuid) -> StoreResult<CapturedEvent> {
        let r = sqlx::query(
            "SELECT id, channel_id, provider, kind, subject, event, processed_at, communication_log_id FROM capture_events \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(company_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut conn = self.read.acquire().await?;
        let sealed = rows::get::<Option<String>>(&r, "event")?.unwrap_or_default();
        let event = field_crypto::open_company_text(&mut conn, company_id, &sealed, &format!("capture_event:{id}:event")).await?;
        Ok(CapturedEvent {
            id: rows::get(&r, "id")?,
            company_id,
            channel_id: rows::get(&r, "channel_id")?,
            provider: rows::get(&r, "provider")?,
            kind: rows::get(&r, "kind")?,
            subject: rows::get(&r, "subject")?,
            event,
            processed: rows::opt_time(&r, "processed_at")?.is_some(),
            communication_log_id: rows::get(&r, "communication_log_id")?,
        })
    }

    /// The normalised events of one subject (a call, a message) in arrival order.
    pub(crate) async fn subject_events(&self, company_id: Uuid, provider: &str, kind: &str, subject: &str) -> StoreResult<Vec<String>> {
        let mut conn = self.read.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, event FROM capture_events WHERE company_id = $1 AND provider = $2 AND kind = $3 AND subject = $4 \
             AND event IS NOT NULL ORDER BY received_at, id LIMIT $5",
        )
        .bind(company_id)
        .bind(provider)
        .bind(kind)
        .bind(subject)
        .bind(MAX_SUBJECT_EVENTS)
        .fetch_all(&mut *conn)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: Uuid = rows::get(r, "id")?;
            let sealed: String = rows::get(r, "event")?;
            events.push(field_crypto::open_company_text(&mut conn, company_id, &sealed, &format!("capture_event:{id}:event")).await?);
        }
        Ok(events)
    }

    /// Marks an event processed, with the log it became (if any) and what happened.
    pub(crate) async fn finish_capture(&self, company_id: Uuid, id: Uuid, log_id: Option<Uuid>, outcome: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE capture_events SET processed_at = $1, communication_log_id = $2, outcome = $3 WHERE company_id = $4 AND id = $5")
            .bind(DbTime::from(time_fmt::now()))
            .bind(log_id)
            .bind(outcome)
            .bind(company_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The thread id of a conversation at a source (a Slack thread, a WhatsApp contact, a
    /// Teams chat), made on first use.
    pub(crate) async fn conversation_thread(&self, company_id: Uuid, source: &str, thread_key: &str) -> StoreResult<Uuid> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO conversation_threads (company_id, source, thread_key, thread_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (company_id, source, thread_key) DO NOTHING",
        )
        .bind(company_id)
        .bind(source)
        .bind(thread_key)
        .bind(new_id())
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar("SELECT thread_id FROM conversation_threads WHERE company_id = $1 AND source = $2 AND thread_key = $3")
            .bind(company_id)
            .bind(source)
            .bind(thread_key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A message's delivery state (`sent`, `delivered`, `read`, `failed`) and its error.
    pub(crate) async fn message_delivery(&self, company_id: Uuid, source: &str, external_id: &str) -> StoreResult<Option<(String, Option<String>)>> {
        let row = sqlx::query("SELECT status, error FROM message_deliveries WHERE company_id = $1 AND source = $2 AND external_id = $3")
            .bind(company_id)
            .bind(source)
            .bind(external_id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((rows::get(&r, "status")?, rows::get(&r, "error")?))).transpose()
    }

    pub(crate) async fn set_message_delivery(&self, company_id: Uuid, source: &str, external_id: &str, status: &str, error: Option<&str>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO message_deliveries (company_id, source, external_id, status, error, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (company_id, source, external_id) DO UPDATE SET status = excluded.status, error = excluded.error, updated_at = excluded.updated_at",
        )
        .bind(company_id)
        .bind(source)
        .bind(external_id)
        .bind(status)
        .bind(error)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
