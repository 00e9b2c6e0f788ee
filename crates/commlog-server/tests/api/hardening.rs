//! Transport hardening through the real router: security headers and CORS here, rate limits
//! and HTTPS in the submodules.

mod rate_limits;
mod tls;

use crate::helpers::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use commlog_server::http::HttpConfig;
use commlog_server::http::headers::{HSTS, SECURITY_HEADERS};
use commlog_server::state::AppState;
use http_body_util::BodyExt;
use serde_json::json;
use std::net::SocketAddr;
use tower::ServiceExt;

/// The application of `app` (same database and keys) under another HTTP configuration.
fn router_with(app: &TestApp, http: HttpConfig) -> axum::Router {
    commlog_server::api::router(AppState {
        http,
        ..app.state.clone()
    })
}

/// A request as a client at `from` would send it (`None`: no connection info, as in-process).
fn request(method: Method, path: &str, token: Option<&str>, from: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = builder.body(Body::empty()).expect("request");
    if let Some(addr) = from {
        let addr: SocketAddr = addr.parse().expect("socket address");
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    req
}

async fn send(router: &axum::Router, req: Request<Body>) -> Response {
    let res = router.clone().oneshot(req).await.expect("infallible");
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Response {
        status,
        body,
        headers,
        bytes,
    }
}

fn login(from: &str) -> Request<Body> {
    let body = json!({"email": format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple()), "password": "not the password"});
    let mut req = Request::post("/api/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let addr: SocketAddr = from.parse().expect("socket address");
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_are_on_api_responses_and_404s() {
    run(TestApp::sqlite().await, |app| async move {
        let acme = app.company("Acme").await;
        let r = app.get("/api/communication-logs/", &acme.admin).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_security_headers(&r.headers, "list");
        let r = app
            .call(Method::GET, "/api/no-such-thing/", None, None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_security_headers(&r.headers, "404");
        assert!(
            r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "no HSTS over plain HTTP"
        );
        let tls = router_with(
            &app,
            HttpConfig {
                tls: true,
                ..HttpConfig::default()
            },
        );
        let r = send(&tls, request(Method::GET, "/livez", None, None)).await;
        assert_eq!(r.headers[header::STRICT_TRANSPORT_SECURITY], HSTS);
        assert_security_headers(&r.headers, "livez over TLS");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_only_listed_origins() {
    run(TestApp::sqlite().await, |app| async move {
        let acme = app.company("Acme").await;
        let allowed = "https://app.example.com";
        let router = router_with(
            &app,
            HttpConfig {
                cors_origins: vec![allowed.into()],
                ..HttpConfig::default()
            },
        );
        let preflight = |origin: &str| {
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/api/communication-logs/")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "authorization, content-type, idempotency-key",
                )
                .body(Body::empty())
                .expect("request")
        };
        let r = send(&router, preflight(allowed)).await;
        assert!(r.status.is_success(), "{}", r.status);
        assert_eq!(r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], allowed);
        let methods = r.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .expect("ascii");
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed_headers = r.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("ascii");
        for h in ["authorization", "content-type", "idempotency-key"] {
            assert!(allowed_headers.contains(h), "{allowed_headers}");
        }
        assert!(
            r.headers
                .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .is_none()
        );
        assert_security_headers(&r.headers, "preflight");

        let r = send(&router, preflight("https://evil.example.com")).await;
        assert!(cors_headers(&r.headers).is_empty(), "{:?}", r.headers);

        let mut get = request(
            Method::GET,
            "/api/communication-logs/",
            Some(&acme.admin),
            None,
        );
        get.headers_mut()
            .insert(header::ORIGIN, allowed.parse().expect("header"));
        let r = send(&router, get).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], allowed);
        let exposed = r.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
            .to_str()
            .expect("ascii");
        for h in ["x-request-id", "location", "retry-after"] {
            assert!(exposed.contains(h), "{exposed}");
        }

        // Without configured origins there is no CORS at all.
        let r = app.send(preflight(allowed)).await;
        assert!(cors_headers(&r.headers).is_empty(), "{:?}", r.headers);
    })
    .await;
}
