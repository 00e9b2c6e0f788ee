//! Capture from providers: every webhook signed on its raw body, each event stored once before
//! the acknowledgement, processed by background jobs into one log per call or message, matched
//! to customers by caller ID, with recordings kept only where consent is given.

mod freeswitch;
mod generic;
mod matching;
mod messaging;
mod recordings;
mod twilio;

use crate::helpers::*;
use axum::http::Method;
use serde_json::Value;
use uuid::Uuid;

/// The id of a company's channel with this code, made if missing.
pub async fn channel(app: &TestApp, c: &Company, code: &str, kind: &str) -> Uuid {
    let list = app.get("/api/channel-configurations/", &c.admin).await;
    if let Some(found) = list
        .body
        .as_array()
        .expect("channels")
        .iter()
        .find(|ch| ch["channel_code"] == code)
    {
        return id(found);
    }
    let made = app
        .post(
            "/api/channel-configurations/",
            &c.admin,
            serde_json::json!({"channel_name": code, "channel_code": code, "channel_type": kind}),
        )
        .await;
    id(&made.body)
}

/// Configures a channel's webhook as the company's admin.
pub async fn configure(app: &TestApp, c: &Company, channel: Uuid, body: Value) -> Response {
    app.call(
        Method::PUT,
        &format!("/api/channel-configurations/{channel}/webhook/"),
        Some(&c.admin),
        Some(body),
    )
    .await
}

/// How many events the company's webhooks have stored (one job each).
pub async fn stored_events(app: &TestApp, c: &Company) -> usize {
    // Capture jobs only: each log a capture creates queues its processing too.
    app.get("/api/jobs/?limit=1000", &c.admin)
        .await
        .body
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| j["kind"] == "capture")
        .count()
}

/// The company's logs, newest first (at most 100).
pub async fn logs(app: &TestApp, c: &Company, query: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/communication-logs/?page_size=100&{query}"),
            &c.admin,
        )
        .await;
    r.body["results"].as_array().expect("results").clone()
}

/// The one log with this external id.
pub async fn log_of(app: &TestApp, c: &Company, external_id: &str) -> Value {
    let all = logs(app, c, "").await;
    let found: Vec<&Value> = all
        .iter()
        .filter(|l| l["external_id"] == external_id)
        .collect();
    if found.len() != 1 {
        let jobs = app.get("/api/jobs/?limit=1000", &c.admin).await.body;
        panic!("{} logs for {external_id}; jobs: {jobs}", found.len());
    }
    found[0].clone()
}

/// Sends `n` copies of a request at once; returns how many were stored as new.
pub async fn send_copies(
    app: &TestApp,
    n: usize,
    make: impl Fn() -> axum::http::Request<axum::body::Body>,
) -> usize {
    let copies = (0..n).map(|_| app.send(make()));
    let mut accepted = 0;
    for r in futures_util::future::join_all(copies).await {
        assert!(r.status.is_success(), "{} {:?}", r.status, r.body);
        accepted += r.body["accepted"].as_u64().unwrap_or(0) as usize;
    }
    accepted
}
