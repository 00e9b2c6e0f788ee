//! Convergence of [`merge`] under reordering and duplication.

use super::*;
use time::macros::datetime;

fn event(seq: Option<u64>, state: CallState, at: OffsetDateTime) -> CallEvent {
    CallEvent {
        source: CallSource::Twilio,
        external_id: "CA00000000000000000000000000000001".into(),
        from: "+14155550100".into(),
        from_name: None,
        to: "+14155550199".into(),
        direction: Some(Direction::Inbound),
        state,
        outcome: (state == CallState::Ended).then_some(CallOutcome::Answered),
        machine_answered: false,
        duration_seconds: (state == CallState::Ended).then_some(60),
        talk_seconds: None,
        sequence: seq,
        occurred_at: Some(at),
        started_at: None,
        answered_at: None,
        ended_at: None,
        agent_email: None,
        recording: None,
    }
}

/// Every ordering of `items`.
pub(crate) fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let head = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, head.clone());
            out.push(tail);
        }
    }
    out
}

fn fold_all(events: &[CallEvent]) -> Option<CallSnapshot> {
    events.iter().fold(None, |acc, e| Some(merge(acc, e)))
}

fn lifecycle() -> Vec<CallEvent> {
    vec![
        event(
            Some(0),
            CallState::Initiated,
            datetime!(2026-11-24 10:00:00 UTC),
        ),
        event(
            Some(1),
            CallState::Ringing,
            datetime!(2026-11-24 10:00:01 UTC),
        ),
        event(
            Some(2),
            CallState::InProgress,
            datetime!(2026-11-24 10:00:05 UTC),
        ),
        event(
            Some(3),
            CallState::Ended,
            datetime!(2026-11-24 10:01:05 UTC),
        ),
    ]
}

#[test]
fn every_delivery_order_converges() {
    let events = lifecycle();
    let expected = fold_all(&events).expect("snapshot");
    assert_eq!(expected.state, CallState::Ended);
    assert_eq!(expected.outcome, Some(CallOutcome::Answered));
    assert_eq!(
        expected.started_at,
        Some(datetime!(2026-11-24 10:00:00 UTC))
    );
    assert_eq!(
        expected.answered_at,
        Some(datetime!(2026-11-24 10:00:05 UTC))
    );
    assert_eq!(expected.ended_at, Some(datetime!(2026-11-24 10:01:05 UTC)));
    assert_eq!(expected.last_sequence, Some(3));
    assert_eq!(expected.events().len(), 4);
    let orders = permutations(&events);
    assert_eq!(orders.len(), 24);
    for order in orders {
        assert_eq!(fold_all(&order).as_ref(), Some(&expected));
    }
}

#[test]
fn duplicates_change_nothing() {
    let events = lifecycle();
    let expected = fold_all(&events).expect("snapshot");
    let mut doubled = events.clone();
    doubled.extend(events.iter().rev().cloned());
    assert_eq!(fold_all(&doubled).as_ref(), Some(&expected));
}

#[test]
fn a_late_ringing_event_does_not_reopen_an_ended_call() {
    let events = lifecycle();
    let ended = fold_all(&events[3..]).expect("snapshot");
    let after = merge(Some(ended), &events[1]);
    assert_eq!(after.state, CallState::Ended);
    assert!(after.is_final());
}

#[test]
fn events_of_another_call_are_ignored() {
    let events = lifecycle();
    let snap = fold_all(&events).expect("snapshot");
    let mut other = events[1].clone();
    other.external_id = "CA00000000000000000000000000000002".into();
    assert_eq!(merge(Some(snap.clone()), &other), snap);
}

#[test]
fn only_a_final_callback_derives_the_start_from_the_duration() {
    let events = lifecycle();
    let snap = merge(None, &events[3]);
    assert_eq!(snap.started_at, Some(datetime!(2026-11-24 10:00:05 UTC)));
    assert_eq!(snap.ended_at, Some(datetime!(2026-11-24 10:01:05 UTC)));
}

#[test]
fn a_machine_answer_is_voicemail() {
    let mut events = lifecycle();
    events[2].machine_answered = true;
    for order in permutations(&events) {
        let snap = fold_all(&order).expect("snapshot");
        assert_eq!(snap.outcome, Some(CallOutcome::Voicemail));
    }
}

#[test]
fn without_sequence_numbers_the_lifecycle_orders_events() {
    let mut events = lifecycle();
    for e in &mut events {
        e.sequence = None;
    }
    let expected = fold_all(&events).expect("snapshot");
    assert_eq!(expected.state, CallState::Ended);
    for order in permutations(&events) {
        assert_eq!(fold_all(&order).as_ref(), Some(&expected));
    }
}

#[test]
fn the_event_list_is_bounded() {
    let mut snap = None;
    for i in 0..100u64 {
        let at = datetime!(2026-11-24 10:00:00 UTC) + time::Duration::seconds(i as i64);
        snap = Some(merge(snap, &event(Some(i), CallState::Ringing, at)));
    }
    let snap = snap.expect("snapshot");
    assert_eq!(snap.events().len(), MAX_SNAPSHOT_EVENTS);
    assert_eq!(snap.last_sequence, Some(99));
}

#[test]
fn snapshots_round_trip_through_json() {
    let snap = fold_all(&lifecycle()).expect("snapshot");
    let json = serde_json::to_string(&snap).expect("json");
    let back: CallSnapshot = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, snap);
}
