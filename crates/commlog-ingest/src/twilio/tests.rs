//! Twilio callback parsing, mapping, convergence and the recording URL allow-list.

use super::*;
use crate::snapshot::CallSnapshot;
use time::macros::datetime;

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

fn status_body(status: &str, seq: u64, ts: &str, extra: &str) -> String {
    let ts: String = form_urlencoded::byte_serialize(ts.as_bytes()).collect();
    format!(
        "AccountSid={ACCOUNT}&ApiVersion=2010-04-01&CallSid={CALL}&CallStatus={status}\
         &CallbackSource=call-progress-events&Direction=inbound&From=%2B14155550100\
         &To=%2B14155550199&SequenceNumber={seq}&Timestamp={ts}{extra}"
    )
}

fn parse(body: &str) -> Result<TwilioStatusCallback, ParseError> {
    TwilioStatusCallback::parse(body.as_bytes())
}

#[test]
fn parses_a_completed_callback() {
    let body = status_body(
        "completed",
        3,
        "Tue, 24 Nov 2026 10:01:05 +0000",
        &format!(
            "&CallDuration=60&RecordingSid={RECORDING}\
             &RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{ACCOUNT}%2FRecordings%2F{RECORDING}\
             &RecordingDuration=58&CallerName=Alice"
        ),
    );
    let cb = parse(&body).expect("callback");
    assert_eq!(cb.call_sid, CALL);
    assert_eq!(cb.call_status, TwilioCallStatus::Completed);
    assert_eq!(cb.sequence_number, Some(3));
    assert_eq!(cb.call_duration, Some(60));
    assert_eq!(cb.timestamp, Some(datetime!(2026-11-24 10:01:05 UTC)));
    assert_eq!(cb.from, "+14155550100");
    let ev = cb.to_call_event();
    assert_eq!(ev.source, CallSource::Twilio);
    assert_eq!(ev.external_id, CALL);
    assert_eq!(ev.state, CallState::Ended);
    assert_eq!(ev.outcome, Some(CallOutcome::Answered));
    assert_eq!(ev.direction, Some(Direction::Inbound));
    assert_eq!(ev.from_name.as_deref(), Some("Alice"));
    let rec = ev.recording.expect("recording");
    assert_eq!(rec.id.as_deref(), Some(RECORDING));
    assert_eq!(rec.duration_seconds, Some(58));
    assert!(recording_url_allowed(&rec.url));
}

#[test]
fn final_statuses_map_to_outcomes() {
    for (status, outcome) in [
        ("completed", CallOutcome::Answered),
        ("busy", CallOutcome::Busy),
        ("failed", CallOutcome::Failed),
        ("no-answer", CallOutcome::NoAnswer),
        ("canceled", CallOutcome::Canceled),
    ] {
        let ev = parse(&status_body(
            status,
            1,
            "Tue, 24 Nov 2026 10:00:00 +0000",
            "",
        ))
        .expect(status)
        .to_call_event();
        assert_eq!(
            (ev.state, ev.outcome),
            (CallState::Ended, Some(outcome)),
            "{status}"
        );
    }
    for (status, state) in [
        ("queued", CallState::Queued),
        ("initiated", CallState::Initiated),
        ("ringing", CallState::Ringing),
        ("in-progress", CallState::InProgress),
    ] {
        let ev = parse(&status_body(
            status,
            1,
            "Tue, 24 Nov 2026 10:00:00 +0000",
            "",
        ))
        .expect(status)
        .to_call_event();
        assert_eq!((ev.state, ev.outcome), (state, None), "{status}");
    }
}

#[test]
fn a_machine_answer_is_voicemail() {
    for answered_by in [
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
    ] {
        let body = status_body(
            "completed",
            3,
            "Tue, 24 Nov 2026 10:00:00 +0000",
            &format!("&AnsweredBy={answered_by}"),
        );
        let ev = parse(&body).expect("callback").to_call_event();
        assert_eq!(ev.outcome, Some(CallOutcome::Voicemail), "{answered_by}");
    }
    let human = status_body(
        "completed",
        3,
        "Tue, 24 Nov 2026 10:00:00 +0000",
        "&AnsweredBy=human",
    );
    assert_eq!(
        parse(&human).expect("cb").to_call_event().outcome,
        Some(CallOutcome::Answered)
    );
}

#[test]
fn outbound_directions_are_outbound() {
    for d in ["outbound-api", "outbound-dial"] {
        let body = status_body("ringing", 1, "Tue, 24 Nov 2026 10:00:00 +0000", "")
            .replace("Direction=inbound", &format!("Direction={d}"));
        assert_eq!(parse(&body).expect(d).direction, Direction::Outbound);
    }
}

