//! Slack envelopes and message mapping.

use super::*;
use serde_json::json;
use time::macros::datetime;

fn callback(event: serde_json::Value) -> SlackEventCallback {
    let body = json!({
        "token": "XXYYZZ", "team_id": "T0001", "api_app_id": "A0001",
        "type": "event_callback", "event_id": "Ev0001", "event_time": 1_764_000_000,
        "authorizations": [{"team_id": "T0001", "user_id": "U0BOT", "is_bot": true}],
        "event": event
    });
    match parse(body.to_string().as_bytes()).expect("payload") {
        SlackPayload::EventCallback(cb) => *cb,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn url_verification_yields_the_challenge() {
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    assert_eq!(
        parse(body).expect("payload"),
        SlackPayload::UrlVerification {
            challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
        }
    );
    for bad in ["", "has space", "<script>\n"] {
        let body = json!({"type": "url_verification", "challenge": bad}).to_string();
        assert!(parse(body.as_bytes()).is_err(), "{bad:?}");
    }
}

#[test]
fn a_channel_message_maps() {
    let cb = callback(json!({
        "type": "message", "channel": "C0001", "user": "U0001",
        "text": "Hello, can you call me back?", "ts": "1764000000.000200",
        "channel_type": "channel"
    }));
    assert_eq!(cb.event_id, "Ev0001");
    let m = cb.to_message_event().expect("ok").expect("message");
    assert_eq!(m.channel, MessageChannel::Slack);
    assert_eq!(m.tenant_key, "T0001");
    assert_eq!(m.external_id, "C0001:1764000000.000200");
    assert_eq!(
        m.thread_key, "C0001:1764000000.000200",
        "a top-level message heads its thread"
    );
    assert_eq!(m.sender.as_deref(), Some("U0001"));
    assert_eq!(m.text.as_deref(), Some("Hello, can you call me back?"));
    assert_eq!(m.change, MessageChange::Created);
    assert_eq!(m.occurred_at, Some(datetime!(2025-11-24 16:00:00.0002 UTC)));
}

#[test]
fn thread_replies_edits_and_deletes() {
    let reply = callback(json!({
        "type": "message", "channel": "C0001", "user": "U0002", "text": "on it",
        "ts": "1764000100.000300", "thread_ts": "1764000000.000200"
    }));
    let m = reply.to_message_event().expect("ok").expect("reply");
    assert_eq!(m.thread_key, "C0001:1764000000.000200");

    let edit = callback(json!({
        "type": "message", "subtype": "message_changed", "channel": "C0001",
        "ts": "1764000200.000100",
        "message": {"type": "message", "user": "U0002", "text": "on it now", "ts": "1764000100.000300",
                    "thread_ts": "1764000000.000200"}
    }));
    let m = edit.to_message_event().expect("ok").expect("edit");
    assert_eq!(m.change, MessageChange::Updated);
    assert_eq!(m.external_id, "C0001:1764000100.000300");
    assert_eq!(m.text.as_deref(), Some("on it now"));

    let delete = callback(json!({
        "type": "message", "subtype": "message_deleted", "channel": "C0001",
        "ts": "1764000300.000100", "deleted_ts": "1764000100.000300"
    }));
    let m = delete.to_message_event().expect("ok").expect("delete");
    assert_eq!(m.change, MessageChange::Deleted);
    assert_eq!(m.external_id, "C0001:1764000100.000300");
    assert_eq!(m.text, None);
}

#[test]
fn other_events_and_envelopes_are_not_messages() {
    let cb = callback(json!({"type": "reaction_added", "user": "U0001", "reaction": "thumbsup"}));
    assert_eq!(cb.to_message_event(), Ok(None));
    let body = json!({"type": "app_rate_limited", "team_id": "T0001", "minute_rate_limited": 1})
        .to_string();
    assert_eq!(
        parse(body.as_bytes()).expect("payload"),
        SlackPayload::Other
    );
}

#[test]
fn broken_payloads_say_what_is_wrong() {
    let no_channel = callback(json!({"type": "message", "text": "x", "ts": "1764000000.000200"}));
    assert_eq!(
        no_channel.to_message_event(),
        Err(ParseError::missing("event.channel"))
    );
    let bad_ts = callback(json!({"type": "message", "channel": "C1", "ts": "yesterday"}));
    assert!(
        bad_ts
            .to_message_event()
            .expect_err("ts")
            .to_string()
            .contains("event.ts")
    );
    let no_msg =
        callback(json!({"type": "message", "subtype": "message_changed", "channel": "C1"}));
    assert_eq!(
        no_msg.to_message_event(),
        Err(ParseError::missing("event.message"))
    );
    for body in [
        &b"{}"[..],
        b"[]",
        b"not json",
        br#"{"type":"event_callback"}"#,
    ] {
        assert!(parse(body).is_err());
    }
    let huge = vec![b' '; crate::MAX_WEBHOOK_BYTES + 1];
    assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
    // Deeply nested input hits the JSON parser's recursion limit instead of the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse(deep.as_bytes()).is_err());
}

#[test]
fn slack_timestamps() {
    assert_eq!(
        parse_ts("ts", "1764000000"),
        Ok(datetime!(2025-11-24 16:00:00 UTC))
    );
    assert_eq!(
        parse_ts("ts", "1764000000.5"),
        Ok(datetime!(2025-11-24 16:00:00.5 UTC))
    );
    for bad in ["", ".5", "1.2.3", "-1", "17640000000000.0", "1.1234567890"] {
        assert!(parse_ts("ts", bad).is_err(), "{bad}");
    }
}
