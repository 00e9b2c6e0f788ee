//! Security headers on every response, errors and 404s included. A handler that sets one of
//! them itself (an attachment download choosing its own `Cache-Control`) keeps its value.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// `Strict-Transport-Security` sent when the server speaks TLS: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The headers every response carries, as (name, value).
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    // The API serves JSON and files, never pages: nothing may load, nothing may frame it.
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    // Responses hold customer data; no shared or browser cache should keep them.
    ("cache-control", "no-store"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Adds the security headers to every response of `router`, and HSTS when `tls` is on (over
/// plain HTTP the header is meaningless and browsers ignore it).
pub fn apply<S>(router: Router<S>, tls: bool) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = router;
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(set(name, value));
    }
    if tls {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ));
    }
    router
}

fn set(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    async fn headers_of(router: Router, path: &str) -> axum::http::HeaderMap {
        let request = Request::builder().uri(path).body(Body::empty());
        let response = router
            .oneshot(request.expect("request"))
            .await
            .expect("infallible");
        response.headers().clone()
    }

    #[tokio::test]
    async fn every_response_gets_the_headers_and_handlers_keep_their_own() {
        let router = Router::new()
            .route("/plain", get(|| async { "ok" }))
            .route(
                "/cached",
                get(|| async { ([(header::CACHE_CONTROL, "private, max-age=60")], "ok") }),
            )
            .fallback(|| async { StatusCode::NOT_FOUND });
        let plain = apply(router.clone(), false);
        for path in ["/plain", "/missing"] {
            let headers = headers_of(plain.clone(), path).await;
            for (name, value) in SECURITY_HEADERS {
                assert_eq!(
                    headers.get(name).and_then(|v| v.to_str().ok()),
                    Some(value),
                    "{path} {name}"
                );
            }
            assert!(headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        }
        let cached = headers_of(plain, "/cached").await;
        assert_eq!(cached[header::CACHE_CONTROL], "private, max-age=60");
        let tls = headers_of(apply(router, true), "/plain").await;
        assert_eq!(tls[header::STRICT_TRANSPORT_SECURITY], HSTS);
    }
}
