//! Categories, channel configurations and tags.

use crate::both;
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

async fn categories_and_channels(app: &TestApp) {
    let c = app.company("Acme").await;
    let channels = app.get("/api/channel-configurations/", &c.admin).await;
    let codes: Vec<&str> = channels
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["channel_code"].as_str())
        .collect();
    for code in [
        "phone", "email", "sms", "chat", "slack", "teams", "whatsapp", "web",
    ] {
        assert!(codes.contains(&code), "{code} missing");
    }
    let messaging = app
        .get(
            "/api/channel-configurations/?channel_type=messaging",
            &c.admin,
        )
        .await;
    assert_eq!(messaging.body.as_array().expect("list").len(), 3);
    let r = app
        .post(
            "/api/channel-configurations/",
            &c.admin,
            json!({"channel_name": "Web 2", "channel_code": "web", "api_key": "s3cret"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            "/api/channel-configurations/",
            &c.admin,
            json!({"channel_name": "Kiosk", "channel_code": "kiosk", "api_key": "s3cret"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["has_api_key"], true);
    assert!(
        r.body.get("api_key").is_none(),
        "API keys are never returned"
    );
    let kiosk = id(&r.body);
    // An active custom channel takes logs at once.
    app.log(&c.admin, json!({"channel": "kiosk"})).await;
    let r = app
        .patch(
            &format!("/api/channel-configurations/{kiosk}/"),
            &c.admin,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.body["is_active"], false);
    let r = app
        .post(
            "/api/communication-logs/",
            &c.admin,
            call_body(json!({"channel": "kiosk"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = app.post("/api/communication-categories/", &c.admin, json!({"category_name": "Refunds", "category_code": "refunds", "default_priority": "urgent", "color": "#aa0000"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let refunds = id(&r.body);
    let r = app.post("/api/communication-categories/", &c.admin, json!({"category_name": "Child", "category_code": "child", "parent_category_id": refunds})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let children = app
        .get(
            &format!("/api/communication-categories/?parent_category_id={refunds}"),
            &c.admin,
        )
        .await;
    assert_eq!(children.body.as_array().expect("list").len(), 1);
    let r = app
        .post(
            "/api/communication-categories/",
            &c.admin,
            json!({"category_name": "Bad", "category_code": "BAD CODE"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            "/api/communication-categories/",
            &c.admin,
            json!({"category_name": "Bad", "category_code": "bad", "color": "red"}),
        )
        .await;
    assert_eq!(error_field(&r), "color");
    app.patch(
        &format!("/api/communication-categories/{refunds}/"),
        &c.admin,
        json!({"is_active": false}),
    )
    .await;
    let active = app
        .get("/api/communication-categories/?is_active=false", &c.admin)
        .await;
    assert_eq!(active.body.as_array().expect("list").len(), 1);
    let r = app
        .post(
            "/api/communication-logs/",
            &c.admin,
            call_body(json!({"category_ids": [refunds]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn tags(app: &TestApp) {
    let c = app.company("Acme").await;
    app.log(&c.admin, json!({"tags": ["vip", "renewal"]})).await;
    app.log(&c.admin, json!({"tags": ["vip"]})).await;
    let r = app
        .post(
            "/api/tags/",
            &c.admin,
            json!({"name": "churn-risk", "color": "#ff0000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .post("/api/tags/", &c.admin, json!({"name": "vip"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let list = app.get("/api/tags/", &c.admin).await;
    let vip = list
        .body
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["name"] == "vip")
        .expect("vip")
        .clone();
    assert_eq!(vip["usage_count"], 2);
}

both!(categories_and_channels, tags);