#[test]
fn malformed_callbacks_say_what_is_wrong() {
    let ok = status_body("ringing", 1, "Tue, 24 Nov 2026 10:00:00 +0000", "");
    let cases = [
        (
            ok.replace("CallStatus=ringing", "CallStatus=ringing-ish"),
            "CallStatus",
        ),
        (
            ok.replace(&format!("CallSid={CALL}"), "CallSid=CA1234"),
            "CallSid",
        ),
        (ok.replace(&format!("CallSid={CALL}&"), ""), "CallSid"),
        (
            ok.replace(
                &format!("AccountSid={ACCOUNT}"),
                &format!("AccountSid={CALL}"),
            ),
            "AccountSid",
        ),
        (
            ok.replace("SequenceNumber=1", "SequenceNumber=-1"),
            "SequenceNumber",
        ),
        (
            status_body("ringing", 1, "2026-11-24T10:00:00Z", ""),
            "Timestamp",
        ),
        (
            ok.replace("Direction=inbound", "Direction=sideways"),
            "Direction",
        ),
        (format!("{ok}&CallSid={CALL}"), "CallSid"),
        (format!("{ok}&CallDuration=ten"), "CallDuration"),
        (format!("{ok}&AnsweredBy=robot"), "AnsweredBy"),
    ];
    for (body, field) in cases {
        let err = parse(&body).expect_err(field);
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let huge = "a".repeat(crate::MAX_WEBHOOK_BYTES + 1);
    assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
    assert!(parse("").is_err());
    assert!(parse("\u{0}\u{1}=&&==").is_err());
}

#[test]
fn every_delivery_order_of_a_lifecycle_converges() {
    let bodies = [
        status_body("ringing", 1, "Tue, 24 Nov 2026 10:00:00 +0000", ""),
        status_body("in-progress", 2, "Tue, 24 Nov 2026 10:00:05 +0000", ""),
        status_body(
            "completed",
            3,
            "Tue, 24 Nov 2026 10:01:05 +0000",
            "&CallDuration=60",
        ),
    ];
    let events: Vec<CallEvent> = bodies
        .iter()
        .map(|b| parse(b).expect("callback").to_call_event())
        .collect();
    let fold = |order: &[CallEvent]| -> Option<CallSnapshot> {
        order.iter().fold(None, |acc, e| Some(merge(acc, e)))
    };
    let expected = fold(&events).expect("snapshot");
    assert_eq!(expected.state, CallState::Ended);
    assert_eq!(expected.outcome, Some(CallOutcome::Answered));
    assert_eq!(expected.duration_seconds, Some(60));
    assert_eq!(
        expected.answered_at,
        Some(datetime!(2026-11-24 10:00:05 UTC))
    );
    assert_eq!(
        expected.started_at,
        Some(datetime!(2026-11-24 10:00:00 UTC))
    );
    let orders = crate::snapshot::tests::permutations(&events);
    assert_eq!(orders.len(), 6);
    for order in orders {
        assert_eq!(fold(&order).as_ref(), Some(&expected));
    }
}

#[test]
fn parses_recording_callbacks() {
    let body = format!(
        "AccountSid={ACCOUNT}&CallSid={CALL}&RecordingSid={RECORDING}\
         &RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{ACCOUNT}%2FRecordings%2F{RECORDING}\
         &RecordingStatus=completed&RecordingDuration=58&RecordingChannels=2\
         &RecordingStartTime=Tue%2C%2024%20Nov%202026%2010%3A00%3A06%20%2B0000&RecordingSource=DialVerb"
    );
    let cb = TwilioRecordingCallback::parse(body.as_bytes()).expect("recording");
    let ev = cb.to_recording_event();
    assert_eq!(ev.call_external_id, CALL);
    assert_eq!(ev.recording_id, RECORDING);
    assert_eq!(ev.status, RecordingStatus::Completed);
    assert_eq!(ev.duration_seconds, Some(58));
    assert_eq!(ev.started_at, Some(datetime!(2026-11-24 10:00:06 UTC)));
    assert!(ev.url.as_deref().is_some_and(recording_url_allowed));

    let absent = format!(
        "AccountSid={ACCOUNT}&CallSid={CALL}&RecordingSid={RECORDING}&RecordingStatus=absent&ErrorCode=16102"
    );
    let cb = TwilioRecordingCallback::parse(absent.as_bytes()).expect("absent");
    assert_eq!(cb.recording_status, RecordingStatus::Absent);
    assert_eq!(cb.error_code.as_deref(), Some("16102"));
    assert_eq!(cb.recording_url, None);

    let bad = absent.replace("absent", "lost");
    let err = TwilioRecordingCallback::parse(bad.as_bytes()).expect_err("status");
    assert!(err.to_string().contains("RecordingStatus"));
}

#[test]
fn recording_urls_are_restricted_to_the_twilio_api() {
    let base =
        format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}");
    assert!(recording_url_allowed(&base));
    assert!(recording_url_allowed(&format!("{base}.mp3?Download=true")));
    for bad in [
        "http://api.twilio.com/2010-04-01/x",
        "https://api.twilio.com.evil.example/x",
        "https://api.twilio.com@evil.example/x",
        "https://user:pass@api.twilio.com/x",
        "https://api.twilio.com:443/x",
        "https://api.twilio.com:8080/x",
        "https://evil.example/https://api.twilio.com/",
        "https://api.twilio.com",
        "HTTPS://API.TWILIO.COM/x",
        "https://api.twilio.com/x\\@evil.example",
        "https://api.twilio.com/x y",
        "https://api.twilio.com/x\n",
        "//api.twilio.com/x",
        "",
    ] {
        assert!(!recording_url_allowed(bad), "{bad:?}");
    }
    assert!(!recording_url_allowed(&format!(
        "https://api.twilio.com/{}",
        "a".repeat(3000)
    )));
}
