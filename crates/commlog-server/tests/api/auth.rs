//! Sign-in and token checks.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

async fn login_issues_tokens_that_work(app: &TestApp) {
    let c = app.company("Acme").await;
    let me = app.get("/api/auth/me", &c.admin).await;
    let email = me.body["email"].as_str().expect("email").to_owned();
    let r = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email.to_uppercase(), "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["expires_in"].as_i64().expect("expires") > 60);
    let access = r.body["access_token"].as_str().expect("access").to_owned();
    let refresh = r.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(
        app.get("/api/auth/me", &access).await.status,
        StatusCode::OK
    );
    // A refresh token is not an access token, and the other way round.
    assert_eq!(
        app.get("/api/auth/me", &refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": access})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    for (email, password) in [
        (email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let r = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["error_code"], "unauthorized");
    }
}

async fn bad_tokens_are_refused(app: &TestApp) {
    let c = app.company("Acme").await;
    let parts: Vec<&str> = c.admin.split('.').collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("utf8");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let elevated =
        URL_SAFE_NO_PAD.encode(claims.replace("\"role\":\"admin\"", "\"role\":\"manager\""));
    let other_key =
        commlog_server::auth::JwtKeys::from_secret(b"some other secret some other secret");
    let user = app
        .store
        .get_user(&commlog_store::Scope::admin(c.id, c.admin_id), c.admin_id)
        .await
        .expect("user");
    let foreign = other_key
        .issue(
            &user,
            "access",
            Some(uuid::Uuid::now_v7()),
            uuid::Uuid::now_v7(),
        )
        .expect("token")
        .0;
    let cases = [
        String::new(),
        "not-a-jwt".to_owned(),
        format!("{none_header}.{}.", parts[1]),
        format!("{}.{elevated}.{}", parts[0], parts[2]),
        foreign,
    ];
    for token in cases {
        let r = app.get("/api/communication-logs/", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "token {token}");
    }
    let r = app
        .call(Method::GET, "/api/communication-logs/", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error_code"], "unauthorized");
}

async fn expired_tokens_are_refused(app: &TestApp) {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let c = app.company("Acme").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = commlog_server::auth::Claims {
        sub: c.admin_id,
        cid: c.id,
        role: commlog_domain::Role::Admin,
        team: None,
        cmp: false,
        typ: "access".into(),
        exp: now - 600,
        iat: now - 1200,
        jti: uuid::Uuid::new_v4(),
        sid: None,
        aud: commlog_server::auth::AUDIENCE.into(),
    };
    let token = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("encode");
    assert_eq!(
        app.get("/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A live token for another audience, signed with the same key, is refused too.
    let other = commlog_server::auth::Claims {
        exp: now + 600,
        aud: "another-service".into(),
        ..claims
    };
    let token = encode(
        &Header::default(),
        &other,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("encode");
    assert_eq!(
        app.get("/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

both!(
    login_issues_tokens_that_work,
    bad_tokens_are_refused,
    expired_tokens_are_refused
);
