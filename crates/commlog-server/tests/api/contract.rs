//! The published contract: the OpenAPI document (kept under a snapshot), health probes, JSON
//! 404s, and 503 with `Retry-After` when the database is gone.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};

/// `docs/openapi.json` is the committed contract; regenerate it with `UPDATE_SNAPSHOTS=1`.
#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = serde_json::to_string_pretty(&commlog_server::api::openapi()).expect("json") + "\n";
    let path = std::path::PathBuf::from(manifest_dir()).join("../../docs/openapi.json");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(&path, &doc).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(&path)
        .expect("docs/openapi.json exists (run with UPDATE_SNAPSHOTS=1)");
    assert!(
        committed == doc,
        "the OpenAPI document changed; review and run with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_operation_is_documented_with_errors_and_security() {
    let doc = serde_json::to_value(commlog_server::api::openapi()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/api/communication-logs/"));
    assert!(paths.contains_key("/api/communication-logs/{id}/assign/"));
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("ops") {
            let public = path == "/livez"
                || path == "/readyz"
                || path.starts_with("/api/auth/login")
                || path.starts_with("/api/auth/refresh")
                || path.starts_with("/api/auth/mfa/")
                // Webhooks authenticate by the provider's signature, not a bearer token.
                || path.starts_with("/api/webhooks/");
            if !public {
                assert!(
                    op.get("security").is_some(),
                    "{method} {path} has no security"
                );
            }
            assert!(
                op.get("responses")
                    .is_some_and(|r| r.as_object().is_some_and(|m| !m.is_empty())),
                "{method} {path}"
            );
        }
    }
}

async fn probes_and_unknown_routes(app: &TestApp) {
    assert_eq!(
        app.call(Method::GET, "/livez", None, None).await.status,
        StatusCode::OK
    );
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["database"], "ok");
    let r = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let r = app
        .call(Method::GET, "/api/nothing-here/", None, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error_code"], "not_found");
    assert!(r.headers.get("x-request-id").is_some());
}

both!(probes_and_unknown_routes);

/// With the database unreachable, reads answer 503 with `Retry-After`, and `/readyz` says so.
#[tokio::test]
async fn database_down_answers_503_with_retry_after() {
    use commlog_server::auth::JwtKeys;
    use commlog_server::state::{AppState, Limits};
    use std::sync::Arc;
    let opts = commlog_store::ConnectOptions {
        acquire_timeout: std::time::Duration::from_millis(500),
        ..Default::default()
    };
    let store = commlog_store::Store::connect("postgres://postgres@127.0.0.1:1/nowhere", &opts)
        .await
        .expect("lazy pool");
    let jwt = JwtKeys::from_secret(SECRET);
    let state = AppState {
        cipher: commlog_server::crypto::SecretCipher::new(&commlog_server::secret::Secret::new(
            [7u8; 32],
        )),
        store: Arc::new(store),
        jwt: jwt.clone(),
        blobs: Arc::new(commlog_server::blobs::LocalBlobStore::new(
            std::env::temp_dir(),
        )),
        limits: Limits::default(),
        http: commlog_server::http::HttpConfig::default(),
        jobs: Arc::new(tokio::sync::Notify::new()),
        mail_domain: "crm.example.com".into(),
        processing: std::sync::Arc::new(commlog_server::processing::Engines::new(
            std::env::var_os("COMMLOG_MODELS_DIR").map(std::path::PathBuf::from),
        )),
        events: Default::default(),
        ledger_dir: None,
    };
    let router = commlog_server::api::router(state);
    let user = commlog_domain::User {
        id: uuid::Uuid::now_v7(),
        company_id: uuid::Uuid::now_v7(),
        email: "a@b.co".into(),
        full_name: "A".into(),
        role: commlog_domain::Role::Admin,
        team_id: None,
        capacity: 1,
        is_active: true,
        is_compliance: false,
        created_at: time::OffsetDateTime::now_utc(),
    };
    let token = jwt
        .issue(
            &user,
            "access",
            Some(uuid::Uuid::now_v7()),
            uuid::Uuid::now_v7(),
        )
        .expect("token")
        .0;
    use tower::ServiceExt;
    for (path, auth) in [("/api/communication-logs/", true), ("/readyz", false)] {
        let mut req = axum::http::Request::builder().uri(path);
        if auth {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let res = router
            .clone()
            .oneshot(req.body(axum::body::Body::empty()).expect("req"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
    }
}

/// This crate's directory as cargo gives it to the running test (a build shared between two
/// checkouts must not read the other checkout's files).
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
}
