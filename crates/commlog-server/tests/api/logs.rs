//! Logging and managing communications: create with the automatic rules, idempotency, detail,
//! list filters and paging, full and partial updates, transitions, assignment, deletion.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use commlog_domain::Role;
use serde_json::json;
use uuid::Uuid;

async fn create_computes_duration_and_returns_location(app: &TestApp) {
    let c = app.company("Acme").await;
    let r = app
        .post("/api/communication-logs/", &c.admin, call_body(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["duration_seconds"], 750);
    assert_eq!(r.body["duration_minutes"], 12);
    assert_eq!(r.body["status"], "logged");
    assert_eq!(r.body["priority"], "normal");
    assert_eq!(
        r.body["subject"],
        "Discussed the renewal and the new pricing tiers."
    );
    assert!(
        r.body["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("no customer")))
    );
    let location = r
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    assert_eq!(app.get(&location, &c.admin).await.status, StatusCode::OK);
}

async fn default_priority_comes_from_the_category(app: &TestApp) {
    let c = app.company("Acme").await;
    let cats = app
        .get("/api/communication-categories/?is_active=true", &c.admin)
        .await;
    let renewal = cats
        .body
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["category_code"] == "renewal")
        .expect("renewal");
    let r = app
        .post(
            "/api/communication-logs/",
            &c.admin,
            call_body(json!({"category_ids": [renewal["id"]]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["priority"], "high");
    assert_eq!(r.body["categories"][0]["category_code"], "renewal");
}

async fn idempotency_key_replays_the_first_result(app: &TestApp) {
    let c = app.company("Acme").await;
    let send = |body: serde_json::Value| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/communication-logs/")
            .header("authorization", format!("Bearer {}", c.admin))
            .header("content-type", "application/json")
            .header("idempotency-key", "retry-123")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let first = app.send(send(call_body(json!({})))).await;
    let second = app.send(send(call_body(json!({})))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(id(&first.body), id(&second.body));
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let different = app
        .send(send(call_body(json!({"direction": "inbound"}))))
        .await;
    assert_eq!(different.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(different.body["error_code"], "idempotency_key_reused");
    assert_eq!(app.count_logs(&c).await, 1);
}

async fn the_same_captured_item_is_one_log(app: &TestApp) {
    let c = app.company("Acme").await;
    let body = call_body(json!({"source": "twilio", "external_id": "CA123"}));
    let a = app
        .post("/api/communication-logs/", &c.admin, body.clone())
        .await;
    let b = app.post("/api/communication-logs/", &c.admin, body).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(id(&a.body), id(&b.body));
    assert_eq!(app.count_logs(&c).await, 1);
}

async fn detail_includes_what_is_asked_for(app: &TestApp) {
    let c = app.company("Acme").await;
    let log = app.log(&c.admin, json!({"transcription": "Agent: hello", "requires_follow_up": true, "follow_up_date": "2026-03-05T09:00:00Z"})).await;
    let plain = app
        .get(&format!("/api/communication-logs/{log}/"), &c.admin)
        .await;
    assert!(plain.body.get("transcription").is_none());
    assert!(plain.body.get("attachments").is_none());
    let full = app.get(&format!("/api/communication-logs/{log}/?include_transcript=true&include_attachments=true&include_follow_up=true"), &c.admin).await;
    assert_eq!(full.body["transcription"], "Agent: hello");
    assert_eq!(full.body["attachments"], json!([]));
    assert_eq!(full.body["follow_up"]["follow_up_status"], "pending");
    assert_eq!(
        full.body["follow_up"]["follow_up_date"],
        "2026-03-05T09:00:00Z"
    );
}

async fn list_filters_search_and_pages(app: &TestApp) {
    let c = app.company("Acme").await;
    for i in 0..7 {
        let channel = if i % 2 == 0 { "phone" } else { "chat" };
        let kind = if i % 2 == 0 { "call" } else { "chat" };
        let content = if i == 3 {
            "The customer asked about the zeppelin integration."
        } else {
            "A routine conversation about invoices."
        };
        app.log(&c.admin, json!({"channel": channel, "communication_type": kind, "start_time": format!("2026-03-0{}T10:00:00Z", i + 1),
            "end_time": format!("2026-03-0{}T10:10:00Z", i + 1), "content": content, "tags": if i < 2 { json!(["vip"]) } else { json!([]) }})).await;
    }
    let r = app
        .get("/api/communication-logs/?channel=phone", &c.admin)
        .await;
    assert_eq!(r.body["count"], 4);
    assert_eq!(r.body["filters"]["channel"], "phone");
    let r = app.get("/api/communication-logs/?tag=vip", &c.admin).await;
    assert_eq!(r.body["count"], 2);
    let r = app
        .get("/api/communication-logs/?search=zeppelin", &c.admin)
        .await;
    assert_eq!(r.body["count"], 1);
    let r = app.get("/api/communication-logs/?start_time_after=2026-03-03T00:00:00Z&start_time_before=2026-03-05T00:00:00Z", &c.admin).await;
    assert_eq!(r.body["count"], 2);
    // Newest first; pages of 3 via links, and the same walk via cursors.
    let mut seen = Vec::new();
    let mut next = Some("/api/communication-logs/?page_size=3".to_owned());
    while let Some(url) = next {
        let r = app.get(&url, &c.admin).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        seen.extend(
            r.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|x| x["start_time"].as_str().expect("t").to_owned()),
        );
        next = r.body["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
    let mut via_cursor = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cur) => format!("/api/communication-logs/?page_size=3&cursor={cur}"),
            None => "/api/communication-logs/?page_size=3".into(),
        };
        let r = app.get(&url, &c.admin).await;
        via_cursor.extend(
            r.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|x| x["start_time"].as_str().expect("t").to_owned()),
        );
        cursor = r.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, via_cursor);
    let r = app
        .get("/api/communication-logs/?cursor=garbage", &c.admin)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "cursor");
}

async fn patch_put_and_status_transitions(app: &TestApp) {
    let c = app.company("Acme").await;
    let log = app.log(&c.admin, json!({})).await;
    let path = format!("/api/communication-logs/{log}/");
    let r = app
        .patch(
            &path,
            &c.admin,
            json!({"priority": "urgent", "summary": "Short summary"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["priority"], "urgent");
    assert_eq!(r.body["direction"], "outbound");
    let r = app
        .patch(&path, &c.admin, json!({"status": "closed"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error_code"], "invalid_transition");
    for s in [
        "in_progress",
        "awaiting_response",
        "resolved",
        "closed",
        "archived",
    ] {
        let r = app.patch(&path, &c.admin, json!({"status": s})).await;
        assert_eq!(r.status, StatusCode::OK, "{s}: {:?}", r.body);
    }
    let log2 = app.log(&c.admin, json!({})).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/api/communication-logs/{log2}/"),
            Some(&c.admin),
            Some(call_body(
                json!({"direction": "inbound", "content": "Replaced content of this call."}),
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["direction"], "inbound");
    let h = app
        .get(
            &format!("/api/communication-logs/{log2}/history/"),
            &c.admin,
        )
        .await;
    let entries = h.body.as_array().expect("history");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(
        entries[1]["changes"]["direction"],
        json!({"old": "outbound", "new": "inbound"})
    );
    // Content changes are recorded as changed, never copied into the trail.
    assert_eq!(entries[1]["changes"]["content"], json!({"changed": true}));
}

async fn assignment_respects_capacity(app: &TestApp) {
    let c = app.company("Acme").await;
    let (rep, _) = app.user(&c, Role::SalesRep, None, 1).await;
    let a = app.log(&c.admin, json!({})).await;
    let b = app.log(&c.admin, json!({})).await;
    let r = app
        .post(
            &format!("/api/communication-logs/{a}/assign/"),
            &c.admin,
            json!({"user_id": rep, "notify": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["assigned_to"]["id"], json!(rep));
    assert_eq!(r.body["notified"], true);
    let r = app
        .post(
            &format!("/api/communication-logs/{b}/assign/"),
            &c.admin,
            json!({"user_id": rep}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error_code"], "user_at_capacity");
    // Resolving the first frees the slot.
    for s in ["in_progress", "resolved"] {
        app.patch(
            &format!("/api/communication-logs/{a}/"),
            &c.admin,
            json!({"status": s}),
        )
        .await;
    }
    let r = app
        .post(
            &format!("/api/communication-logs/{b}/assign/"),
            &c.admin,
            json!({"user_id": rep}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post(
            &format!("/api/communication-logs/{b}/assign/"),
            &c.admin,
            json!({"user_id": Uuid::new_v4()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "assigned_to_user_id");
}

async fn deletion_rules(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, manager) = app.user(&c, Role::Manager, None, 10).await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 10).await;
    let log = app
        .log(
            &rep,
            json!({"requires_follow_up": true, "follow_up_date": "2026-03-05T09:00:00Z"}),
        )
        .await;
    let path = format!("/api/communication-logs/{log}/");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&rep), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app.call(Method::DELETE, &path, Some(&manager), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error_code"], "active_follow_up");
    app.patch(&path, &manager, json!({"follow_up_status": "completed"}))
        .await;
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&manager), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, &manager).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&manager), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn watchers_and_participants(app: &TestApp) {
    let c = app.company("Acme").await;
    let contact = app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Ann Buyer", "emails": ["ann@buyer.example"]}),
        )
        .await;
    let r = app.post("/api/communication-logs/", &c.admin, call_body(json!({"communication_type": "email", "channel": "email",
        "participants": [{"role": "from", "email": "Ann@Buyer.example"}, {"role": "to", "email": "sales@us.example"}]}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["contact_id"], contact.body["id"]);
    let log = id(&r.body);
    let p = app
        .get(
            &format!("/api/communication-logs/{log}/participants/"),
            &c.admin,
        )
        .await;
    assert_eq!(p.body[0]["email"], "ann@buyer.example");
    assert_eq!(p.body[0]["contact_id"], contact.body["id"]);
    let (rep, _) = app.user(&c, Role::SalesRep, None, 10).await;
    let r = app
        .post(
            &format!("/api/communication-logs/{log}/watchers/"),
            &c.admin,
            json!({"user_id": rep}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/communication-logs/{log}/"), &c.admin)
            .await
            .body["watchers"],
        json!([rep])
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/communication-logs/{log}/watchers/{rep}/"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

both!(
    create_computes_duration_and_returns_location,
    default_priority_comes_from_the_category,
    idempotency_key_replays_the_first_result,
    the_same_captured_item_is_one_log,
    detail_includes_what_is_asked_for,
    list_filters_search_and_pages,
    patch_put_and_status_transitions,
    assignment_respects_capacity,
    deletion_rules,
    watchers_and_participants,
);
