//! Messaging webhooks: Slack (signature v0, 5-minute window, url_verification, retries
//! deduplicated by event_id, workspace mapping), WhatsApp (verify-token handshake,
//! X-Hub-Signature-256, messages and out-of-order statuses) and Teams via Graph (validation
//! handshake, clientState, lifecycle notices). Messages become logs grouped into threads.

use super::*;
use crate::both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

fn slack(path: &str, body: &Value, secret: &str, age: i64) -> Request<Body> {
    let bytes = body.to_string();
    let ts = (time::OffsetDateTime::now_utc().unix_timestamp() - age).to_string();
    let sig = hmac_hex(secret, &[b"v0:", ts.as_bytes(), b":", bytes.as_bytes()]);
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", format!("v0={sig}"))
        .body(Body::from(bytes))
        .expect("request")
}

fn slack_event(event_id: &str, team: &str, event: Value) -> Value {
    json!({"type": "event_callback", "team_id": team, "api_app_id": "A0001", "event_id": event_id,
        "event_time": 1764000000, "event": event})
}

async fn slack_messages_become_threaded_chat_logs(app: &TestApp) {
    let c = app.company("Acme").await;
    let ch = channel(app, &c, "slack", "chat").await;
    let no_team = configure(
        app,
        &c,
        ch,
        json!({"provider": "slack", "secret": SLACK_SECRET}),
    )
    .await;
    assert_eq!(
        no_team.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the workspace is required"
    );
    let r = configure(
        app,
        &c,
        ch,
        json!({"provider": "slack", "secret": SLACK_SECRET, "account": "T0001"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let path = r.body["webhook_url"].as_str().expect("url").to_owned();

    let challenge = app
        .send(slack(&path, &json!({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}), SLACK_SECRET, 0))
        .await;
    assert_eq!(challenge.status, StatusCode::OK);
    assert_eq!(
        challenge.bytes,
        b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    let parent = slack_event(
        "Ev1",
        "T0001",
        json!({"type": "message", "channel": "C1", "user": "U1",
        "text": "Can someone call me about the invoice?", "ts": "1764000000.000100"}),
    );
    let reply = slack_event(
        "Ev2",
        "T0001",
        json!({"type": "message", "channel": "C1", "user": "U2",
        "text": "On it", "ts": "1764000100.000200", "thread_ts": "1764000000.000100"}),
    );
    let other = slack_event(
        "Ev3",
        "T0001",
        json!({"type": "message", "channel": "C1", "user": "U1",
        "text": "Unrelated", "ts": "1764000200.000300"}),
    );
    for e in [&parent, &reply, &other] {
        let r = app.send(slack(&path, e, SLACK_SECRET, 0)).await;
        assert_eq!(r.body["status"], "accepted", "{:?}", r.body);
    }
    // Slack's retry of the same event: stored once.
    let retry = app.send(slack(&path, &reply, SLACK_SECRET, 0)).await;
    assert_eq!(retry.body["status"], "duplicate");
    app.run_jobs().await;
    let first = log_of(app, &c, "C1:1764000000.000100").await;
    let second = log_of(app, &c, "C1:1764000100.000200").await;
    let third = log_of(app, &c, "C1:1764000200.000300").await;
    assert_eq!(first["communication_type"], "chat");
    assert_eq!(first["channel"], "slack");
    assert_eq!(first["content"], "Can someone call me about the invoice?");
    assert_eq!(
        first["thread_id"], second["thread_id"],
        "a reply joins its message's thread"
    );
    assert_ne!(first["thread_id"], third["thread_id"]);
    let thread = first["thread_id"].as_str().expect("thread");
    assert_eq!(logs(app, &c, &format!("thread_id={thread}")).await.len(), 2);

    // Edits update the log; deletions remove it.
    let edit = slack_event(
        "Ev4",
        "T0001",
        json!({"type": "message", "subtype": "message_changed", "channel": "C1",
        "ts": "1764000300.000100", "message": {"type": "message", "user": "U2", "text": "On it, calling now",
        "ts": "1764000100.000200", "thread_ts": "1764000000.000100"}}),
    );
    let delete = slack_event(
        "Ev5",
        "T0001",
        json!({"type": "message", "subtype": "message_deleted", "channel": "C1",
        "ts": "1764000400.000100", "deleted_ts": "1764000200.000300"}),
    );
    app.send(slack(&path, &edit, SLACK_SECRET, 0)).await;
    app.send(slack(&path, &delete, SLACK_SECRET, 0)).await;
    app.run_jobs().await;
    assert_eq!(
        log_of(app, &c, "C1:1764000100.000200").await["content"],
        "On it, calling now"
    );
    assert!(
        logs(app, &c, "")
            .await
            .iter()
            .all(|l| l["external_id"] != "C1:1764000200.000300")
    );

    // Stale, wrongly signed, another workspace: refused, nothing stored.
    let stored = stored_events(app, &c).await;
    let fresh = slack_event(
        "Ev6",
        "T0001",
        json!({"type": "message", "channel": "C1", "user": "U1", "text": "x", "ts": "1764000500.000100"}),
    );
    for (request, expected) in [
        (
            slack(&path, &fresh, SLACK_SECRET, 301),
            StatusCode::UNAUTHORIZED,
        ),
        (
            slack(&path, &fresh, "not-the-signing-secret-at-all", 0),
            StatusCode::UNAUTHORIZED,
        ),
        (
            slack(
                &path,
                &slack_event(
                    "Ev7",
                    "T9999",
                    json!({"type": "message", "channel": "C1", "user": "U1", "text": "x", "ts": "1764000600.000100"}),
                ),
                SLACK_SECRET,
                0,
            ),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let r = app.send(request).await;
        assert_eq!(r.status, expected, "{:?}", r.body);
    }
    assert_eq!(stored_events(app, &c).await, stored);

    let copy = slack_event(
        "Ev8",
        "T0001",
        json!({"type": "message", "channel": "C2", "user": "U1", "text": "copies", "ts": "1764000700.000100"}),
    );
    assert_eq!(
        send_copies(app, 100, || slack(&path, &copy, SLACK_SECRET, 0)).await,
        1
    );
    app.run_jobs().await;
    log_of(app, &c, "C2:1764000700.000100").await;
}

both!(slack_messages_become_threaded_chat_logs);

const APP_SECRET: &str = "meta-app-secret-0123456789";

fn whatsapp(path: &str, body: &Value, secret: &str) -> Request<Body> {
    let bytes = body.to_string();
    let sig = hmac_hex(secret, &[bytes.as_bytes()]);
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={sig}"))
        .body(Body::from(bytes))
        .expect("request")
}

fn hook(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550783881", "phone_number_id": "106540352242922"});
    json!({"object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]})
}

fn status(id: &str, status: &str, at: u64) -> Value {
    hook(
        json!({"statuses": [{"id": id, "status": status, "timestamp": at.to_string(), "recipient_id": "16505551234"}]}),
    )
}

async fn whatsapp_messages_and_statuses_are_captured(app: &TestApp) {
    let c = app.company("Acme").await;
    let ch = channel(app, &c, "whatsapp", "messaging").await;
    let r = configure(
        app,
        &c,
        ch,
        json!({"provider": "whatsapp", "secret": APP_SECRET,
        "verify_token": "meatyhamhock", "account": "106540352242922"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let path = r.body["webhook_url"].as_str().expect("url").to_owned();

    let ok = app
        .call(
            Method::GET,
            &format!(
                "{path}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"
            ),
            None,
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.bytes, b"1158201444");
    let wrong = app
        .call(
            Method::GET,
            &format!("{path}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess"),
            None,
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let contact = id(&app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Sheena Nelson", "phones": ["+16505551234"]}),
        )
        .await
        .body);
    let messages = hook(json!({
    "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
    "messages": [
        {"from": "16505551234", "id": "wamid.1", "timestamp": "1764000000", "type": "text", "text": {"body": "Does it come in blue?"}},
        {"from": "16505551234", "id": "wamid.2", "timestamp": "1764000060", "type": "text", "text": {"body": "And in green?"}}
    ]}));
    let r = app.send(whatsapp(&path, &messages, APP_SECRET)).await;
    assert_eq!(r.body["accepted"], 2, "{:?}", r.body);
    assert_eq!(
        app.send(whatsapp(&path, &messages, APP_SECRET)).await.body["status"],
        "duplicate"
    );
    // Statuses of one of our messages, out of order: read wins over a late delivered.
    for (s, at) in [
        ("read", 1764000300),
        ("sent", 1764000100),
        ("delivered", 1764000200),
    ] {
        let r = app
            .send(whatsapp(&path, &status("wamid.OUT", s, at), APP_SECRET))
            .await;
        assert_eq!(r.body["status"], "accepted", "{:?}", r.body);
    }
    app.run_jobs().await;
    let first = log_of(app, &c, "wamid.1").await;
    let second = log_of(app, &c, "wamid.2").await;
    assert_eq!(first["communication_type"], "message");
    assert_eq!(
        first["contact_id"],
        json!(contact),
        "the sender's number found the contact"
    );
    assert_eq!(
        first["thread_id"], second["thread_id"],
        "one conversation with the contact"
    );
    let delivery = app
        .store
        .message_delivery(c.id, "whatsapp", "wamid.OUT")
        .await
        .expect("delivery")
        .expect("kept");
    assert_eq!(delivery.0, "read");

    let stored = stored_events(app, &c).await;
    let mut tampered = whatsapp(&path, &messages, APP_SECRET);
    *tampered.body_mut() = Body::from(messages.to_string().replace("blue", "red!"));
    for request in [
        tampered,
        whatsapp(&path, &messages, "another-app-secret-000"),
    ] {
        assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(stored_events(app, &c).await, stored);

    let one = hook(
        json!({"messages": [{"from": "16505551234", "id": "wamid.copy", "timestamp": "1764000900", "type": "text", "text": {"body": "copy"}}]}),
    );
    assert_eq!(
        send_copies(app, 100, || whatsapp(&path, &one, APP_SECRET)).await,
        1
    );
    app.run_jobs().await;
    log_of(app, &c, "wamid.copy").await;
}

both!(whatsapp_messages_and_statuses_are_captured);

const CLIENT_STATE: &str = "teams-client-state-0123456789";

fn graph(path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn notification(change: &str, chat: &str, message: &str, state: &str) -> Value {
    json!({"subscriptionId": "sub-1", "subscriptionExpirationDateTime": "2026-11-25T10:00:00Z",
        "changeType": change, "resource": format!("chats('{chat}')/messages('{message}')"),
        "resourceData": {"@odata.type": "#Microsoft.Graph.chatMessage", "id": message},
        "clientState": state, "tenantId": "tenant-1"})
}

async fn teams_notifications_are_validated_and_captured(app: &TestApp) {
    let c = app.company("Acme").await;
    let ch = channel(app, &c, "teams", "chat").await;
    let r = configure(
        app,
        &c,
        ch,
        json!({"provider": "teams", "secret": CLIENT_STATE}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let path = r.body["webhook_url"].as_str().expect("url").to_owned();

    let validation = app
        .call(
            Method::POST,
            &format!("{path}?validationToken=Validation%3A+Testing+client+application"),
            None,
            None,
        )
        .await;
    assert_eq!(validation.status, StatusCode::OK);
    assert_eq!(validation.bytes, b"Validation: Testing client application");
    assert_eq!(validation.headers["content-type"], "text/plain");

    let batch = json!({"value": [
        notification("created", "19:chat1@thread.v2", "1001", CLIENT_STATE),
        notification("created", "19:chat1@thread.v2", "1002", CLIENT_STATE),
        {"subscriptionId": "sub-1", "lifecycleEvent": "reauthorizationRequired", "clientState": CLIENT_STATE,
         "subscriptionExpirationDateTime": "2026-11-25T10:00:00Z"}
    ]});
    let r = app.send(graph(&path, &batch)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 3);
    app.run_jobs().await;
    let a = log_of(app, &c, "1001").await;
    let b = log_of(app, &c, "1002").await;
    assert_eq!(a["thread_id"], b["thread_id"], "one Teams chat, one thread");
    assert_eq!(a["channel"], "teams");

    // One notification with the wrong clientState refuses the whole batch.
    let stored = stored_events(app, &c).await;
    let forged = json!({"value": [
        notification("created", "19:chat1@thread.v2", "1003", CLIENT_STATE),
        notification("created", "19:chat1@thread.v2", "1004", "guessed-client-state-000000")
    ]});
    assert_eq!(
        app.send(graph(&path, &forged)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unknown = format!("/api/webhooks/teams/{}", Uuid::new_v4());
    let probe = app
        .call(
            Method::POST,
            &format!("{unknown}?validationToken=x"),
            None,
            None,
        )
        .await;
    assert_eq!(
        probe.status,
        StatusCode::UNAUTHORIZED,
        "no echo for unknown channels"
    );
    assert_eq!(stored_events(app, &c).await, stored);

    let one =
        json!({"value": [notification("created", "19:chat2@thread.v2", "2001", CLIENT_STATE)]});
    assert_eq!(send_copies(app, 100, || graph(&path, &one)).await, 1);
    app.run_jobs().await;
    log_of(app, &c, "2001").await;
}

both!(teams_notifications_are_validated_and_captured);
