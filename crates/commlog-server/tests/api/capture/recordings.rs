//! Call recordings: kept only with the channel's consent, fetched only from allowed origins with
//! the account's credentials, within the size limit, once per recording; served with HTTP Range.

use super::twilio::{ACCOUNT, PUBLIC, TOKEN, call_sid, callback, setup, status};
use super::*;
use crate::both;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const SIZE: usize = 200_000;

/// A stand-in for the provider's media host: answers with the recording's bytes only to the
/// account's credentials; `/big/…` is larger than the limit.
async fn media_host(hits: Arc<AtomicUsize>) -> String {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    let handler = move |uri: axum::http::Uri, headers: HeaderMap| {
        let hits = hits.clone();
        let expected = expected.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str())
            {
                return (
                    StatusCode::UNAUTHORIZED,
                    [("content-type", "text/plain")],
                    Vec::new(),
                );
            }
            let size = if uri.path().starts_with("/big/") {
                2 * 1024 * 1024
            } else {
                SIZE
            };
            let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            (StatusCode::OK, [("content-type", "audio/x-wav")], body)
        }
    };
    let router = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn recording(path: &str, sid: &str, rec: &str, url: &str) -> Request<Body> {
    let signed = format!("{PUBLIC}{path}");
    callback(
        path,
        &signed,
        TOKEN,
        &[
            ("AccountSid", ACCOUNT),
            ("CallSid", sid),
            ("RecordingSid", rec),
            ("RecordingUrl", url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "12"),
        ],
    )
}

async fn attachments(app: &TestApp, c: &Company, log: &Value) -> Vec<Value> {
    let r = app
        .get(
            &format!(
                "/api/communication-attachments/?communication_log_id={}",
                id(log)
            ),
            &c.admin,
        )
        .await;
    r.body.as_array().expect("attachments").clone()
}

async fn recordings_are_kept_with_consent_from_allowed_hosts(app: &TestApp) {
    let hits = Arc::new(AtomicUsize::new(0));
    let host = media_host(hits.clone()).await;
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    let voice = setup(app, &c, phone, json!({"recording_origins": [host]})).await;
    let rec_path = voice.replace("/voice", "/recording");
    let voice_url = format!("{PUBLIC}{voice}");
    let finish_call = |n: u32| {
        let sid = call_sid(n);
        let mut p: Vec<(String, String)> =
            status(&sid, "completed", "1", "Tue, 24 Nov 2026 10:01:00 +0000")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        p.push(("CallDuration".into(), "60".into()));
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        callback(&voice, &voice_url, TOKEN, &refs)
    };

    // No consent yet (the default): the recording is never fetched.
    app.send(finish_call(1)).await;
    let sid = call_sid(1);
    let rec1 = format!("RE{:032x}", 1);
    let r = app
        .send(recording(
            &rec_path,
            &sid,
            &rec1,
            &format!("{host}/rec/{rec1}"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_jobs().await;
    let log = log_of(app, &c, &sid).await;
    assert!(attachments(app, &c, &log).await.is_empty());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing fetched without consent"
    );

    // With consent: fetched with the account's credentials, attached once.
    let r = app
        .patch(
            &format!("/api/channel-configurations/{phone}/"),
            &c.admin,
            json!({"record_calls": true}),
        )
        .await;
    assert_eq!(r.body["record_calls"], true, "{:?}", r.body);
    app.send(finish_call(2)).await;
    let sid = call_sid(2);
    let rec2 = format!("RE{:032x}", 2);
    app.send(recording(
        &rec_path,
        &sid,
        &rec2,
        &format!("{host}/rec/{rec2}"),
    ))
    .await;
    app.run_jobs().await;
    let log = log_of(app, &c, &sid).await;
    let kept = attachments(app, &c, &log).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["file_name"], format!("recording-{rec2}.wav"));
    assert_eq!(kept[0]["file_size"], SIZE);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let again = app
        .send(recording(
            &rec_path,
            &sid,
            &rec2,
            &format!("{host}/rec/{rec2}"),
        ))
        .await;
    assert_eq!(again.body["status"], "duplicate");

    // Served with Range support, so a player can seek.
    let download = format!("/api/communication-attachments/{}/download/", id(&kept[0]));
    let ranged = |range: &'static str| {
        Request::builder()
            .method(Method::GET)
            .uri(&download)
            .header("authorization", format!("Bearer {}", c.admin))
            .header("range", range)
            .body(Body::empty())
            .expect("request")
    };
    let whole = app.get(&download, &c.admin).await;
    assert_eq!(whole.bytes.len(), SIZE);
    assert_eq!(whole.headers["accept-ranges"], "bytes");
    let part = app.send(ranged("bytes=100-199")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers["content-range"],
        format!("bytes 100-199/{SIZE}")
    );
    assert_eq!(part.bytes, whole.bytes[100..200].to_vec());
    let tail = app.send(ranged("bytes=-10")).await;
    assert_eq!(tail.bytes, whole.bytes[SIZE - 10..].to_vec());
    let beyond = app.send(ranged("bytes=999999-")).await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.headers["content-range"], format!("bytes */{SIZE}"));

    // Not from an allowed origin, or too large: never stored, and the job is dead-lettered
    // for an administrator to see.
    for (n, url) in [
        (3, "https://evil.example.com/rec.wav".to_owned()),
        (4, format!("{host}/big/rec")),
    ] {
        app.send(finish_call(n)).await;
        let rec = format!("RE{n:032x}");
        app.send(recording(&rec_path, &call_sid(n), &rec, &url))
            .await;
    }
    app.run_jobs().await;
    for n in [3, 4] {
        assert!(
            attachments(app, &c, &log_of(app, &c, &call_sid(n)).await)
                .await
                .is_empty()
        );
    }
    let dead = app.get("/api/jobs/?status=dead", &c.admin).await;
    let dead = dead.body.as_array().expect("jobs").clone();
    assert_eq!(dead.len(), 2, "{dead:?}");
    let errors: Vec<String> = dead
        .iter()
        .map(|j| j["last_error"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("not an allowed recording host")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("larger than")),
        "{errors:?}"
    );
    let retried = app
        .post(
            &format!("/api/jobs/{}/retry/", id(&dead[0])),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["status"], "queued");
    let twice = app
        .post(
            &format!("/api/jobs/{}/retry/", id(&dead[0])),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // A recording that overtakes its call waits for it (retried later, not lost).
    let early = format!("RE{:032x}", 5);
    app.send(recording(
        &rec_path,
        &call_sid(5),
        &early,
        &format!("{host}/rec/{early}"),
    ))
    .await;
    app.run_jobs().await;
    let queued = app.get("/api/jobs/?status=queued", &c.admin).await;
    let waiting: Vec<&Value> = queued
        .body
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| {
            j["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not captured yet"))
        })
        .collect();
    assert_eq!(waiting.len(), 1, "{:?}", queued.body);
}

