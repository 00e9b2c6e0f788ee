//! Real-time events: the outbox published in order, tailed by every server process, and
//! delivered over WebSockets.
//!
//! Changes write their events to the outbox in their own transaction. The publisher numbers
//! waiting events after commit (per company `seq`, global `publish_order`) and announces them
//! (PostgreSQL `NOTIFY`); each process's tailer reads what was published since it last looked
//! and hands it to its WebSocket sessions through a broadcast channel. A session that falls
//! behind, or a client that reconnects with the last `seq` it saw, reads the rest from the
//! outbox: nothing is missed and nothing is sent twice.

pub mod ws;

use crate::state::AppState;
use commlog_store::PublishedEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// Events published per round.
const PUBLISH_BATCH: i64 = 500;
/// Longest wait before looking for unpublished events anyway.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(200);
/// Longest wait before a tailer looks for published events anyway (notices can be lost when a
/// connection drops).
const TAIL_INTERVAL: Duration = Duration::from_secs(1);
/// Events a slow session may fall behind by before it reads the rest from the outbox.
const LIVE_CAPACITY: usize = 4096;

/// A process's meeting point of publisher, tailer and sessions.
pub struct EventHub {
    live: broadcast::Sender<Arc<PublishedEvent>>,
    /// Wakes the publisher (something was written).
    pub publish: Notify,
    /// Wakes the tailer (something was published).
    tail: Notify,
    /// WebSocket tickets already used.
    pub tickets: ws::UsedTickets,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            live: broadcast::channel(LIVE_CAPACITY).0,
            publish: Notify::new(),
            tail: Notify::new(),
            tickets: ws::UsedTickets::default(),
        }
    }
}

impl EventHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PublishedEvent>> {
        self.live.subscribe()
    }
}

/// Publishes what is waiting, once; returns how many events were published.
pub async fn publish_once(state: &AppState) -> commlog_store::StoreResult<usize> {
    let mut total = 0;
    loop {
        let published = state.store.publish_events(PUBLISH_BATCH).await?.len();
        total += published;
        if published < usize::try_from(PUBLISH_BATCH).unwrap_or(usize::MAX) {
            break;
        }
    }
    if total > 0 {
        state.store.notify_events().await?;
        state.events.tail.notify_one();
    }
    Ok(total)
}

/// Hands every event published after `last` to this process's sessions.
async fn tail_once(state: &AppState, last: &mut i64) -> commlog_store::StoreResult<()> {
    loop {
        let events = state.store.events_after(*last, 1000).await?;
        let done = events.len() < 1000;
        for e in events {
            *last = e.publish_order;
            // No session listening is fine: they replay from the outbox.
            let _ = state.events.live.send(Arc::new(e));
        }
        if done {
            return Ok(());
        }
    }
}

/// Starts the publisher, the tailer and (on PostgreSQL) the listener for other processes'
/// announcements.
pub fn spawn(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let publisher = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                let _ =
                    tokio::time::timeout(PUBLISH_INTERVAL, state.events.publish.notified()).await;
                if let Err(e) = publish_once(&state).await {
                    tracing::warn!(error = %e, "publishing events failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        })
    };
    let tailer = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut last = loop {
                match state.store.last_publish_order().await {
                    Ok(last) => break last,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the event position failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            loop {
                let _ = tokio::time::timeout(TAIL_INTERVAL, state.events.tail.notified()).await;
                if let Err(e) = tail_once(&state, &mut last).await {
                    tracing::warn!(error = %e, "reading published events failed; retrying");
                }
            }
        })
    };
    let listener = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                match state.store.event_listener().await {
                    Ok(Some(mut l)) => {
                        while l.recv().await.is_ok() {
                            state.events.tail.notify_one();
                        }
                    }
                    Ok(None) => return,
                    Err(e) => tracing::warn!(error = %e, "listening for events failed; retrying"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    vec![publisher, tailer, listener]
}
