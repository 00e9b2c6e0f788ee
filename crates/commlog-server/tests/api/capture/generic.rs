//! The generic call webhook: signed on the raw body (HMAC-SHA256 with a timestamp), stored
//! once per call and event, one log per call completed by later events, nothing written for
//! anything unsigned, tampered or stale.

use super::*;
use crate::both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use commlog_domain::Role;
use serde_json::{Value, json};

const SECRET: &str = "pbx-shared-secret-0123";

pub fn signed(path: &str, body: &Value, secret: &str, age_seconds: i64) -> Request<Body> {
    let bytes = body.to_string().into_bytes();
    let t = time::OffsetDateTime::now_utc().unix_timestamp() - age_seconds;
    let signature =
        commlog_ingest::signature::sign_commlog(secret.as_bytes(), t, &bytes).expect("sign");
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-commlog-signature", signature)
        .body(Body::from(bytes))
        .expect("request")
}

fn event(call: &str, kind: &str) -> Value {
    let mut e = json!({"call_id": call, "event": kind, "direction": "inbound", "from": "+14155550123",
        "to": "+14155550100", "started_at": "2026-11-24T10:00:00Z"});
    if kind == "completed" {
        e["answered_at"] = json!("2026-11-24T10:00:05Z");
        e["ended_at"] = json!("2026-11-24T10:03:05Z");
        e["duration_seconds"] = json!(185);
    }
    e
}

async fn signed_call_events_become_one_log_per_call(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 5).await;
    let phone = channel(app, &c, "phone", "phone").await;
    let body = json!({"provider": "generic", "secret": SECRET});
    let denied = app
        .call(
            Method::PUT,
            &format!("/api/channel-configurations/{phone}/webhook/"),
            Some(&rep),
            Some(body.clone()),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let short = configure(
        app,
        &c,
        phone,
        json!({"provider": "generic", "secret": "short"}),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = configure(app, &c, phone, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let url = r.body["webhook_url"].as_str().expect("url").to_owned();
    let shown = app
        .get(&format!("/api/channel-configurations/{phone}/"), &c.admin)
        .await;
    assert!(
        !shown.body.to_string().contains(SECRET),
        "the secret is never shown"
    );
    assert_eq!(shown.body["provider"], "generic");
    assert_eq!(shown.body["webhook_configured"], true);
    let contact = id(&app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Ann Buyer", "phones": ["+14155550123"]}),
        )
        .await
        .body);

    let first = app
        .send(signed(&url, &event("pbx-1", "answered"), SECRET, 0))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "accepted");
    let again = app
        .send(signed(&url, &event("pbx-1", "answered"), SECRET, 0))
        .await;
    assert_eq!(again.body["status"], "duplicate");
    assert_eq!(
        app.count_logs(&c).await,
        0,
        "processing is deferred to a job"
    );
    // The capture job, then the processing of the log it created.
    assert_eq!(app.run_jobs().await, 2);
    let ongoing = log_of(app, &c, "pbx-1").await;
    assert_eq!(ongoing["call_outcome"], Value::Null, "still going on");
    assert_eq!(
        ongoing["contact_id"],
        json!(contact),
        "the caller's number found the contact"
    );

    app.send(signed(&url, &event("pbx-1", "completed"), SECRET, 0))
        .await;
    app.run_jobs().await;
    let done = log_of(app, &c, "pbx-1").await;
    assert_eq!(
        done["id"], ongoing["id"],
        "later events complete the same log"
    );
    assert_eq!(done["duration_seconds"], 185);
    assert_eq!(done["call_outcome"], "answered");
    assert_eq!(done["source"], "generic");
    assert_eq!(app.count_logs(&c).await, 1);
    let events = stored_events(app, &c).await;
    assert_eq!(events, 2);

    // Tampered, wrongly signed, stale, unsigned or unknown: refused, nothing written.
    let mut tampered = signed(&url, &event("pbx-2", "answered"), SECRET, 0);
    *tampered.body_mut() = Body::from(
        event("pbx-2", "answered")
            .to_string()
            .replace("pbx-2", "pbx-3"),
    );
    let other_channel = format!("/api/webhooks/calls/{}", Uuid::new_v4());
    for request in [
        tampered,
        signed(
            &url,
            &event("pbx-2", "answered"),
            "another-secret-entirely",
            0,
        ),
        signed(&url, &event("pbx-2", "answered"), SECRET, 600),
        signed(&url, &event("pbx-2", "answered"), SECRET, -600),
        signed(&other_channel, &event("pbx-2", "answered"), SECRET, 0),
    ] {
        let r = app.send(request).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
        assert_eq!(r.body["error_code"], "invalid_signature");
    }
    let unsigned = app
        .call(Method::POST, &url, None, Some(event("pbx-2", "answered")))
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let garbage = app
        .send(signed(&url, &json!({"call_id": "x"}), SECRET, 0))
        .await;
    assert_eq!(
        garbage.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "signed but unreadable"
    );
    let mut huge = signed(&url, &event("pbx-2", "answered"), SECRET, 0);
    *huge.body_mut() = Body::from(vec![b' '; commlog_ingest::MAX_WEBHOOK_BYTES + 1]);
    let r = app.send(huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(stored_events(app, &c).await, events, "nothing was stored");
    app.run_jobs().await;
    assert_eq!(app.count_logs(&c).await, 1);

    // A hundred copies of one delivery at once: stored once, one log.
    let accepted = send_copies(app, 100, || {
        signed(&url, &event("pbx-9", "ringing"), SECRET, 0)
    })
    .await;
    assert_eq!(accepted, 1);
    app.run_jobs().await;
    assert_eq!(app.count_logs(&c).await, 2);
}

both!(signed_call_events_become_one_log_per_call);
