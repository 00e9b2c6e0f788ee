//! Tenant isolation as a property: a walk generated from the OpenAPI document sends every
//! operation that takes an id to company A's objects with company B's admin token. Each answers
//! 404 exactly as for a random id, and A's objects are unchanged afterwards.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use commlog_domain::Role;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

struct Fixture {
    ids: HashMap<&'static str, Uuid>,
    reads: Vec<String>,
}

async fn company_a_objects(app: &TestApp, a: &Company) -> Fixture {
    let team = app.team(a, "Red").await;
    let (rep, _) = app.user(a, Role::SalesRep, Some(team), 10).await;
    let customer = id(&app
        .post("/api/customers/", &a.admin, json!({"name": "Globex"}))
        .await
        .body);
    let contact = id(&app
        .post(
            "/api/contacts/",
            &a.admin,
            json!({"full_name": "Ann", "customer_id": customer}),
        )
        .await
        .body);
    let log = app
        .log(
            &a.admin,
            json!({"customer_id": customer, "contact_id": contact, "watcher_ids": [rep]}),
        )
        .await;
    let attachment = upload(app, &a.admin, log, b"hello").await;
    let category = id(&app
        .post(
            "/api/communication-categories/",
            &a.admin,
            json!({"category_name": "VIP", "category_code": "vip"}),
        )
        .await
        .body);
    let channel = id(&app
        .post(
            "/api/channel-configurations/",
            &a.admin,
            json!({"channel_name": "Fax", "channel_code": "fax"}),
        )
        .await
        .body);
    let token = id(&app
        .post(
            "/api/api-tokens/",
            &a.admin,
            json!({"name": "PBX", "role": "sales_rep"}),
        )
        .await
        .body);
    let job = app
        .store
        .enqueue_job(
            a.id,
            "capture",
            &json!({"capture_event_id": Uuid::new_v4()}),
        )
        .await
        .expect("job");
    let quarantined = app
        .store
        .quarantine_email(
            &commlog_store::Scope::admin(a.id, a.admin_id),
            "upload:x.eml",
            "not mail",
            3,
            "quarantine/none",
        )
        .await
        .expect("quarantine")
        .id;
    let mail_account = id(&app
        .post(
            "/api/mail-accounts/",
            &a.admin,
            json!({"host": "127.0.0.1", "port": 1, "security": "plain", "username": "u", "password": "p"}),
        )
        .await
        .body);
    let rule = id(&app
        .post(
            "/api/escalation-rules/",
            &a.admin,
            json!({"name": "Legal", "rule": {"keywords": ["lawyer"]}}),
        )
        .await
        .body);
    let hold = id(&app
        .post(
            "/api/legal-holds/",
            &a.admin,
            json!({"target_type": "customer", "target_id": customer, "reason": "Matter 1"}),
        )
        .await
        .body);
    let policy = id(&app
        .post(
            "/api/retention-policies/",
            &a.admin,
            json!({"name": "Calls", "delete_after_days": 3650}),
        )
        .await
        .body);
    let erasure = id(&app
        .post(
            "/api/subject-requests/erasures/",
            &a.admin,
            json!({"email": "gone@nowhere.example", "reason": "Request 1"}),
        )
        .await
        .body);
    let sessions = app
        .get(&format!("/api/users/{}/sessions/", a.admin_id), &a.admin)
        .await;
    let session = id(&sessions.body[0]);
    let ids = HashMap::from([
        ("communication-logs", log),
        ("communication-attachments", attachment),
        ("communication-categories", category),
        ("channel-configurations", channel),
        ("users", rep),
        ("teams", team),
        ("customers", customer),
        ("contacts", contact),
        ("user_id", rep),
        ("channel_id", channel),
        ("api-tokens", token),
        ("auth", session),
        ("jobs", job),
        ("email-quarantine", quarantined),
        ("mail-accounts", mail_account),
        ("escalation-rules", rule),
        ("legal-holds", hold),
        ("retention-policies", policy),
        ("subject-requests", erasure),
    ]);
    let reads = vec![
        format!("/api/communication-logs/{log}/?include_attachments=true&include_transcript=true"),
        format!("/api/communication-logs/{log}/history/"),
        format!("/api/communication-attachments/{attachment}/"),
        format!("/api/communication-categories/{category}/"),
        format!("/api/channel-configurations/{channel}/"),
        format!("/api/users/{rep}/"),
        format!("/api/teams/{team}/"),
        format!("/api/customers/{customer}/"),
        format!("/api/contacts/{contact}/"),
        format!("/api/users/{rep}/sessions/"),
        "/api/api-tokens/".to_owned(),
        "/api/jobs/".to_owned(),
        "/api/email-quarantine/".to_owned(),
        format!("/api/mail-accounts/{mail_account}/"),
        format!("/api/communication-logs/{log}/processing/"),
        format!("/api/communication-categories/{category}/examples/"),
        "/api/escalation-rules/".to_owned(),
        format!("/api/legal-holds/{hold}/"),
        "/api/retention-policies/".to_owned(),
        format!("/api/subject-requests/erasures/{erasure}/"),
    ];
    Fixture { ids, reads }
}

