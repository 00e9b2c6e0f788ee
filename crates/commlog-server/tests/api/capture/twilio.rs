//! Twilio-compatible callbacks: `X-Twilio-Signature` over the configured public URL (with or
//! without the default port) and the sorted form; a call's events folded by `SequenceNumber`
//! whatever order they arrive in; dispositions; another account's events refused.

use super::*;
use crate::both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const PUBLIC: &str = "https://crm.example.com";

pub fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("key");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A callback to `path`, signed for `signed_url` with `token`.
pub fn callback(
    path: &str,
    signed_url: &str,
    token: &str,
    params: &[(&str, &str)],
) -> Request<Body> {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature(token, signed_url, &params))
        .body(Body::from(body))
        .expect("request")
}

pub fn call_sid(n: u32) -> String {
    format!("CA{n:032x}")
}

pub fn status<'a>(
    sid: &'a str,
    status: &'a str,
    seq: &'a str,
    at: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CallSid", sid),
        ("AccountSid", ACCOUNT),
        ("From", "+14155550123"),
        ("To", "+14155550100"),
        ("Direction", "inbound"),
        ("CallStatus", status),
        ("SequenceNumber", seq),
        ("Timestamp", at),
        ("CallbackSource", "call-progress-events"),
    ]
}

/// Configures `channel` for Twilio; returns the voice callback path.
pub async fn setup(app: &TestApp, c: &Company, channel: Uuid, extra: Value) -> String {
    let mut body =
        json!({"provider": "twilio", "secret": TOKEN, "public_url": PUBLIC, "account": ACCOUNT});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let r = configure(app, c, channel, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["endpoints"].as_array().expect("endpoints").len(), 2);
    r.body["endpoints"][0].as_str().expect("voice").to_owned()
}

