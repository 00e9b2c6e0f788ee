//! Caller-ID matching: numbers in E.164, contact phones first, then numbers linked to a
//! customer, then customers' own phones; the company's own numbers never match a customer;
//! unmatched calls are listed, and linking one teaches Commlog the number.

use super::generic::signed;
use super::*;
use crate::both;
use axum::http::StatusCode;
use serde_json::json;

const SECRET: &str = "pbx-shared-secret-0123";
const OWN: &str = "+14155550100";

async fn call(app: &TestApp, url: &str, id: &str, direction: &str, from: &str, to: &str) {
    let e = json!({"call_id": id, "event": "completed", "direction": direction, "from": from, "to": to,
        "started_at": "2026-11-24T10:00:00Z", "ended_at": "2026-11-24T10:01:00Z"});
    let r = app.send(signed(url, &e, SECRET, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_jobs().await;
}

async fn callers_are_matched_by_rank_and_unknown_numbers_can_be_linked(app: &TestApp) {
    let c = app.company("Acme").await;
    let phone = channel(app, &c, "phone", "phone").await;
    let r = configure(
        app,
        &c,
        phone,
        json!({"provider": "generic", "secret": SECRET}),
    )
    .await;
    let url = r.body["webhook_url"].as_str().expect("url").to_owned();

    let bad = app
        .call(
            axum::http::Method::PUT,
            "/api/company/own-numbers/",
            Some(&c.admin),
            Some(json!({"numbers": [OWN, "call me"]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.to_string().contains("numbers[1]"),
        "{:?}",
        bad.body
    );
    let own = app
        .call(
            axum::http::Method::PUT,
            "/api/company/own-numbers/",
            Some(&c.admin),
            Some(json!({"numbers": [OWN]})),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    assert_eq!(
        app.get("/api/company/own-numbers/", &c.admin).await.body["numbers"],
        json!([OWN])
    );

    let acme = id(&app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Acme Buyer", "phone": "+14155550111"}),
        )
        .await
        .body);
    let globex = id(&app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Globex", "phone": "+14155550122"}),
        )
        .await
        .body);
    let ann = id(&app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Ann", "customer_id": acme, "phones": ["+14155550122"]}),
        )
        .await
        .body);
    // A contact that (wrongly) lists the company's own switchboard number.
    app.post(
        "/api/contacts/",
        &c.admin,
        json!({"full_name": "Reception", "customer_id": globex, "phones": [OWN]}),
    )
    .await;

    // The contact's phone outranks the customer's main number.
    call(app, &url, "c1", "inbound", "+14155550122", OWN).await;
    let l = log_of(app, &c, "c1").await;
    assert_eq!(
        (l["customer_id"].clone(), l["contact_id"].clone()),
        (json!(acme), json!(ann))
    );
    // Only a customer has the number: the customer, no contact.
    call(app, &url, "c2", "inbound", "+14155550111", OWN).await;
    let l = log_of(app, &c, "c2").await;
    assert_eq!(
        (l["customer_id"].clone(), l["contact_id"].clone()),
        (json!(acme), json!(null))
    );
    // Outbound from the company's own number: the callee is the customer, never the contact
    // that shares the company's number.
    call(app, &url, "c3", "outbound", OWN, "+14155550111").await;
    assert_eq!(log_of(app, &c, "c3").await["customer_id"], json!(acme));

    // An unknown number stays unmatched and is listed for linking.
    call(app, &url, "c4", "inbound", "+14155550199", OWN).await;
    let unmatched = logs(app, &c, "unmatched=true").await;
    let ids: Vec<&Value> = unmatched.iter().map(|l| &l["external_id"]).collect();
    assert_eq!(ids, vec![&json!("c4")]);
    let log = log_of(app, &c, "c4").await;
    let linked = app
        .post(
            &format!("/api/communication-logs/{}/link/", id(&log)),
            &c.admin,
            json!({"customer_id": globex}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{:?}", linked.body);
    assert_eq!(linked.body["remembered_number"], "+14155550199");
    assert_eq!(
        linked.body["communication_log"]["customer_id"],
        json!(globex)
    );
    assert!(logs(app, &c, "unmatched=true").await.is_empty());
    // The next call from that number follows the link.
    call(app, &url, "c5", "inbound", "+14155550199", OWN).await;
    assert_eq!(log_of(app, &c, "c5").await["customer_id"], json!(globex));

    // Linking to a contact adds the number to the contact.
    call(app, &url, "c6", "inbound", "+14155550188", OWN).await;
    let log = log_of(app, &c, "c6").await;
    let r = app
        .post(
            &format!("/api/communication-logs/{}/link/", id(&log)),
            &c.admin,
            json!({"customer_id": acme, "contact_id": ann}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let contact = app.get(&format!("/api/contacts/{ann}/"), &c.admin).await;
    assert!(
        contact.body["phones"]
            .as_array()
            .expect("phones")
            .contains(&json!("+14155550188"))
    );
    call(app, &url, "c7", "inbound", "+14155550188", OWN).await;
    assert_eq!(log_of(app, &c, "c7").await["contact_id"], json!(ann));

    // A contact of another customer is refused; nothing is remembered.
    call(app, &url, "c8", "inbound", "+14155550177", OWN).await;
    let log = log_of(app, &c, "c8").await;
    let r = app
        .post(
            &format!("/api/communication-logs/{}/link/", id(&log)),
            &c.admin,
            json!({"customer_id": globex, "contact_id": ann}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    call(app, &url, "c9", "inbound", "+14155550177", OWN).await;
    assert_eq!(log_of(app, &c, "c9").await["customer_id"], json!(null));
}

both!(callers_are_matched_by_rank_and_unknown_numbers_can_be_linked);
