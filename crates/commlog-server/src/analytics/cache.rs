//! Reports and counters made once per change of a company's data rather than once per reader.
//!
//! A dashboard is read far more often than the data under it changes: every lead opening the
//! Analytics tab, every home page, every WebSocket asking for counters reads the same figures.
//! A made value is kept with the company's events stamp at the time it was made (its last
//! published sequence number and its events still unpublished) and is used again while the
//! stamp is unchanged: every change that moves a figure — a log created, edited, assigned,
//! processed or deleted through the store — emits an event in its own transaction, which alters
//! the stamp once it commits, in whatever order concurrent transactions commit. It is used for
//! at most [`MAX_AGE`], and not after the company's data was purged in this process (retention
//! and erasure emit no events; [`forget_company`] stands in for them).
//!
//! Two more rules keep a large company's dashboards from taking the database down with them:
//! readers asking for the same value while it is being made wait for that one making, instead
//! of each running the same queries (single flight); and at most [`MAKERS`] values are made at
//! once. A reader waits up to [`WAIT`] for a turn, then gets 503 `analytics_busy` with
//! Retry-After — queuing rather than holding connections that the job runner, the audit sealer
//! and every other request need.

use crate::error::{ApiError, ApiResult};
use commlog_store::{EventsStamp, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use uuid::Uuid;

/// The longest a value is used, even when no event says it changed.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Values made at once, across all readers (the pool has 16 connections by default).
pub const MAKERS: usize = 4;
/// How long a reader waits for a turn to make a value.
pub const WAIT: Duration = Duration::from_secs(20);

static TURNS: Semaphore = Semaphore::const_new(MAKERS);

/// When each company's data was last purged in this process.
static PURGED: LazyLock<Mutex<HashMap<Uuid, Instant>>> = LazyLock::new(Default::default);

/// Forgets every value made for `company` so far: its data changed without an event.
pub fn forget_company(company: Uuid) {
    let mut purged = PURGED.lock().unwrap_or_else(|e| e.into_inner());
    purged.insert(company, Instant::now());
}

fn purged_since(company: Uuid, at: Instant) -> bool {
    let purged = PURGED.lock().unwrap_or_else(|e| e.into_inner());
    purged.get(&company).is_some_and(|p| *p >= at)
}

struct Entry<T> {
    stamp: EventsStamp,
    at: Instant,
    value: T,
}

type Slot<T> = Arc<tokio::sync::Mutex<Option<Entry<T>>>>;

/// Values of one kind, by company and key, within a budget of their total weight.
pub struct Memo<T> {
    slots: LazyLock<Mutex<Slots<T>>>,
    /// What a value weighs (e.g. its bytes).
    weight: fn(&T) -> usize,
    budget: usize,
}

struct Slots<T> {
    by_key: HashMap<(Uuid, String), (Slot<T>, usize)>,
    weight: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            weight: 0,
        }
    }
}

impl<T: Clone> Memo<T> {
    /// A memo holding values of at most `budget` total weight.
    pub const fn new(weight: fn(&T) -> usize, budget: usize) -> Self {
        Self {
            slots: LazyLock::new(Default::default),
            weight,
            budget,
        }
    }

    fn slot(&self, company: Uuid, key: String) -> Slot<T> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.by_key.entry((company, key)).or_default().0.clone()
    }

    /// Records the weight of a value just made; past the budget, the memo starts afresh
    /// (readers holding a slot keep it; it is only no longer found).
    fn weigh(&self, company: Uuid, key: String, slot: &Slot<T>, weight: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let entry = slots
            .by_key
            .entry((company, key))
            .or_insert_with(|| (slot.clone(), 0));
        let before = std::mem::replace(&mut entry.1, weight);
        slots.weight = slots.weight - before.min(slots.weight) + weight;
        if slots.weight > self.budget {
            *slots = Slots::default();
        }
    }

    /// The value under `key` for `company`, made by `make` when there is none still current.
    pub async fn get_or_make<F, Fut>(
        &self,
        store: &Store,
        company: Uuid,
        key: String,
        make: F,
    ) -> ApiResult<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        // Read before making: a change committed meanwhile leaves the value stamped older than
        // its data, which only costs a new making next time, never a stale answer.
        let stamp = store.events_stamp(company).await?;
        let slot = self.slot(company, key.clone());
        let mut held = slot.lock().await;
        if let Some(e) = held.as_ref()
            && e.stamp == stamp
            && e.at.elapsed() < MAX_AGE
            && !purged_since(company, e.at)
        {
            return Ok(e.value.clone());
        }
        let _turn = tokio::time::timeout(WAIT, TURNS.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let at = Instant::now();
        let value = make().await?;
        self.weigh(company, key, &slot, (self.weight)(&value));
        *held = Some(Entry {
            stamp,
            at,
            value: value.clone(),
        });
        Ok(value)
    }
}

fn busy() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "analytics_busy",
        "too many reports are being made right now; try again in a few seconds",
    )
}
