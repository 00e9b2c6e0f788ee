//! Converging a call's events into one [`CallSnapshot`]. Providers deliver status callbacks
//! out of order and more than once; [`merge`] applies the distinct events it has seen in
//! `(sequence, state, occurred_at)` order, so any delivery order of the same events yields
//! the same snapshot.

use crate::event::{CallEvent, CallOutcome, CallSource, CallState, RecordingRef};
use commlog_domain::Direction;
use commlog_domain::time_fmt::rfc3339;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// The most distinct events a snapshot keeps; past it the earliest-ordered one is dropped.
pub const MAX_SNAPSHOT_EVENTS: usize = 32;

/// What is known about a call after folding all its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSnapshot {
    /// Which connector reported the call.
    pub source: CallSource,
    /// The call's id at its source.
    pub external_id: String,
    /// The calling number (from the latest event that had one).
    pub from: String,
    /// The caller's display name, when any event gave one.
    pub from_name: Option<String>,
    /// The called number.
    pub to: String,
    /// Inbound, outbound or internal, when reported.
    pub direction: Option<Direction>,
    /// The state after the latest event.
    pub state: CallState,
    /// How the call ended, once it has; a machine answer turns `answered` into `voicemail`.
    pub outcome: Option<CallOutcome>,
    /// Total length in seconds.
    pub duration_seconds: Option<u64>,
    /// Connected seconds.
    pub talk_seconds: Option<u64>,
    /// The highest sequence number seen.
    pub last_sequence: Option<u64>,
    /// The earliest start (or event time) reported.
    #[serde(with = "rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// The earliest answer time reported.
    #[serde(with = "rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    /// The latest end time reported.
    #[serde(with = "rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The handling agent, when reported.
    pub agent_email: Option<String>,
    /// The latest recording reported with a status event.
    pub recording: Option<RecordingRef>,
    /// Answering-machine detection reported a machine.
    pub machine_answered: bool,
    /// The distinct events folded so far, in application order.
    events: Vec<CallEvent>,
}

impl CallSnapshot {
    /// The distinct events folded into this snapshot, in the order they were applied.
    pub fn events(&self) -> &[CallEvent] {
        &self.events
    }

    /// The call is over.
    pub fn is_final(&self) -> bool {
        self.state == CallState::Ended
    }
}

/// The order events are applied in; two events with the same key are the same delivery.
fn order(a: &CallEvent, b: &CallEvent) -> Ordering {
    (a.sequence, a.state, a.occurred_at, a.outcome).cmp(&(
        b.sequence,
        b.state,
        b.occurred_at,
        b.outcome,
    ))
}

/// Folds `event` into the snapshot of its call. Duplicate deliveries change nothing; an event
/// of another call (different source or external id) is ignored and `current` returned as is.
pub fn merge(current: Option<CallSnapshot>, event: &CallEvent) -> CallSnapshot {
    let mut events = match current {
        Some(s) if s.external_id != event.external_id || s.source != event.source => return s,
        Some(s) => s.events,
        None => Vec::new(),
    };
    events.push(event.clone());
    // Stable sort: among equal keys the copy seen first stays and the later one is dropped.
    events.sort_by(order);
    events.dedup_by(|later, earlier| order(later, earlier) == Ordering::Equal);
    if events.len() > MAX_SNAPSHOT_EVENTS {
        let excess = events.len() - MAX_SNAPSHOT_EVENTS;
        events.drain(..excess);
    }
    fold(event, events)
}

fn fold(seed: &CallEvent, events: Vec<CallEvent>) -> CallSnapshot {
    let mut s = CallSnapshot {
        source: seed.source,
        external_id: seed.external_id.clone(),
        from: String::new(),
        from_name: None,
        to: String::new(),
        direction: None,
        state: seed.state,
        outcome: None,
        duration_seconds: None,
        talk_seconds: None,
        last_sequence: None,
        started_at: None,
        answered_at: None,
        ended_at: None,
        agent_email: None,
        recording: None,
        machine_answered: false,
        events: Vec::new(),
    };
    for e in &events {
        apply(&mut s, e);
    }
    if s.outcome == Some(CallOutcome::Answered) && s.machine_answered {
        s.outcome = Some(CallOutcome::Voicemail);
    }
    // Only the final callback seen: its time is the end, so derive the start from the length.
    if let (Some(end), Some(secs)) = (s.ended_at, s.duration_seconds)
        && s.started_at.is_none_or(|start| start >= end)
        && let Ok(secs) = i64::try_from(secs)
    {
        s.started_at = end
            .checked_sub(time::Duration::seconds(secs))
            .or(s.started_at);
    }
    s.events = events;
    s
}

fn apply(s: &mut CallSnapshot, e: &CallEvent) {
    s.state = e.state;
    s.outcome = if e.state == CallState::Ended {
        e.outcome.or(s.outcome)
    } else {
        None
    };
    if !e.from.is_empty() {
        s.from.clone_from(&e.from);
    }
    if !e.to.is_empty() {
        s.to.clone_from(&e.to);
    }
    s.from_name = e.from_name.clone().or(s.from_name.take());
    s.direction = e.direction.or(s.direction);
    s.agent_email = e.agent_email.clone().or(s.agent_email.take());
    s.recording = e.recording.clone().or(s.recording.take());
    s.duration_seconds = e.duration_seconds.or(s.duration_seconds);
    s.talk_seconds = e.talk_seconds.or(s.talk_seconds);
    s.last_sequence = s.last_sequence.max(e.sequence);
    s.machine_answered |= e.machine_answered;
    s.started_at = earliest(s.started_at, e.started_at.or(e.occurred_at));
    let answered = e
        .answered_at
        .or(e.occurred_at.filter(|_| e.state == CallState::InProgress));
    s.answered_at = earliest(s.answered_at, answered);
    let ended = e
        .ended_at
        .or(e.occurred_at.filter(|_| e.state == CallState::Ended));
    s.ended_at = s.ended_at.max(ended);
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
pub(crate) mod tests;
