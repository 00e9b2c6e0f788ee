//! How the HTTP layer is configured: [`HttpConfig`] as the router sees it, and [`HttpArgs`],
//! the `serve` flags (with environment fallbacks) it is built from.

use clap::Args;
use std::path::{Path, PathBuf};

/// Requests per minute allowed per user, API token or client IP by default.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 1200;
/// Sign-in attempts per minute allowed per client IP by default.
pub const DEFAULT_LOGIN_RATE_LIMIT_PER_MINUTE: u32 = 20;
/// Deliveries per minute allowed per provider webhook endpoint by default (500 a second).
pub const DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE: u32 = 30_000;

/// What the router needs to know about its transport and its callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Served over TLS: responses then carry `Strict-Transport-Security`.
    pub tls: bool,
    /// Exact origins (`https://app.example.com`) a browser may call the API from; empty
    /// means same-origin only (no CORS headers at all).
    pub cors_origins: Vec<String>,
    /// Requests per minute per user, API token or client IP; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Sign-in attempts (login, refresh, MFA verification) per minute per client IP; 0 turns
    /// the limit off.
    pub login_rate_limit_per_minute: u32,
    /// Deliveries per minute per provider webhook endpoint (`/api/webhooks/…`), whatever the
    /// client address (providers post from many); 0 turns the limit off.
    pub webhook_rate_limit_per_minute: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            tls: false,
            cors_origins: Vec::new(),
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            login_rate_limit_per_minute: DEFAULT_LOGIN_RATE_LIMIT_PER_MINUTE,
            webhook_rate_limit_per_minute: DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE,
        }
    }
}

/// The `serve` flags of the HTTP layer.
#[derive(Args, Debug, Clone)]
pub struct HttpArgs {
    /// PEM certificate chain; together with --tls-key the server speaks HTTPS (TLS 1.3 only).
    #[arg(long, env = "COMMLOG_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "COMMLOG_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
    /// An exact origin allowed to call the API from a browser, e.g. `https://app.example.com`;
    /// repeatable (the environment variable takes a comma-separated list). None: same-origin only.
    #[arg(
        long = "cors-origin",
        env = "COMMLOG_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = crate::http::cors::parse_origin
    )]
    pub cors_origins: Vec<String>,
    /// Requests per minute per signed-in user, API token or client IP (0: no limit).
    #[arg(long, env = "COMMLOG_RATE_LIMIT_PER_MINUTE", value_name = "N", default_value_t = DEFAULT_RATE_LIMIT_PER_MINUTE)]
    pub rate_limit_per_minute: u32,
    /// Sign-in attempts per minute per client IP (0: no limit).
    #[arg(long, env = "COMMLOG_LOGIN_RATE_LIMIT_PER_MINUTE", value_name = "N", default_value_t = DEFAULT_LOGIN_RATE_LIMIT_PER_MINUTE)]
    pub login_rate_limit_per_minute: u32,
    /// Provider deliveries per minute per webhook endpoint (0: no limit).
    #[arg(long, env = "COMMLOG_WEBHOOK_RATE_LIMIT_PER_MINUTE", value_name = "N", default_value_t = DEFAULT_WEBHOOK_RATE_LIMIT_PER_MINUTE)]
    pub webhook_rate_limit_per_minute: u32,
}

impl HttpArgs {
    /// The certificate and key paths when both are given, none when neither is, an error when
    /// only one is.
    pub fn tls_paths(&self) -> Result<Option<(&Path, &Path)>, String> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            (Some(_), None) => Err("--tls-cert needs --tls-key (COMMLOG_TLS_KEY) too".into()),
            (None, Some(_)) => Err("--tls-key needs --tls-cert (COMMLOG_TLS_CERT) too".into()),
        }
    }

    /// The router's configuration; `tls` says whether the server will speak HTTPS.
    pub fn config(&self, tls: bool) -> HttpConfig {
        HttpConfig {
            tls,
            cors_origins: self.cors_origins.clone(),
            rate_limit_per_minute: self.rate_limit_per_minute,
            login_rate_limit_per_minute: self.login_rate_limit_per_minute,
            webhook_rate_limit_per_minute: self.webhook_rate_limit_per_minute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        http: HttpArgs,
    }

    fn parse(args: &[&str]) -> Result<HttpArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|w| w.http)
    }

    #[test]
    fn flags_parse_with_defaults() {
        let args = parse(&[]).expect("no flags");
        assert_eq!(args.config(false), HttpConfig::default());
        let args = parse(&[
            "--cors-origin",
            "https://a.example.com",
            "--cors-origin",
            "https://B.example.com:8443/",
            "--rate-limit-per-minute",
            "0",
            "--login-rate-limit-per-minute",
            "5",
        ])
        .expect("flags");
        let config = args.config(true);
        assert_eq!(
            config.cors_origins,
            ["https://a.example.com", "https://b.example.com:8443"]
        );
        assert_eq!(
            (
                config.rate_limit_per_minute,
                config.login_rate_limit_per_minute
            ),
            (0, 5)
        );
        assert!(config.tls);
    }

    #[test]
    fn tls_needs_both_paths_and_origins_must_be_exact() {
        let only_cert = parse(&["--tls-cert", "c.pem"]).expect("parses");
        assert!(only_cert.tls_paths().is_err());
        let both = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).expect("parses");
        assert!(matches!(both.tls_paths(), Ok(Some(_))));
        assert!(parse(&["--cors-origin", "*"]).is_err());
        assert!(parse(&["--cors-origin", "https://a.example.com/app"]).is_err());
    }
}
