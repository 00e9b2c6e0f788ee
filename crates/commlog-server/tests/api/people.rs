//! Users, teams, customers and contacts.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use commlog_domain::Role;
use serde_json::json;

async fn users_and_teams(app: &TestApp) {
    let c = app.company("Acme").await;
    let team = app.team(&c, "Red").await;
    let r = app.post("/api/users/", &c.admin, json!({"email": "Rep@Acme.example", "password": "long enough password", "role": "sales_rep", "team_id": team, "capacity": 3})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["email"], "rep@acme.example");
    assert!(r.body.get("password_hash").is_none());
    let user = id(&r.body);
    let r = app.post("/api/users/", &c.admin, json!({"email": "rep@acme.example", "password": "long enough password", "role": "sales_rep"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            "/api/users/",
            &c.admin,
            json!({"email": "weak@acme.example", "password": "short", "role": "sales_rep"}),
        )
        .await;
    assert_eq!(error_field(&r), "password");
    let r = app.post("/api/users/", &c.admin, json!({"email": "x@acme.example", "password": "long enough password", "role": "overlord"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch(
            &format!("/api/users/{user}/"),
            &c.admin,
            json!({"role": "team_lead", "capacity": 9}),
        )
        .await;
    assert_eq!(r.body["role"], "team_lead");
    assert_eq!(
        app.get(&format!("/api/users/?team_id={team}"), &c.admin)
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        1
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/teams/{team}/"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    app.patch(
        &format!("/api/users/{user}/"),
        &c.admin,
        json!({"team_id": null}),
    )
    .await;
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/teams/{team}/"),
            Some(&c.admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let (_, rep) = app.user(&c, Role::SalesRep, None, 5).await;
    assert_eq!(app.get("/api/users/", &rep).await.status, StatusCode::OK);
    assert_eq!(
        app.patch(
            &format!("/api/users/{user}/"),
            &rep,
            json!({"role": "admin"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

async fn customers_and_contacts(app: &TestApp) {
    let c = app.company("Acme").await;
    let r = app.post("/api/customers/", &c.admin, json!({"name": "Globex", "email_domain": "@Globex.example", "phone": "+1 415 555 0100", "external_ref": "crm-42"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["email_domain"], "globex.example");
    assert_eq!(r.body["phone"], "+14155550100");
    let customer = id(&r.body);
    let again = app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Globex Corp", "external_ref": "crm-42"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(id(&again.body), customer);
    assert_eq!(again.body["name"], "Globex Corp");
    let r = app.post("/api/contacts/", &c.admin, json!({"full_name": "Ann Buyer", "customer_id": customer, "emails": ["ANN@globex.example"], "phones": ["+44 20 7946 0958"]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["emails"], json!(["ann@globex.example"]));
    assert_eq!(r.body["phones"], json!(["+442079460958"]));
    let contact = id(&r.body);
    let r = app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Bad", "phones": ["12"]}),
        )
        .await;
    assert_eq!(error_field(&r), "phones[0]");
    assert_eq!(
        app.get("/api/contacts/?search=ann", &c.admin)
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/contacts/?email=ann@globex.example", &c.admin)
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/customers/?search=glob", &c.admin)
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        1
    );
    // A customer in use is protected from deletion (blueprint §5.3).
    app.log(
        &c.admin,
        json!({"customer_id": customer, "contact_id": contact}),
    )
    .await;
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/customers/{customer}/"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let spare = id(&app
        .post("/api/customers/", &c.admin, json!({"name": "Spare"}))
        .await
        .body);
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/customers/{spare}/"),
            Some(&c.admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/customers/{spare}/"), &c.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

both!(users_and_teams, customers_and_contacts);

async fn a_company_always_keeps_an_active_admin(app: &TestApp) {
    let c = app.company("Acme").await;
    let me = format!("/api/users/{}/", c.admin_id);
    let r = app.patch(&me, &c.admin, json!({"role": "manager"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.body["error_code"], "last_admin");
    let r = app.patch(&me, &c.admin, json!({"is_active": false})).await;
    assert_eq!(r.body["error_code"], "cannot_deactivate_self");
    let (second, second_token) = app.user(&c, Role::Admin, None, 5).await;
    // With a second admin, the first may step down — but still not switch themselves off.
    assert_eq!(
        app.patch(&me, &c.admin, json!({"role": "manager"}))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .patch(
            &format!("/api/users/{second}/"),
            &second_token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.body["error_code"], "cannot_deactivate_self");
    assert_eq!(
        app.get("/api/auth/me", &second_token).await.body["role"],
        "admin"
    );
}

both!(a_company_always_keeps_an_active_admin);
