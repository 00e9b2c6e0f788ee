//! The generic call webhook: signed on the raw body, stored once per call and event, one log
//! per call completed by later events, and nothing written for anything unsigned or stale.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use commlog_domain::Role;
use serde_json::{Value, json};

const SECRET: &str = "pbx-shared-secret-0123";

fn signed(path: &str, body: &Value, secret: &str, age_seconds: i64) -> Request<Body> {
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

async fn configure(app: &TestApp, channel: uuid::Uuid, token: &str) -> Response {
    let body = json!({"provider": "generic", "secret": SECRET});
    app.call(
        Method::PUT,
        &format!("/api/channel-configurations/{channel}/webhook/"),
        Some(token),
        Some(body),
    )
    .await
}

async fn signed_call_events_become_one_log_per_call(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 5).await;
    let channels = app
        .get("/api/channel-configurations/?channel_type=phone", &c.admin)
        .await;
    let phone = id(&channels.body[0]);
    assert_eq!(
        configure(app, phone, &rep).await.status,
        StatusCode::FORBIDDEN
    );
    let r = configure(app, phone, &c.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let url = r.body["webhook_url"].as_str().expect("url").to_owned();
    let listed = app
        .get(&format!("/api/channel-configurations/{phone}/"), &c.admin)
        .await;
    assert!(
        !listed.body.to_string().contains(SECRET),
        "the secret is never shown"
    );
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
    assert_eq!(first.body["status"], "captured");
    let log = first.body["communication_log_id"]
        .as_str()
        .expect("log")
        .to_owned();
    let again = app
        .send(signed(&url, &event("pbx-1", "answered"), SECRET, 0))
        .await;
    assert_eq!(again.body["status"], "duplicate");
    let done = app
        .send(signed(&url, &event("pbx-1", "completed"), SECRET, 0))
        .await;
    assert_eq!(
        done.body["communication_log_id"],
        json!(log),
        "later events complete the same log"
    );
    let detail = app
        .get(&format!("/api/communication-logs/{log}/"), &c.admin)
        .await;
    assert_eq!(detail.body["duration_seconds"], 185);
    assert_eq!(
        detail.body["contact_id"],
        json!(contact),
        "the caller's number found the contact"
    );
    assert_eq!(detail.body["source"], "generic");
    assert_eq!(app.count_logs(&c).await, 1);

    // Tampered, wrongly signed, stale, unsigned or unknown: refused, nothing written.
    let mut tampered = signed(&url, &event("pbx-2", "answered"), SECRET, 0);
    *tampered.body_mut() = Body::from(
        event("pbx-2", "answered")
            .to_string()
            .replace("pbx-2", "pbx-3"),
    );
    for (request, expected) in [
        (tampered, StatusCode::UNAUTHORIZED),
        (
            signed(
                &url,
                &event("pbx-2", "answered"),
                "another-secret-entirely",
                0,
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            signed(&url, &event("pbx-2", "answered"), SECRET, 600),
            StatusCode::UNAUTHORIZED,
        ),
        (
            signed(
                &format!("/api/webhooks/calls/{}", uuid::Uuid::new_v4()),
                &event("pbx-2", "answered"),
                SECRET,
                0,
            ),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let r = app.send(request).await;
        assert_eq!(r.status, expected, "{:?}", r.body);
    }
    let unsigned = app
        .call(Method::POST, &url, None, Some(event("pbx-2", "answered")))
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count_logs(&c).await, 1);

    // Twenty copies of one delivery at once: one log.
    let copies = (0..20).map(|_| app.send(signed(&url, &event("pbx-9", "ringing"), SECRET, 0)));
    for r in futures_util::future::join_all(copies).await {
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    assert_eq!(app.count_logs(&c).await, 2);
}

both!(signed_call_events_become_one_log_per_call);
