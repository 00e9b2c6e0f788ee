//! FreeSWITCH `mod_xml_cdr` push: every `encode` mode, basic auth per channel, the PBX's time
//! zone applied to stamps, copies stored once.

use super::*;
use crate::both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use serde_json::json;

fn cdr(uuid: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<cdr core-uuid="6d4a5b0e-1111-4222-8333-444455556666">
  <variables>
    <direction>inbound</direction>
    <uuid>{uuid}</uuid>
    <caller_id_name>Alice%20O%27Neil</caller_id_name>
    <caller_id_number>%2B14155550123</caller_id_number>
    <destination_number>2002</destination_number>
    <start_stamp>2026-11-24%2010%3A00%3A00</start_stamp>
    <answer_stamp>2026-11-24%2010%3A00%3A05</answer_stamp>
    <end_stamp>2026-11-24%2010%3A01%3A05</end_stamp>
    <duration>65</duration>
    <billsec>60</billsec>
    <hangup_cause>NORMAL_CLEARING</hangup_cause>
  </variables>
</cdr>
"#
    )
}

fn push(path: &str, user: &str, password: &str, content_type: &str, body: String) -> Request<Body> {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", content_type)
        .header("authorization", format!("Basic {token}"))
        .body(Body::from(body))
        .expect("request")
}

fn form_urlencoded(xml: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("cdr", xml)
        .finish()
}

async fn pushed_cdrs_become_calls_in_the_pbx_time_zone(app: &TestApp) {
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    let missing_user = configure(
        app,
        &c,
        phone,
        json!({"provider": "freeswitch", "secret": "pbx-password-123"}),
    )
    .await;
    assert_eq!(missing_user.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_zone = configure(
        app,
        &c,
        phone,
        json!({"provider": "freeswitch", "secret": "pbx-password-123", "username": "pbx", "timezone": "Mars/Olympus"}),
    )
    .await;
    assert_eq!(bad_zone.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = configure(
        app,
        &c,
        phone,
        json!({"provider": "freeswitch", "secret": "pbx-password-123", "username": "pbx", "timezone": "America/New_York"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let path = r.body["webhook_url"].as_str().expect("url").to_owned();
    let contact = id(&app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Alice", "phones": ["+14155550123"]}),
        )
        .await
        .body);

    let uuids = [
        "a1b2c3d4-0000-4000-8000-000000000001",
        "a1b2c3d4-0000-4000-8000-000000000002",
        "a1b2c3d4-0000-4000-8000-000000000003",
        "a1b2c3d4-0000-4000-8000-000000000004",
    ];
    let b64 = base64::engine::general_purpose::STANDARD.encode(cdr(uuids[1]));
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            form_urlencoded(&cdr(uuids[0])),
        ),
        (
            "application/x-www-form-base64-encoded",
            format!("cdr={b64}"),
        ),
        (
            "application/x-www-form-plaintext",
            format!("cdr={}", cdr(uuids[2])),
        ),
        ("text/xml", cdr(uuids[3])),
    ] {
        let r = app
            .send(push(&path, "pbx", "pbx-password-123", content_type, body))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{content_type}: {:?}", r.body);
        assert_eq!(r.body["status"], "accepted");
    }
    app.run_jobs().await;
    for uuid in uuids {
        let log = log_of(app, &c, uuid).await;
        assert_eq!(log["source"], "freeswitch");
        assert_eq!(
            log["start_time"], "2026-11-24T15:00:00Z",
            "10:00 in New York"
        );
        assert_eq!(log["call_outcome"], "answered");
        assert_eq!(log["contact_id"], json!(contact));
    }

    let stored = stored_events(app, &c).await;
    for (user, password) in [
        ("pbx", "wrong-password-123"),
        ("other", "pbx-password-123"),
        ("", ""),
    ] {
        let r = app
            .send(push(&path, user, password, "text/xml", cdr(uuids[0])))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers["www-authenticate"], "Basic realm=\"commlog\"");
    }
    let no_auth = app.call(Method::POST, &path, None, Some(json!({}))).await;
    assert_eq!(no_auth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stored_events(app, &c).await, stored, "nothing was stored");

    let uuid = "a1b2c3d4-0000-4000-8000-000000000099";
    let accepted = send_copies(app, 100, || {
        push(&path, "pbx", "pbx-password-123", "text/xml", cdr(uuid))
    })
    .await;
    assert_eq!(accepted, 1);
    app.run_jobs().await;
    log_of(app, &c, uuid).await;
}

both!(pushed_cdrs_become_calls_in_the_pbx_time_zone);
