//! Request rate limits per caller: a signed-in user, an API token, or else the client IP.
//! Sign-in endpoints have their own, stricter budget per client IP; provider webhooks one per
//! endpoint; health probes have none.

use crate::auth::{API_TOKEN_PREFIX, Claims, JwtKeys, VerifiedAccess};
use crate::error::ApiError;
use crate::http::HttpConfig;
use crate::http::buckets::Buckets;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use uuid::Uuid;

/// Endpoints that take a password, a refresh token or a second factor.
pub const SIGN_IN_PATHS: [&str; 3] = [
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/mfa/verify",
];
/// Provider webhooks: budgeted per endpoint, since providers post from many addresses and one
/// customer's traffic must not spend another's budget.
pub const WEBHOOK_PREFIX: &str = "/api/webhooks/";
/// Probes that orchestrators call often and that must never be refused.
pub const UNLIMITED_PATHS: [&str; 2] = ["/livez", "/readyz"];

/// The budgets and the keys to verify callers with.
pub struct RateLimiter {
    jwt: JwtKeys,
    general: Option<Buckets>,
    sign_in: Option<Buckets>,
    webhooks: Option<Buckets>,
}

impl RateLimiter {
    /// Budgets from `config`; `jwt` tells a real user from a made-up token.
    pub fn new(config: &HttpConfig, jwt: JwtKeys) -> Self {
        Self {
            jwt,
            general: Buckets::per_minute(config.rate_limit_per_minute),
            sign_in: Buckets::per_minute(config.login_rate_limit_per_minute),
            webhooks: Buckets::per_minute(config.webhook_rate_limit_per_minute),
        }
    }

    /// Whether any limit is on (with none, the middleware need not run).
    pub fn is_active(&self) -> bool {
        self.general.is_some() || self.sign_in.is_some() || self.webhooks.is_some()
    }

    /// The bucket key of a request that is not a sign-in: `user:<id>` for a valid access
    /// token, `token:<id>` for an API token, else `ip:<client>`.
    pub fn caller_key(&self, headers: &HeaderMap, client: &str) -> String {
        self.identify(headers, client).0
    }

    /// The bucket key, and the claims of an access token it verified on the way.
    fn identify(&self, headers: &HeaderMap, client: &str) -> (String, Option<Claims>) {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim);
        if let Some(token) = bearer {
            if let Some(rest) = token.strip_prefix(API_TOKEN_PREFIX) {
                if let Some((id, _)) = rest.split_once('_')
                    && let Ok(id) = Uuid::try_parse(id)
                {
                    return (format!("token:{}", id.simple()), None);
                }
            } else if let Ok(claims) = self.jwt.verify(token, "access") {
                return (format!("user:{}", claims.sub), Some(claims));
            }
        }
        (format!("ip:{client}"), None)
    }
}

/// The middleware: spends one token of the caller's bucket, or answers 429.
pub async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if UNLIMITED_PATHS.contains(&path) {
        return next.run(request).await;
    }
    if path.starts_with(WEBHOOK_PREFIX) {
        let key = format!("webhook:{path}");
        if let Some(webhooks) = &limiter.webhooks
            && let Err(wait) = webhooks.take(&key)
        {
            tracing::debug!(%key, "webhook rate limit reached");
            return too_many_requests(wait);
        }
        return next.run(request).await;
    }
    let address = client(&request);
    let client_key = format!("ip:{address}");
    if SIGN_IN_PATHS.contains(&path) {
        if let Some(sign_in) = &limiter.sign_in
            && let Err(wait) = sign_in.take(&client_key)
        {
            tracing::debug!(key = %client_key, "sign-in rate limit reached");
            return too_many_requests(wait);
        }
        return next.run(request).await;
    }
    let Some(general) = &limiter.general else {
        return next.run(request).await;
    };
    let (key, claims) = limiter.identify(request.headers(), &address);
    if let Some(claims) = claims {
        // Verified once: the handler's `Auth` takes these instead of checking the token again.
        request.extensions_mut().insert(VerifiedAccess(claims));
    }
    let by_client = key == client_key;
    // An API token's id is not checked here (that needs the database), so made-up ids must
    // not buy fresh budgets: an address whose failures used up its budget waits too.
    let checked = if key.starts_with("token:") {
        general.check(&client_key).and_then(|()| general.take(&key))
    } else {
        general.take(&key)
    };
    if let Err(wait) = checked {
        tracing::debug!(%key, "rate limit reached");
        return too_many_requests(wait);
    }
    let response = next.run(request).await;
    if !by_client && response.status() == StatusCode::UNAUTHORIZED {
        let _ = general.take(&client_key);
    }
    response
}

/// The client address as a bucket key: the IPv4 address, or the /64 of an IPv6 one (a single
/// host usually holds a whole /64); `unknown` when the server was not told (in-process tests).
pub fn client(request: &Request) -> String {
    let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return "unknown".into();
    };
    match addr.ip().to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

fn too_many_requests(wait: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; retry in {wait} s"),
    )
    .with_details(serde_json::json!({"retry_after_seconds": wait}))
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn headers(authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(authorization) {
            h.insert(header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn callers_are_keyed_by_token_user_or_address() {
        let limiter = RateLimiter::new(&HttpConfig::default(), JwtKeys::from_secret(&[7; 32]));
        let id = Uuid::now_v7();
        let api = format!("Bearer clt_{}_{}", id.simple(), "ab".repeat(32));
        assert_eq!(
            limiter.caller_key(&headers(&api), "1.2.3.4"),
            format!("token:{}", id.simple())
        );
        for anonymous in [
            "",
            "Bearer not-a-jwt",
            "Bearer clt_nope_secret",
            "Basic dXNlcjpwdw==",
        ] {
            assert_eq!(
                limiter.caller_key(&headers(anonymous), "1.2.3.4"),
                "ip:1.2.3.4",
                "{anonymous}"
            );
        }
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let with = |addr: &str| {
            let mut request = Request::new(Body::empty());
            if let Ok(addr) = addr.parse::<SocketAddr>() {
                request.extensions_mut().insert(ConnectInfo(addr));
            }
            client(&request)
        };
        assert_eq!(with("[2001:db8:1:2:aa::1]:5000"), "2001:db8:1:2::/64");
        assert_eq!(with("[2001:db8:1:2:bb::9]:5001"), "2001:db8:1:2::/64");
        assert_eq!(with("[::ffff:10.0.0.1]:80"), "10.0.0.1");
        assert_eq!(with("192.0.2.7:443"), "192.0.2.7");
        assert_eq!(with("not an address"), "unknown");
    }
}
