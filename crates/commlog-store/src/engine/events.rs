//! Publishing the outbox: events written with the changes that caused them get a per-company
//! sequence number and a global publication order, after commit; server processes tail the
//! publication order to deliver them, and a client that reconnects replays its company's
//! events after the last sequence number it saw.

use super::{Db, dialect, rows};
use crate::store::{EventsStamp, PublishedEvent};
use crate::{DbTime, Engine, StoreResult};
use commlog_domain::time_fmt;
use serde_json::Value;
use sqlx::Row as _;
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

const EVENT_COLUMNS: &str = "company_id, seq, publish_order, event_type, aggregate_id, payload, created_at";

fn event(r: &rows::Row) -> StoreResult<PublishedEvent> {
    Ok(PublishedEvent {
        company_id: rows::get(r, "company_id")?,
        seq: rows::get(r, "seq")?,
        publish_order: rows::get(r, "publish_order")?,
        event_type: rows::get(r, "event_type")?,
        aggregate_id: rows::get(r, "aggregate_id")?,
        payload: rows::get::<Json<Value>>(r, "payload")?.0,
        created_at: rows::time(r, "created_at")?,
    })
}

impl Engine<Db> {
    /// Publishes up to `limit` waiting events, oldest first, and returns them numbered. The
    /// counters are advanced in the same transaction, under their row locks, so concurrent
    /// publishers never give out a number twice or leave one out.
    pub(crate) async fn publish_events(&self, limit: i64) -> StoreResult<Vec<PublishedEvent>> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT company_id, id, event_type, aggregate_id, payload, created_at FROM outbox \
             WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1{}",
            dialect::SKIP_LOCKED
        );
        let waiting = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *tx).await?;
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let n = i64::try_from(waiting.len()).unwrap_or(i64::MAX);
        let last_order: i64 = sqlx::query_scalar("UPDATE event_publish_counter SET last_order = last_order + $1 WHERE id = 1 RETURNING last_order")
            .bind(n)
            .fetch_one(&mut *tx)
            .await?;
        let mut per_company: BTreeMap<Uuid, i64> = BTreeMap::new();
        for r in &waiting {
            *per_company.entry(rows::get(r, "company_id")?).or_default() += 1;
        }
        // The first number each company's batch starts from.
        let mut next_seq: BTreeMap<Uuid, i64> = BTreeMap::new();
        for (company, count) in &per_company {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO event_sequences (company_id, last_seq) VALUES ($1, $2) \
                 ON CONFLICT (company_id) DO UPDATE SET last_seq = event_sequences.last_seq + excluded.last_seq RETURNING last_seq",
            )
            .bind(company)
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            next_seq.insert(*company, last - count + 1);
        }
        let now = time_fmt::now();
        let mut published = Vec::with_capacity(waiting.len());
        for (i, r) in waiting.iter().enumerate() {
            let company: Uuid = rows::get(r, "company_id")?;
            let id: Uuid = rows::get(r, "id")?;
            let seq = next_seq.get_mut(&company).map(|s| {
                *s += 1;
                *s - 1
            });
            let order = last_order - n + 1 + i64::try_from(i).unwrap_or(0);
            sqlx::query("UPDATE outbox SET seq = $1, publish_order = $2, published_at = $3 WHERE company_id = $4 AND id = $5")
                .bind(seq)
                .bind(order)
                .bind(DbTime::from(now))
                .bind(company)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            published.push(PublishedEvent {
                company_id: company,
                seq: seq.unwrap_or_default(),
                publish_order: order,
                event_type: rows::get(r, "event_type")?,
                aggregate_id: rows::get(r, "aggregate_id")?,
                payload: rows::get::<Json<Value>>(r, "payload")?.0,
                created_at: rows::time(r, "created_at")?,
            });
        }
        tx.commit().await?;
        Ok(published)
    }

    /// Published events after a publication order, in order (every company's: for tailers).
    pub(crate) async fn events_after(&self, publish_order: i64, limit: i64) -> StoreResult<Vec<PublishedEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM outbox WHERE publish_order > $1 ORDER BY publish_order LIMIT $2");
        let fetched = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(publish_order).bind(limit).fetch_all(&self.read).await?;
        fetched.iter().map(event).collect()
    }

    /// One company's published events after sequence number `seq`, in order (for replay).
    pub(crate) async fn company_events_since(&self, company: Uuid, seq: i64, limit: i64) -> StoreResult<Vec<PublishedEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM outbox WHERE company_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let fetched = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company).bind(seq).bind(limit).fetch_all(&self.read).await?;
        fetched.iter().map(event).collect()
    }

    /// The last publication order given out (where a new tailer starts).
    pub(crate) async fn last_publish_order(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT last_order FROM event_publish_counter WHERE id = 1").fetch_one(&self.read).await?;
        Ok(row.try_get("last_order")?)
    }

    /// The last sequence number of a company's events (0 before the first).
    pub(crate) async fn last_company_seq(&self, company: Uuid) -> StoreResult<i64> {
        let last: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM event_sequences WHERE company_id = $1")
            .bind(company)
            .fetch_optional(&self.read)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// What tells whether a company's data changed: its last published sequence number and the
    /// ids of its events not yet published. Every change that emits an event alters one of the
    /// two once it commits — its event is either still waiting or has been numbered — whatever
    /// order concurrent transactions commit in (the newest id alone would miss a transaction
    /// that took its id first and committed last).
    pub(crate) async fn events_stamp(&self, company: Uuid) -> StoreResult<EventsStamp> {
        let last_seq = self.last_company_seq(company).await?;
        let mut unpublished: Vec<Uuid> =
            sqlx::query_scalar("SELECT id FROM outbox WHERE company_id = $1 AND published_at IS NULL")
                .bind(company)
                .fetch_all(&self.read)
                .await?;
        unpublished.sort_unstable();
        Ok(EventsStamp { last_seq, unpublished })
    }
}
