//! The generic schema: mapping, strictness and validation.

use super::*;
use crate::snapshot::merge;
use serde_json::{Value, json};
use time::macros::datetime;

fn full() -> Value {
    json!({
        "call_id": "pbx-7f3a",
        "event": "completed",
        "direction": "inbound",
        "from": "+14155550100",
        "to": "+14155550199",
        "started_at": "2026-11-24T10:00:00Z",
        "answered_at": "2026-11-24T10:00:05Z",
        "ended_at": "2026-11-24T10:01:05+00:00",
        "duration_seconds": 65,
        "agent_email": "agent@example.com",
        "recording_url": "https://pbx.example.com/rec/7f3a.wav"
    })
}

fn parse_value(v: &Value) -> Result<GenericCallEvent, ParseError> {
    parse(v.to_string().as_bytes())
}

#[test]
fn a_full_event_maps() {
    let e = parse_value(&full()).expect("event");
    let ev = e.to_call_event();
    assert_eq!(ev.source, CallSource::Generic);
    assert_eq!(ev.external_id, "pbx-7f3a");
    assert_eq!(
        (ev.state, ev.outcome),
        (CallState::Ended, Some(CallOutcome::Answered))
    );
    assert_eq!(ev.occurred_at, Some(datetime!(2026-11-24 10:01:05 UTC)));
    assert_eq!(ev.agent_email.as_deref(), Some("agent@example.com"));
    assert_eq!(
        ev.recording.map(|r| r.url).as_deref(),
        Some("https://pbx.example.com/rec/7f3a.wav")
    );
    assert_eq!(ev.direction, Some(Direction::Inbound));
}

#[test]
fn every_event_kind_maps() {
    for (kind, state, outcome) in [
        ("ringing", CallState::Ringing, None),
        ("answered", CallState::InProgress, None),
        ("completed", CallState::Ended, Some(CallOutcome::Answered)),
        ("missed", CallState::Ended, Some(CallOutcome::NoAnswer)),
        ("voicemail", CallState::Ended, Some(CallOutcome::Voicemail)),
        ("failed", CallState::Ended, Some(CallOutcome::Failed)),
        ("busy", CallState::Ended, Some(CallOutcome::Busy)),
    ] {
        let mut v = full();
        v["event"] = json!(kind);
        let ev = parse_value(&v).expect(kind).to_call_event();
        assert_eq!((ev.state, ev.outcome), (state, outcome), "{kind}");
    }
}

#[test]
fn a_minimal_event_is_enough() {
    let v = json!({
        "call_id": "c1", "event": "ringing", "direction": "internal",
        "from": "1001", "to": "1002", "started_at": "2026-11-24T10:00:00Z"
    });
    let ev = parse_value(&v).expect("event").to_call_event();
    assert_eq!(ev.occurred_at, Some(datetime!(2026-11-24 10:00:00 UTC)));
    assert_eq!(ev.direction, Some(Direction::Internal));
    assert!(ev.recording.is_none());
}

#[test]
fn out_of_order_generic_events_converge() {
    let mk = |kind: &str| {
        let mut v = full();
        v["event"] = json!(kind);
        parse_value(&v).expect(kind).to_call_event()
    };
    let events = [mk("ringing"), mk("answered"), mk("completed")];
    let expected = events.iter().fold(None, |acc, e| Some(merge(acc, e)));
    for order in crate::snapshot::tests::permutations(&events) {
        let got = order.iter().fold(None, |acc, e| Some(merge(acc, e)));
        assert_eq!(got, expected);
    }
    assert_eq!(expected.map(|s| s.state), Some(CallState::Ended));
}

#[test]
fn unknown_fields_and_bad_values_are_refused() {
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut v = full();
    v["colour"] = json!("blue");
    cases.push((v, "unknown field `colour`"));
    for (field, value, why) in [
        ("event", json!("hung_up"), "unknown variant"),
        ("direction", json!("sideways"), "unknown variant"),
        ("started_at", json!("yesterday"), "invalid ISO 8601"),
        ("duration_seconds", json!(-1), "invalid value"),
        ("duration_seconds", json!(99_999_999), "more than 31 days"),
        ("call_id", json!(""), "`call_id` is missing"),
        ("call_id", json!("x".repeat(300)), "longer than 256"),
        ("from", json!("a\u{7}b"), "control characters"),
        (
            "answered_at",
            json!("2026-11-24T09:00:00Z"),
            "before started_at",
        ),
        (
            "ended_at",
            json!("2026-11-24T10:00:01Z"),
            "before started_at or answered_at",
        ),
        ("agent_email", json!("agent"), "not an e-mail"),
        ("agent_email", json!("a@b@c.d"), "not an e-mail"),
        (
            "recording_url",
            json!("http://pbx.example.com/a.wav"),
            "https URL",
        ),
        (
            "recording_url",
            json!("https://user@pbx.example.com/a.wav"),
            "https URL",
        ),
        ("recording_url", json!("https:///a.wav"), "https URL"),
    ] {
        let mut v = full();
        v[field] = value;
        cases.push((v, why));
    }
    let mut v = full();
    if let Some(o) = v.as_object_mut() {
        o.remove("to");
    }
    cases.push((v, "missing field `to`"));
    for (v, why) in cases {
        let err = parse_value(&v).expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    assert!(parse(b"[1,2,3]").is_err());
    let mut v = full();
    v["x".repeat(10_000)] = json!(1);
    let err = parse_value(&v).expect_err("long field").to_string();
    assert!(err.len() < 300, "{}", err.len());
    assert!(parse(b"").is_err());
    let huge = vec![b' '; crate::MAX_WEBHOOK_BYTES + 1];
    assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
}