/// A caller who refused to be recorded is not, on a channel that records: the recording is
/// never fetched; once they agree, the next call's recording is kept.
async fn a_contact_who_refused_recording_is_not_recorded(app: &TestApp) {
    let hits = Arc::new(AtomicUsize::new(0));
    let host = media_host(hits.clone()).await;
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    let voice = setup(app, &c, phone, json!({"recording_origins": [host]})).await;
    let r = app
        .patch(
            &format!("/api/channel-configurations/{phone}/"),
            &c.admin,
            json!({"record_calls": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The caller of `status()` (+14155550123) is this contact.
    let r = app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Quinn", "phones": ["+14155550123"], "recording_consent": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let contact = id(&r.body);
    let rec_path = voice.replace("/voice", "/recording");
    let voice_url = format!("{PUBLIC}{voice}");
    let call = |n: u32| {
        let sid = call_sid(n);
        let mut p: Vec<(String, String)> =
            status(&sid, "completed", "1", "Tue, 24 Nov 2026 10:01:00 +0000")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        p.push(("CallDuration".into(), "60".into()));
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        callback(&voice, &voice_url, TOKEN, &refs)
    };
    for n in [1, 2] {
        if n == 2 {
            let r = app
                .patch(
                    &format!("/api/contacts/{contact}/"),
                    &c.admin,
                    json!({"recording_consent": true}),
                )
                .await;
            assert_eq!(r.body["recording_consent"], true, "{:?}", r.body);
        }
        app.send(call(n)).await;
        let rec = format!("RE{n:032x}");
        app.send(recording(
            &rec_path,
            &call_sid(n),
            &rec,
            &format!("{host}/rec/{rec}"),
        ))
        .await;
        app.run_jobs().await;
        let log = log_of(app, &c, &call_sid(n)).await;
        assert_eq!(log["contact_id"], contact.to_string(), "{log:?}");
        let kept = attachments(app, &c, &log).await;
        assert_eq!(
            (kept.len(), hits.load(Ordering::SeqCst)),
            if n == 1 { (0, 0) } else { (1, 1) },
            "call {n}: {kept:?}"
        );
    }
}

both!(
    recordings_are_kept_with_consent_from_allowed_hosts,
    a_contact_who_refused_recording_is_not_recorded
);
