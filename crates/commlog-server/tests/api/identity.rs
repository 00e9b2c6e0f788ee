//! Identity: sessions with refresh rotation, sign-out, lockout, password changes, MFA with
//! recovery codes and a company policy, API tokens, and the tamper-evident audit trail.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use commlog_domain::Role;
use serde_json::{Value, json};

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Response {
    app.call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/auth/me", token).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned()
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no {k} in {v}"))
        .to_owned()
}

async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session(app: &TestApp) {
    let c = app.company("Acme").await;
    let email = email_of(app, &c.admin).await;
    let first = sign_in(app, &email, PASSWORD).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let (access, refresh1) = (
        s(&first.body, "access_token"),
        s(&first.body, "refresh_token"),
    );
    let second = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let access2 = s(&second.body, "access_token");
    assert_eq!(
        app.get("/api/auth/me", &access2).await.status,
        StatusCode::OK
    );
    // The first refresh token was used up: presenting it again is theft or replay.
    let replay = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    for token in [&access, &access2] {
        assert_eq!(
            app.get("/api/auth/me", token).await.status,
            StatusCode::UNAUTHORIZED,
            "the whole session ended"
        );
    }
    let newest = s(&second.body, "refresh_token");
    let r = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": newest})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn logout_sessions_and_deactivation(app: &TestApp) {
    let c = app.company("Acme").await;
    let (rep, rep_token) = app.user(&c, Role::SalesRep, None, 5).await;
    let email = email_of(app, &rep_token).await;
    let other = s(&sign_in(app, &email, PASSWORD).await.body, "access_token");
    let sessions = app.get("/api/auth/sessions/", &rep_token).await;
    assert_eq!(sessions.body.as_array().expect("sessions").len(), 2);
    assert_eq!(
        app.call(Method::POST, "/api/auth/logout", Some(&other), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/auth/me", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/auth/me", &rep_token).await.status,
        StatusCode::OK,
        "only that session ended"
    );
    // Deactivating a user stops their tokens at once.
    app.patch(
        &format!("/api/users/{rep}/"),
        &c.admin,
        json!({"is_active": false}),
    )
    .await;
    assert_eq!(
        app.get("/api/auth/me", &rep_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(app, &email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn repeated_failures_lock_the_account(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep_token) = app.user(&c, Role::SalesRep, None, 5).await;
    let email = email_of(app, &rep_token).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(app, &email, "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = sign_in(app, &email, PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        locked.body
    );
    assert_eq!(locked.body["error_code"], "account_locked");
    assert!(locked.headers.get("retry-after").is_some());
    let audit = app.get("/api/audit/?action=login_failed", &c.admin).await;
    assert_eq!(audit.body.as_array().expect("audit").len(), 5);
}

async fn password_change_and_admin_reset_end_sessions(app: &TestApp) {
    let c = app.company("Acme").await;
    let (rep, rep_token) = app.user(&c, Role::SalesRep, None, 5).await;
    let email = email_of(app, &rep_token).await;
    let r = app
        .post(
            "/api/auth/password",
            &rep_token,
            json!({"current_password": "nope nope nope", "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            "/api/auth/password",
            &rep_token,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(error_field(&r), "password");
    let r = app
        .post(
            "/api/auth/password",
            &rep_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me", &rep_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(app, &email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let fresh = s(
        &sign_in(app, &email, "a brand new password").await.body,
        "access_token",
    );
    let r = app
        .post(
            &format!("/api/users/{rep}/password/"),
            &c.admin,
            json!({"new_password": "set by the admin!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me", &fresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(app, &email, "set by the admin!").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(
            &format!("/api/users/{rep}/password/"),
            &fresh,
            json!({"new_password": "x"})
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn mfa_enrolment_challenge_and_recovery_codes(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, token) = app.user(&c, Role::Manager, None, 5).await;
    let email = email_of(app, &token).await;
    let e = app.post("/api/auth/mfa/enroll", &token, json!({})).await;
    assert_eq!(e.status, StatusCode::OK, "{:?}", e.body);
    let secret = s(&e.body, "secret");
    assert!(s(&e.body, "otpauth_uri").starts_with("otpauth://totp/Commlog:"));
    let r = app
        .post("/api/auth/mfa/activate", &token, json!({"code": "000000"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = commlog_server::totp::code_at(&secret, now()).expect("code");
    let r = app
        .post("/api/auth/mfa/activate", &token, json!({"code": code}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let recovery: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|v| v.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // The password alone no longer gives access.
    let step1 = sign_in(app, &email, PASSWORD).await;
    assert_eq!(step1.status, StatusCode::OK);
    assert!(step1.body.get("access_token").is_none());
    assert_eq!(step1.body["mfa_required"], true);
    let mfa_token = s(&step1.body, "mfa_token");
    assert_eq!(
        app.get("/api/auth/me", &mfa_token).await.status,
        StatusCode::UNAUTHORIZED,
        "an MFA token is no access token"
    );
    let verify = |body: Value| app.call(Method::POST, "/api/auth/mfa/verify", None, Some(body));
    assert_eq!(
        verify(json!({"mfa_token": mfa_token, "code": "123456"}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let code = commlog_server::totp::code_at(&secret, now()).expect("code");
    let ok = verify(json!({"mfa_token": mfa_token, "code": code})).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", &s(&ok.body, "access_token"))
            .await
            .status,
        StatusCode::OK
    );
    // A recovery code works exactly once.
    let r = verify(json!({"mfa_token": mfa_token, "recovery_code": recovery[0]})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = verify(json!({"mfa_token": mfa_token, "recovery_code": recovery[0]})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn company_policy_requires_mfa_for_chosen_roles(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep_token) = app.user(&c, Role::SalesRep, None, 5).await;
    let email = email_of(app, &rep_token).await;
    let r = app
        .patch(
            "/api/company/",
            &rep_token,
            json!({"mfa_required_roles": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .patch(
            "/api/company/",
            &c.admin,
            json!({"mfa_required_roles": ["sales_rep", "team_lead"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let step1 = sign_in(app, &email, PASSWORD).await;
    assert!(
        step1.body.get("access_token").is_none(),
        "no access without the second factor"
    );
    assert_eq!(step1.body["mfa_enrollment_required"], true);
    let mfa_token = s(&step1.body, "mfa_token");
    let e = app
        .call(
            Method::POST,
            "/api/auth/mfa/enroll",
            None,
            Some(json!({"mfa_token": mfa_token})),
        )
        .await;
    let code = commlog_server::totp::code_at(&s(&e.body, "secret"), now()).expect("code");
    let done = app
        .call(
            Method::POST,
            "/api/auth/mfa/activate",
            None,
            Some(json!({"mfa_token": mfa_token, "code": code})),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(
        app.get("/api/auth/me", &s(&done.body, "access_token"))
            .await
            .status,
        StatusCode::OK
    );
    // Admins are not in the policy: their password still suffices.
    let admin_email = email_of(app, &c.admin).await;
    assert!(
        sign_in(app, &admin_email, PASSWORD)
            .await
            .body
            .get("access_token")
            .is_some()
    );
}

async fn api_tokens_are_scoped_shown_once_and_revocable(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, manager) = app.user(&c, Role::Manager, None, 5).await;
    assert_eq!(
        app.post(
            "/api/api-tokens/",
            &manager,
            json!({"name": "x", "role": "sales_rep"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            "/api/api-tokens/",
            &c.admin,
            json!({"name": "PBX", "role": "manager", "permissions": ["read_logs", "create_log"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let secret = s(&r.body, "token");
    let id = id(&r.body);
    assert!(secret.starts_with("clt_"));
    let listed = app.get("/api/api-tokens/", &c.admin).await;
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is never shown again"
    );
    assert_eq!(
        app.post("/api/communication-logs/", &secret, call_body(json!({})))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.get("/api/communication-logs/", &secret).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/users/", &secret).await.status,
        StatusCode::FORBIDDEN,
        "outside the token's list"
    );
    let listed = app.get("/api/api-tokens/", &c.admin).await;
    assert!(listed.body[0]["last_used_at"].is_string());
    let r = app
        .post(
            "/api/api-tokens/",
            &c.admin,
            json!({"name": "Bad", "role": "manager", "permissions": ["fly"]}),
        )
        .await;
    assert_eq!(error_field(&r), "permissions[0]");
    let tampered = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(
        app.get("/api/communication-logs/", &tampered).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/api-tokens/{id}/"),
            Some(&c.admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/communication-logs/", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn audit_trail_is_listed_chained_and_tamper_evident(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 5).await;
    let log = app
        .log(
            &rep,
            json!({"transcription": "Customer: my card is 4111 1111 1111 1111"}),
        )
        .await;
    app.patch(
        &format!("/api/communication-logs/{log}/"),
        &rep,
        json!({"priority": "high"}),
    )
    .await;
    app.get(
        &format!("/api/communication-logs/{log}/?include_transcript=true"),
        &rep,
    )
    .await;
    assert_eq!(
        app.get("/api/audit/", &rep).await.status,
        StatusCode::FORBIDDEN
    );
    // The denial is recorded (asynchronously, it changes nothing else).
    let mut denied = 0;
    for _ in 0..50 {
        denied = app
            .get("/api/audit/?action=permission_denied", &c.admin)
            .await
            .body
            .as_array()
            .map_or(0, Vec::len);
        if denied > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(denied, 1);
    let reads = app
        .get(
            &format!("/api/audit/?action=read_transcript&entity_id={log}"),
            &c.admin,
        )
        .await;
    assert_eq!(reads.body.as_array().expect("reads").len(), 1);
    let all = app.get("/api/audit/?page_size=100", &c.admin).await;
    assert!(
        !all.body.to_string().contains("4111 1111 1111 1111"),
        "audit entries never copy content"
    );

    while app.store.seal_audit(1000).await.expect("seal") > 0 {}
    let cli = |company: uuid::Uuid| {
        std::process::Command::new(env!("CARGO_BIN_EXE_commlog"))
            .args(["audit", "verify", "--company-id", &company.to_string()])
            .env("COMMLOG_DATABASE_URL", &app.url)
            .output()
            .expect("run commlog")
    };
    let ok = cli(c.id);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).expect("json");
    assert_eq!(report["ok"], true);
    assert!(report["companies"][0]["entries"].as_u64().expect("entries") >= 5);

    // Edit one sealed entry behind the application's back: verify names it.
    let third = app
        .get("/api/audit/?page_size=100", &c.admin)
        .await
        .body
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["seq"] == 3)
        .expect("entry 3")
        .clone();
    let id = s(&third, "id");
    let literal = if app.url.starts_with("sqlite:") {
        format!("X'{}'", id.replace('-', ""))
    } else {
        format!("'{id}'")
    };
    app.raw_sql(&format!(
        "UPDATE audit_log SET action = 'nothing_to_see' WHERE id = {literal}"
    ))
    .await;
    let bad = cli(c.id);
    assert!(!bad.status.success());
    let report: Value = serde_json::from_slice(&bad.stdout).expect("json");
    assert_eq!(report["companies"][0]["first_break"]["seq"], 3);
    assert_eq!(report["companies"][0]["first_break"]["id"], third["id"]);
    // Deleting an entry is caught too.
    app.raw_sql(&format!("DELETE FROM audit_log WHERE id = {literal}"))
        .await;
    let report: Value = serde_json::from_slice(&cli(c.id).stdout).expect("json");
    assert_eq!(report["companies"][0]["first_break"]["seq"], 4);
}

both!(
    refresh_tokens_rotate_and_a_reused_one_ends_the_session,
    logout_sessions_and_deactivation,
    repeated_failures_lock_the_account,
    password_change_and_admin_reset_end_sessions,
    mfa_enrolment_challenge_and_recovery_codes,
    company_policy_requires_mfa_for_chosen_roles,
    api_tokens_are_scoped_shown_once_and_revocable,
    audit_trail_is_listed_chained_and_tamper_evident,
);
