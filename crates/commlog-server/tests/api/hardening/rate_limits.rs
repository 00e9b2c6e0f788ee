//! Rate limits: a budget per user, API token or client address, a separate one for sign-in
//! attempts per address, and one per provider webhook endpoint.

use super::{assert_security_headers, login, request, router_with, send};
use crate::helpers::*;
use axum::http::{Method, StatusCode, header};
use commlog_domain::Role;
use commlog_server::http::HttpConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_has_a_request_budget() {
    run(TestApp::sqlite().await, |app| async move {
        let acme = app.company("Acme").await;
        let (_, rep) = app.user(&acme, Role::SalesRep, None, 10).await;
        let router = router_with(
            &app,
            HttpConfig {
                rate_limit_per_minute: 3,
                ..HttpConfig::default()
            },
        );
        let from = Some("203.0.113.5:40000");
        for _ in 0..3 {
            let r = send(
                &router,
                request(
                    Method::GET,
                    "/api/communication-logs/",
                    Some(&acme.admin),
                    from,
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        }
        let r = send(
            &router,
            request(
                Method::GET,
                "/api/communication-logs/",
                Some(&acme.admin),
                from,
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.body["error_code"], "rate_limited");
        let retry: u64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        // 3 a minute: one request back every 20 seconds.
        assert!((1..=20).contains(&retry), "{retry}");
        assert_eq!(r.body["details"]["retry_after_seconds"], retry);
        assert_security_headers(&r.headers, "429");

        // Another user from the very same address is not affected, nor are the probes.
        let r = send(
            &router,
            request(Method::GET, "/api/communication-logs/", Some(&rep), from),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        for _ in 0..10 {
            let r = send(&router, request(Method::GET, "/livez", None, from)).await;
            assert_eq!(r.status, StatusCode::OK);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_have_their_own_budget_per_address() {
    run(TestApp::sqlite().await, |app| async move {
        let acme = app.company("Acme").await;
        let router = router_with(
            &app,
            HttpConfig {
                rate_limit_per_minute: 3,
                login_rate_limit_per_minute: 2,
                ..HttpConfig::default()
            },
        );
        let attacker = "198.51.100.7:5555";
        for _ in 0..2 {
            assert_eq!(
                send(&router, login(attacker)).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let r = send(&router, login(attacker)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.body["error_code"], "rate_limited");
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        // Another address may still try; the same address may still use the API.
        assert_eq!(
            send(&router, login("198.51.100.8:5555")).await.status,
            StatusCode::UNAUTHORIZED
        );
        let r = send(
            &router,
            request(
                Method::GET,
                "/api/auth/me",
                Some(&acme.admin),
                Some(attacker),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_api_tokens_spend_the_address_budget() {
    run(TestApp::sqlite().await, |app| async move {
        let router = router_with(
            &app,
            HttpConfig {
                rate_limit_per_minute: 3,
                ..HttpConfig::default()
            },
        );
        let made_up = || format!("clt_{}_{}", uuid::Uuid::now_v7().simple(), "0".repeat(64));
        let from = Some("192.0.2.10:1234");
        for _ in 0..3 {
            let r = send(
                &router,
                request(
                    Method::GET,
                    "/api/communication-logs/",
                    Some(&made_up()),
                    from,
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
        }
        let r = send(
            &router,
            request(
                Method::GET,
                "/api/communication-logs/",
                Some(&made_up()),
                from,
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
        let elsewhere = Some("192.0.2.11:1234");
        let r = send(
            &router,
            request(
                Method::GET,
                "/api/communication-logs/",
                Some(&made_up()),
                elsewhere,
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_have_a_budget_per_endpoint_not_per_address() {
    run(TestApp::sqlite().await, |app| async move {
        let router = router_with(
            &app,
            HttpConfig {
                rate_limit_per_minute: 1,
                webhook_rate_limit_per_minute: 3,
                ..HttpConfig::default()
            },
        );
        let endpoint = format!("/api/webhooks/calls/{}", uuid::Uuid::new_v4());
        // A provider posts from many addresses: the endpoint's budget counts them together,
        // and the general per-address budget (1 here) does not apply.
        for from in ["192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"] {
            let r = send(&router, request(Method::POST, &endpoint, None, Some(from))).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
        }
        let r = send(
            &router,
            request(Method::POST, &endpoint, None, Some("192.0.2.4:1")),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let other = format!("/api/webhooks/calls/{}", uuid::Uuid::new_v4());
        let r = send(
            &router,
            request(Method::POST, &other, None, Some("192.0.2.4:1")),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "another endpoint has its own budget"
        );
    })
    .await;
}