pub async fn upload(app: &TestApp, token: &str, log: Uuid, data: &[u8]) -> Uuid {
    let r = app
        .send(multipart(
            token,
            &log.to_string(),
            "notes.txt",
            "text/plain",
            data,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    id(&r.body)
}

pub fn multipart(token: &str, log: &str, name: &str, kind: &str, data: &[u8]) -> Request<Body> {
    let boundary = "commlogboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"communication_log_id\"\r\n\r\n{log}\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {kind}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri("/api/communication-attachments/")
        .header("authorization", format!("Bearer {token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}

/// A body each kind of operation accepts, so the answer is about the id and not the body.
fn body_for(method: &str, path: &str, b_admin: Uuid) -> Option<Value> {
    match method {
        "put" if path.ends_with("/webhook/") => {
            Some(json!({"provider": "generic", "secret": "a-long-enough-secret"}))
        }
        "put" if path.starts_with("/api/escalation-rules/") => {
            Some(json!({"name": "Other", "rule": {"keywords": ["x"]}}))
        }
        "put" if path.ends_with("/satisfaction/") => Some(json!({"score": 4})),
        "put" if path.starts_with("/api/retention-policies/") => {
            Some(json!({"name": "Other", "delete_after_days": 30}))
        }
        "put" => Some(call_body(json!({}))),
        "patch" => Some(json!({})),
        "post" if path.ends_with("/assign/") => Some(json!({"user_id": null})),
        "post" if path.ends_with("/link/") => Some(json!({"customer_id": Uuid::new_v4()})),
        "post" if path.ends_with("/merge-thread/") => Some(json!({"into_log_id": Uuid::new_v4()})),
        "post" if path.ends_with("/watchers/") => Some(json!({"user_id": b_admin})),
        "post" if path.ends_with("/reprocess/") => Some(json!({})),
        "post" if path.ends_with("/examples/") => Some(json!({"text": "an example text"})),
        "post" if path.ends_with("/release/") => Some(json!({"reason": "done"})),
        "post" if path.ends_with("/password/") => {
            Some(json!({"new_password": "a long new password"}))
        }
        _ => None,
    }
}

async fn another_companys_ids_are_not_found_anywhere(app: &TestApp) {
    let a = app.company("Alpha").await;
    let b = app.company("Beta").await;
    // With the compliance capability, so compliance operations answer for the id, not the role.
    for c in [&a, &b] {
        let patch = commlog_domain::records::UserPatch {
            is_compliance: Some(true),
            ..Default::default()
        };
        app.store
            .update_user(
                &commlog_store::Scope::admin(c.id, c.admin_id),
                c.admin_id,
                &patch,
            )
            .await
            .expect("compliance capability");
    }
    let fx = company_a_objects(app, &a).await;
    let mut before = Vec::new();
    for path in &fx.reads {
        let r = app.get(path, &a.admin).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        before.push(r.body);
    }

    let doc = serde_json::to_value(commlog_server::api::openapi()).expect("doc");
    let mut walked = 0;
    for (template, ops) in doc["paths"].as_object().expect("paths") {
        if !template.contains('{') {
            continue;
        }
        let resource = template
            .trim_start_matches("/api/")
            .split('/')
            .next()
            .unwrap_or("");
        for method in ops.as_object().expect("ops").keys() {
            let mut real = template.clone();
            let mut random = template.clone();
            for (param, key) in [
                ("{id}", resource),
                ("{user_id}", "user_id"),
                ("{channel_id}", "channel_id"),
            ] {
                if let Some(value) = fx.ids.get(key) {
                    real = real.replace(param, &value.to_string());
                    random = random.replace(param, &Uuid::new_v4().to_string());
                }
            }
            assert!(!real.contains('{'), "no fixture for {template}");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = body_for(method, template, b.admin_id);
            let hit = app
                .call(m.clone(), &real, Some(&b.admin), body.clone())
                .await;
            let miss = app.call(m, &random, Some(&b.admin), body).await;
            // Webhooks are public and answer unsigned calls alike for every id; the rest say 404.
            if !template.starts_with("/api/webhooks/") {
                assert_eq!(
                    hit.status,
                    StatusCode::NOT_FOUND,
                    "{method} {template}: {:?}",
                    hit.body
                );
            }
            assert_eq!(
                hit.body, miss.body,
                "{method} {template}: a real id must look like a random one"
            );
            walked += 1;
        }
    }
    assert!(walked >= 20, "walked only {walked} operations");

    for (path, old) in fx.reads.iter().zip(before) {
        assert_eq!(app.get(path, &a.admin).await.body, old, "{path} changed");
    }
    // Lists and search never show the other company's rows.
    for path in [
        "/api/communication-logs/?search=renewal",
        "/api/communication-attachments/",
        "/api/customers/",
        "/api/contacts/",
        "/api/jobs/",
        "/api/email-quarantine/",
        "/api/mail-accounts/",
    ] {
        let r = app.get(path, &b.admin).await;
        let rows = r
            .body
            .get("results")
            .unwrap_or(&r.body)
            .as_array()
            .expect("list")
            .len();
        assert_eq!(rows, 0, "{path}");
    }
    let users = app.get("/api/users/", &b.admin).await;
    assert_eq!(users.body.as_array().expect("users").len(), 1);
    // A reference to another company's object in a body is refused, not followed.
    let r = app
        .post(
            "/api/communication-logs/",
            &b.admin,
            call_body(json!({"customer_id": fx.ids["customers"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(multipart(
            &b.admin,
            &fx.ids["communication-logs"].to_string(),
            "x.txt",
            "text/plain",
            b"x",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

both!(another_companys_ids_are_not_found_anywhere);

/// Behind the application: PostgreSQL itself refuses other companies' rows to the application's
/// role, and shows nothing at all when no company is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_level_security_is_a_second_wall() {
    run(TestApp::postgres().await, |app| async move {
        use sqlx::Connection;
        let a = app.company("Alpha").await;
        let b = app.company("Beta").await;
        app.log(&a.admin, json!({})).await;
        let mut c = sqlx::PgConnection::connect(&app.url)
            .await
            .expect("application role");
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let logs = "SELECT count(*) FROM crm_communication_logs";
        assert_eq!(
            count(logs).fetch_one(&mut c).await.expect("count"),
            0,
            "nothing set: nothing visible"
        );
        for (company, expected) in [(b.id, 0), (a.id, 1)] {
            sqlx::query("SELECT set_config('commlog.company_id', $1, false)")
                .bind(company.to_string())
                .execute(&mut c)
                .await
                .expect("set");
            assert_eq!(
                count(logs).fetch_one(&mut c).await.expect("count"),
                expected
            );
        }
        sqlx::query("SELECT set_config('commlog.company_id', $1, false)")
            .bind(b.id.to_string())
            .execute(&mut c)
            .await
            .expect("set");
        let smuggled = sqlx::query(
            "INSERT INTO tags (company_id, id, name, created_at) VALUES ($1, $2, 'x', now())",
        )
        .bind(a.id)
        .bind(Uuid::now_v7())
        .execute(&mut c)
        .await;
        assert!(
            smuggled.is_err(),
            "a row for another company cannot be written"
        );
        let users = "SELECT count(*) FROM users";
        assert_eq!(
            count(users).fetch_one(&mut c).await.expect("count"),
            1,
            "only Beta's admin"
        );
    })
    .await;
}
