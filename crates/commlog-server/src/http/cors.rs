//! Cross-origin access for browser front ends served from another origin: an exact list of
//! allowed origins from configuration, never a wildcard. With an empty list there is no CORS
//! layer at all and browsers keep the API same-origin.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Checks and normalises one configured origin: `http(s)://host[:port]`, lower-cased, without
/// path, query, credentials or wildcard (a trailing `/` is dropped).
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim();
    let origin = origin
        .strip_suffix('/')
        .unwrap_or(origin)
        .to_ascii_lowercase();
    if origin == "*" || origin == "null" {
        return Err(format!(
            "`{origin}` is not allowed as a CORS origin; list exact origins such as https://app.example.com"
        ));
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("the CORS origin `{raw}` must start with https:// or http://"))?;
    let bad = |c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if authority.is_empty() || authority.contains(bad) {
        return Err(format!(
            "the CORS origin `{raw}` must be scheme://host[:port], with no path, query or wildcard"
        ));
    }
    Ok(origin)
}

/// The CORS layer for `origins`, or none when the list is empty (same-origin only).
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    let allowed = allowed_values(origins);
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                HeaderName::from_static("x-request-id"),
                header::LOCATION,
                header::RETRY_AFTER,
            ])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// Wraps `router` in the CORS layer for `origins`; returns it unchanged when the list is empty.
pub fn apply<S>(router: Router<S>, origins: &[String]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let Some(cors) = layer(origins) else {
        return router;
    };
    let allowed = Arc::new(allowed_values(origins));
    router
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            allowed,
            strip_for_strangers,
        ))
}

fn allowed_values(origins: &[String]) -> Vec<HeaderValue> {
    origins
        .iter()
        .filter_map(
            |o| match parse_origin(o).map(|o| HeaderValue::from_str(&o)) {
                Ok(Ok(value)) => Some(value),
                _ => {
                    tracing::warn!(origin = %o, "ignoring an invalid CORS origin");
                    None
                }
            },
        )
        .collect()
}

// The CORS layer answers every preflight with the allowed methods and headers, whatever the
// origin; an origin that is not on the list should learn nothing about the API from it, and
// a request without an origin is no cross-origin request at all.
async fn strip_for_strangers(
    State(allowed): State<Arc<Vec<HeaderValue>>>,
    request: Request,
    next: Next,
) -> Response {
    let stranger = request
        .headers()
        .get(header::ORIGIN)
        .is_none_or(|origin| !allowed.contains(origin));
    let mut response = next.run(request).await;
    if stranger {
        let names: Vec<HeaderName> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in names {
            response.headers_mut().remove(name);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_normalised() {
        assert_eq!(
            parse_origin(" https://App.Example.com/ ").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            parse_origin("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        for bad in [
            "*",
            "null",
            "app.example.com",
            "https://",
            "https://*.example.com",
            "https://a.example.com/x",
            "https://u:p@a.example.com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn no_origins_means_no_layer() {
        assert!(layer(&[]).is_none());
        assert!(layer(&["https://a.example.com".into()]).is_some());
    }
}
