//! The live counters (open, awaiting response, escalated, overdue follow-ups) of a scope,
//! computed once per change of the company's data rather than once per reader: the home page of
//! every user, the counters endpoint and every open WebSocket ask for them, and one count over a
//! large company's open logs costs hundreds of milliseconds. A cached value is used while the
//! company's newest event is the one it was counted at (every change that moves a counter emits
//! an event in its own transaction), and for at most a minute.

use crate::analytics::scope_of;
use crate::state::AppState;
use commlog_domain::Actor;
use commlog_domain::analytics::{AnalyticsScope, Counters};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The longest a value is used, even when no event says it changed.
const MAX_AGE: Duration = Duration::from_secs(60);
/// Past this many scopes the cache starts afresh (bounded memory).
const MAX_ENTRIES: usize = 10_000;

type Key = (Uuid, u8, Option<Uuid>);

struct Entry {
    last_event: Option<Uuid>,
    at: Instant,
    counters: Counters,
}

static CACHE: LazyLock<Mutex<HashMap<Key, Entry>>> = LazyLock::new(Default::default);

fn key(company: Uuid, scope: AnalyticsScope) -> Key {
    match scope {
        AnalyticsScope::Company => (company, 0, None),
        AnalyticsScope::Team(t) => (company, 1, Some(t)),
        AnalyticsScope::User(u) => (company, 2, Some(u)),
    }
}

/// The actor's counters as of the company's last published event.
pub async fn current(app: &AppState, actor: &Actor) -> Result<Counters, commlog_store::StoreError> {
    let scope = scope_of(actor);
    let k = key(actor.company_id, scope);
    let last_event = app.store.last_event_id(actor.company_id).await?;
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = cache.get(&k)
            && e.last_event == last_event
            && e.at.elapsed() < MAX_AGE
        {
            return Ok(e.counters);
        }
    }
    let counters = app
        .store
        .analytics_counters(actor.company_id, scope)
        .await?;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MAX_ENTRIES {
        cache.clear();
    }
    cache.insert(
        k,
        Entry {
            last_event,
            at: Instant::now(),
            counters,
        },
    );
    Ok(counters)
}
