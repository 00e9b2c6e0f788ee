//! Fetching a provider's media (call recordings): one GET, only to an origin the channel
//! allows, with the provider's credentials, a time limit and a size limit, and no redirects
//! (a redirect could lead the credentials, or the request, somewhere not allowed).

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::net::TcpStream;

/// Why a fetch did not produce the file.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one Commlog may fetch; trying again will not change that.
    #[error("refused: {0}")]
    Refused(String),
    /// The provider answered with an error status, or the file is too large.
    #[error("{0}")]
    Rejected(String),
    /// The network or the provider failed; worth trying again later.
    #[error("transient: {0}")]
    Transient(String),
}

impl FetchError {
    /// A retry cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::Rejected(_))
    }
}

/// A fetched file.
#[derive(Debug)]
pub struct Fetched {
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// `scheme://host[:port]` of a URL, lowercased, with the default port left out.
pub fn origin(url: &url::Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// Checks `raw` against the allowed origins: https (or http to an origin allowed with `http://`
/// spelled out), no user info, no fragment, and an origin in `allowed`.
pub fn check_url(raw: &str, allowed: &[String]) -> Result<url::Url, FetchError> {
    if raw.len() > 2048
        || raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(FetchError::Refused("the URL is malformed".into()));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| FetchError::Refused(format!("the URL is malformed: {e}")))?;
    if !matches!(url.scheme(), "https" | "http")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(FetchError::Refused(
            "only plain http(s) URLs without credentials are fetched".into(),
        ));
    }
    let origin = origin(&url).ok_or_else(|| FetchError::Refused("the URL has no host".into()))?;
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&origin)) {
        return Err(FetchError::Refused(format!(
            "{origin} is not an allowed recording host for this channel"
        )));
    }
    Ok(url)
}

/// The operating system's CA bundle (`SSL_CERT_FILE` or Debian's path), trusted beside the
/// public web roots: sites behind a company's own CA or TLS-inspecting proxy stay reachable.
fn system_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    let path = std::env::var_os("SSL_CERT_FILE")
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    match rustls::pki_types::CertificateDer::pem_file_iter(&path) {
        Ok(certs) => certs.filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    }
}

static TLS: LazyLock<tokio_rustls::TlsConnector> = LazyLock::new(|| {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // A certificate the bundle has but rustls cannot use is skipped, not fatal.
    let _ = roots.add_parsable_certificates(system_roots());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
});

/// The TLS client configuration with the public web roots and the system's CA bundle.
pub fn tls_connector() -> &'static tokio_rustls::TlsConnector {
    &TLS
}

/// GETs `url` (already checked with [`check_url`]) with optional basic credentials, giving up
/// after `timeout` or once the body passes `max_bytes`.
pub async fn get(
    url: &url::Url,
    basic_auth: Option<(&str, &str)>,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    tokio::time::timeout(timeout, get_inner(url, basic_auth, max_bytes))
        .await
        .map_err(|_| {
            FetchError::Transient(format!("no complete answer within {} s", timeout.as_secs()))
        })?
}

async fn get_inner(
    url: &url::Url,
    basic_auth: Option<(&str, &str)>,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = Request::get(path)
        .header(hyper::header::HOST, url.host_str().unwrap_or_default())
        .header(hyper::header::USER_AGENT, "Commlog");
    if let Some((user, password)) = basic_auth {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request = request.header(hyper::header::AUTHORIZATION, format!("Basic {token}"));
    }
    let request = request
        .body(Full::new(Bytes::new()))
        .map_err(|e| FetchError::Refused(format!("cannot build the request: {e}")))?;
    send(url, request, max_bytes).await
}

/// POSTs `body` (of `content_type`, with an optional bearer token) to `url`, giving up after
/// `timeout` or once the answer passes `max_bytes`. The caller chose and checked the URL.
pub async fn post(
    url: &url::Url,
    content_type: &str,
    bearer: Option<&str>,
    body: Bytes,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = Request::post(path)
        .header(hyper::header::HOST, url.host_str().unwrap_or_default())
        .header(hyper::header::USER_AGENT, "Commlog")
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header(hyper::header::CONTENT_LENGTH, body.len());
    if let Some(token) = bearer {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| FetchError::Refused(format!("cannot build the request: {e}")))?;
    tokio::time::timeout(timeout, send(url, request, max_bytes))
        .await
        .map_err(|_| {
            FetchError::Transient(format!("no complete answer within {} s", timeout.as_secs()))
        })?
}

/// Connects to the URL's host (TLS for https) and exchanges one request.
async fn send(
    url: &url::Url,
    request: Request<Full<Bytes>>,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let host = url
        .host_str()
        .ok_or_else(|| FetchError::Refused("no host".into()))?
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| FetchError::Transient(format!("connect to {host}:{port}: {e}")))?;
    if url.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| FetchError::Refused(format!("{host} is not a valid TLS server name")))?;
        let tls = TLS
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Transient(format!("TLS with {host}: {e}")))?;
        exchange(TokioIo::new(tls), request, max_bytes).await
    } else {
        exchange(TokioIo::new(tcp), request, max_bytes).await
    }
}

async fn exchange<T>(
    io: T,
    request: Request<Full<Bytes>>,
    max_bytes: usize,
) -> Result<Fetched, FetchError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| FetchError::Transient(format!("HTTP handshake: {e}")))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| FetchError::Transient(format!("request: {e}")))?;
    let status = response.status();
    if status.is_server_error() || status == hyper::StatusCode::TOO_MANY_REQUESTS {
        driver.abort();
        return Err(FetchError::Transient(format!(
            "the provider answered {status}"
        )));
    }
    if !status.is_success() {
        driver.abort();
        return Err(FetchError::Rejected(format!(
            "the provider answered {status}"
        )));
    }
    let declared = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        driver.abort();
        return Err(FetchError::Rejected(format!(
            "the file is larger than {max_bytes} bytes"
        )));
    }
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(100).collect());
    let mut body = response.into_body();
    let mut data = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| FetchError::Transient(format!("reading the body: {e}")))?;
        if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > max_bytes {
                driver.abort();
                return Err(FetchError::Rejected(format!(
                    "the file is larger than {max_bytes} bytes"
                )));
            }
            data.extend_from_slice(&chunk);
        }
    }
    driver.abort();
    Ok(Fetched {
        content_type,
        data: data.freeze(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_origins_are_fetched() {
        let allowed = vec![
            "https://api.twilio.com".to_owned(),
            "http://127.0.0.1:8080".to_owned(),
        ];
        assert!(
            check_url(
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                &allowed
            )
            .is_ok()
        );
        assert!(
            check_url("https://API.twilio.com:443/x", &allowed).is_ok(),
            "default port and case"
        );
        assert!(check_url("http://127.0.0.1:8080/r.wav", &allowed).is_ok());
        for bad in [
            "https://api.twilio.com.evil.example/x",
            "https://evil.example/https://api.twilio.com/",
            "http://api.twilio.com/x",
            "https://user:pw@api.twilio.com/x",
            "https://api.twilio.com:8443/x",
            "http://127.0.0.1:8081/r.wav",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "https://api.twilio.com/a b",
            "",
        ] {
            assert!(check_url(bad, &allowed).is_err(), "{bad}");
        }
    }
}
