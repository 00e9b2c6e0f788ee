//! Bad input gets a clear error in the one format, with the right status, and changes nothing.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

async fn every_blueprint_rule_is_enforced(app: &TestApp) {
    let c = app.company("Acme").await;
    let inactive = app.post("/api/channel-configurations/", &c.admin,
        json!({"channel_name": "Fax", "channel_code": "fax", "channel_type": "other", "is_active": false})).await;
    assert_eq!(inactive.status, StatusCode::CREATED);
    let cases = [
        (json!({"content": "too short"}), "content"),
        (json!({"end_time": "2026-03-01T09:00:00Z"}), "end_time"),
        (json!({"channel": "pigeon"}), "channel"),
        (json!({"channel": "fax"}), "channel"),
        (json!({"sentiment_score": 1.5}), "sentiment_score"),
        (
            json!({"communication_type": "email", "channel": "email"}),
            "participants",
        ),
        (json!({"subject": "x".repeat(201)}), "subject"),
        (
            json!({"participants": [{"role": "caller", "phone": "not a phone"}]}),
            "participants[0].phone",
        ),
        (json!({"customer_id": uuid::Uuid::new_v4()}), "customer_id"),
        (json!({"status": "archived"}), "status"),
        (
            json!({"communication_type": "telegram"}),
            "communication_type",
        ),
        (json!({"start_time": "yesterday"}), "start_time"),
        (json!({"priority": 3}), "priority"),
        (json!({"surprise": true}), "surprise"),
    ];
    for (extra, field) in cases {
        let r = app
            .post(
                "/api/communication-logs/",
                &c.admin,
                call_body(extra.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra}: {:?}",
            r.body
        );
        assert_eq!(r.body["error_code"], "validation_error");
        let errors = r.body["details"]["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["field"] == field),
            "{extra} expected {field}: {:?}",
            r.body
        );
        assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        app.count_logs(&c).await,
        0,
        "a refused create wrote something"
    );
}

async fn malformed_requests_get_clean_4xx(app: &TestApp) {
    let c = app.company("Acme").await;
    let raw = |body: &'static str, content_type: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/communication-logs/")
            .header("authorization", format!("Bearer {}", c.admin))
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request")
    };
    let r = app.send(raw("{not json", "application/json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error_code"], "malformed_json");
    let r = app.send(raw("[1,2,3]", "application/json")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["details"]["errors"][0]["code"], "not_an_object");
    // An array never fills a struct by position (it would rename a customer).
    let customer = id(&app
        .post("/api/customers/", &c.admin, json!({"name": "Globex"}))
        .await
        .body);
    let r = app
        .patch(
            &format!("/api/customers/{customer}/"),
            &c.admin,
            json!(["Renamed"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("/api/customers/{customer}/"), &c.admin)
            .await
            .body["name"],
        "Globex"
    );
    for bad in ["page_size=0", "page_size=101", "page=0"] {
        let r = app.get(&format!("/api/customers/?{bad}"), &c.admin).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let r = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/communication-attachments/")
                .header("authorization", format!("Bearer {}", c.admin))
                .body(Body::from("not a form"))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.body["error_code"], "unsupported_media_type");
    let r = app.send(raw("", "application/json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Oversized bodies are refused before they are parsed.
    let huge = call_body(json!({"content": "x".repeat(3 * 1024 * 1024)}));
    let r = app.post("/api/communication-logs/", &c.admin, huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(r.body["error_code"], "payload_too_large");
    // Content over the field limit but under the body limit: a validation error.
    let big = call_body(json!({"content": "y".repeat(1_100_000)}));
    let r = app.post("/api/communication-logs/", &c.admin, big).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch("/api/communication-logs/not-a-uuid/", &c.admin, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error_code"], "not_found");
    let r = app
        .get("/api/communication-logs/?page_size=1000", &c.admin)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "page_size");
    let r = app
        .get(
            "/api/communication-logs/?channel=phone&status=nonsense",
            &c.admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error_code"], "invalid_query");
    let r = app
        .get(
            "/api/communication-logs/?search=%22AND%20OR%20*%20%3A%20NEAR(",
            &c.admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.count_logs(&c).await, 0);
}

both!(
    every_blueprint_rule_is_enforced,
    malformed_requests_get_clean_4xx
);