async fn a_call_posted_out_of_order_becomes_one_answered_log(app: &TestApp) {
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    for bad in [
        json!({"provider": "twilio", "secret": TOKEN, "account": ACCOUNT}),
        json!({"provider": "twilio", "secret": TOKEN, "public_url": PUBLIC, "account": "AC12"}),
        json!({"provider": "twilio", "secret": TOKEN, "public_url": "ftp://x", "account": ACCOUNT}),
    ] {
        let r = configure(app, &c, phone, bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    }
    let path = setup(app, &c, phone, json!({})).await;
    let url = format!("{PUBLIC}{path}");
    let sid = call_sid(1);
    let mut completed = status(&sid, "completed", "3", "Tue, 24 Nov 2026 10:03:00 +0000");
    completed.push(("CallDuration", "170"));
    // The last event first, processed before the others even arrive.
    let r = app.send(callback(&path, &url, TOKEN, &completed)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "accepted");
    app.run_jobs().await;
    for (state, seq, at) in [
        ("ringing", "1", "Tue, 24 Nov 2026 10:00:05 +0000"),
        ("in-progress", "2", "Tue, 24 Nov 2026 10:00:10 +0000"),
        ("initiated", "0", "Tue, 24 Nov 2026 10:00:00 +0000"),
    ] {
        let r = app
            .send(callback(&path, &url, TOKEN, &status(&sid, state, seq, at)))
            .await;
        assert_eq!(r.body["status"], "accepted", "{:?}", r.body);
    }
    let again = app.send(callback(&path, &url, TOKEN, &completed)).await;
    assert_eq!(again.body["status"], "duplicate");
    app.run_jobs().await;
    let log = log_of(app, &c, &sid).await;
    assert_eq!(
        log["call_outcome"], "answered",
        "late ringing never undoes the end"
    );
    assert_eq!(log["duration_seconds"], 170);
    assert_eq!(log["direction"], "inbound");
    assert_eq!(log["source"], "twilio");
    assert_eq!(log["communication_type"], "call");
    assert_eq!(app.count_logs(&c).await, 1);

    // Events of one call arriving shuffled before any processing: the same result.
    let sid2 = call_sid(2);
    let mut done2 = status(&sid2, "completed", "3", "Tue, 24 Nov 2026 11:01:00 +0000");
    done2.push(("CallDuration", "50"));
    app.send(callback(
        &path,
        &url,
        TOKEN,
        &status(&sid2, "in-progress", "2", "Tue, 24 Nov 2026 11:00:10 +0000"),
    ))
    .await;
    app.send(callback(&path, &url, TOKEN, &done2)).await;
    app.send(callback(
        &path,
        &url,
        TOKEN,
        &status(&sid2, "ringing", "1", "Tue, 24 Nov 2026 11:00:00 +0000"),
    ))
    .await;
    app.run_jobs().await;
    let second = log_of(app, &c, &sid2).await;
    assert_eq!(second["call_outcome"], "answered");
    assert_eq!(second["start_time"], "2026-11-24T11:00:00Z");
    assert_eq!(second["end_time"], "2026-11-24T11:01:00Z");

    // Dispositions: busy, no answer, failed, canceled, voicemail (answering machine).
    for (n, state, answered_by, outcome, kind) in [
        (3, "busy", None, "busy", "call"),
        (4, "no-answer", None, "no_answer", "call"),
        (5, "failed", None, "failed", "call"),
        (6, "canceled", None, "canceled", "call"),
        (
            7,
            "completed",
            Some("machine_end_beep"),
            "voicemail",
            "voicemail",
        ),
    ] {
        let sid = call_sid(n);
        let mut params = status(&sid, state, "1", "Tue, 24 Nov 2026 12:00:00 +0000");
        if let Some(a) = answered_by {
            params.push(("AnsweredBy", a));
            params.push(("CallDuration", "20"));
        }
        let r = app.send(callback(&path, &url, TOKEN, &params)).await;
        assert_eq!(r.status, StatusCode::OK, "{state}: {:?}", r.body);
        app.run_jobs().await;
        let log = log_of(app, &c, &sid).await;
        assert_eq!(log["call_outcome"], outcome, "{state}");
        assert_eq!(log["communication_type"], kind, "{state}");
    }
    let missed = logs(app, &c, "call_outcome=no_answer").await;
    assert_eq!(missed.len(), 1);
}

both!(a_call_posted_out_of_order_becomes_one_answered_log);

async fn tampered_callbacks_are_refused_and_copies_stored_once(app: &TestApp) {
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    let path = setup(app, &c, phone, json!({})).await;
    let url = format!("{PUBLIC}{path}");
    let sid = call_sid(9);
    let params = status(&sid, "ringing", "1", "Tue, 24 Nov 2026 10:00:05 +0000");

    // Twilio's SDKs accept the URL with the default port spelled out too.
    let with_port = format!("https://crm.example.com:443{path}");
    let r = app.send(callback(&path, &with_port, TOKEN, &params)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let stored = stored_events(app, &c).await;

    let mut tampered = callback(
        &path,
        &url,
        TOKEN,
        &status(&sid, "completed", "2", "Tue, 24 Nov 2026 10:00:09 +0000"),
    );
    let body = "CallSid=".to_owned()
        + &sid
        + "&AccountSid="
        + ACCOUNT
        + "&From=%2B14155550123&To=%2B14155550100&Direction=inbound&CallStatus=completed&SequenceNumber=3"
        + "&Timestamp=Tue%2C+24+Nov+2026+10%3A00%3A09+%2B0000&CallbackSource=call-progress-events";
    *tampered.body_mut() = Body::from(body);
    let other_account = format!("AC{:032x}", 77);
    let mut foreign = status(&sid, "ringing", "1", "Tue, 24 Nov 2026 10:00:05 +0000");
    foreign[1] = ("AccountSid", &other_account);
    for (request, expected) in [
        (tampered, StatusCode::UNAUTHORIZED),
        (
            callback(&path, &url, "ffffffffffffffffffffffffffffffff", &params),
            StatusCode::UNAUTHORIZED,
        ),
        (
            callback(
                &path,
                &format!("https://crm.example.com:8443{path}"),
                TOKEN,
                &params,
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            callback(
                &path,
                &format!("https://evil.example.com{path}"),
                TOKEN,
                &params,
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            callback(
                &path,
                &format!("http://crm.example.com{path}"),
                TOKEN,
                &params,
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            callback(
                &format!("/api/webhooks/twilio/{}/voice", Uuid::new_v4()),
                &url,
                TOKEN,
                &params,
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            callback(&path, &url, TOKEN, &foreign),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let r = app.send(request).await;
        assert_eq!(r.status, expected, "{:?}", r.body);
    }
    // One byte of the body changed.
    let mut one_byte = callback(
        &path,
        &url,
        TOKEN,
        &status(&sid, "ringing", "4", "Tue, 24 Nov 2026 10:00:05 +0000"),
    );
    let original = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(status(
            &sid,
            "ringing",
            "4",
            "Tue, 24 Nov 2026 10:00:05 +0000",
        ))
        .finish();
    *one_byte.body_mut() = Body::from(original.replacen("ringing", "rInging", 1));
    assert_eq!(app.send(one_byte).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stored_events(app, &c).await, stored, "nothing was stored");

    let sid = call_sid(10);
    let accepted = send_copies(app, 100, || {
        callback(
            &path,
            &url,
            TOKEN,
            &status(&sid, "ringing", "1", "Tue, 24 Nov 2026 10:00:05 +0000"),
        )
    })
    .await;
    assert_eq!(accepted, 1);
    app.run_jobs().await;
    log_of(app, &c, &sid).await;
}

both!(tampered_callbacks_are_refused_and_copies_stored_once);
