//! Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 over the full URL plus the sorted form
//! parameters, checked against the configured URL with and without the default port, as
//! Twilio's own SDK validators do; the JSON-body variant signs the URL only and carries
//! `bodySHA256` in its query.

use super::{SignatureError, TWILIO_SIGNATURE_HEADER, constant_time_eq};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;

/// Verifies a Twilio request against `url`, the public URL Twilio was configured to call
/// (scheme, host, path and query; rebuilt from configuration, never from `Host` headers),
/// and the decoded form parameters (none for GET callbacks).
pub fn verify_twilio(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let sig = signature.ok_or(SignatureError::MissingHeader(TWILIO_SIGNATURE_HEADER))?;
    let expected = STANDARD
        .decode(sig.trim())
        .map_err(|_| SignatureError::Malformed {
            part: TWILIO_SIGNATURE_HEADER,
            reason: "not base64",
        })?;
    if expected.len() != 20 {
        return Err(SignatureError::Malformed {
            part: TWILIO_SIGNATURE_HEADER,
            reason: "not an HMAC-SHA1 sized value",
        });
    }
    if auth_token.is_empty() {
        return Err(SignatureError::Misconfigured("the auth token is empty"));
    }
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut matched = false;
    for candidate in port_variants(url)? {
        let mut mac = HmacSha1::new_from_slice(auth_token)
            .map_err(|_| SignatureError::Misconfigured("bad key"))?;
        mac.update(candidate.as_bytes());
        for (k, v) in &sorted {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        matched |= mac.verify_slice(&expected).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// [`verify_twilio`] for a raw `application/x-www-form-urlencoded` body.
pub fn verify_twilio_form(
    auth_token: &[u8],
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    if body.len() > crate::MAX_WEBHOOK_BYTES {
        return Err(SignatureError::Malformed {
            part: "body",
            reason: "larger than the webhook size limit",
        });
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    verify_twilio(auth_token, url, &params, signature)
}

/// Verifies a Twilio request with a JSON body: the signature covers `url` alone, and `url`
/// must carry `bodySHA256=<hex SHA-256 of the raw body>`, which is checked too.
pub fn verify_twilio_json(
    auth_token: &[u8],
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    const PART: &str = "bodySHA256";
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    let digests: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == PART)
        .map(|(_, v)| v.into_owned())
        .collect();
    let [digest] = digests.as_slice() else {
        return Err(SignatureError::Malformed {
            part: PART,
            reason: "the URL must carry exactly one bodySHA256 parameter",
        });
    };
    let claimed = hex::decode(digest).map_err(|_| SignatureError::Malformed {
        part: PART,
        reason: "not hexadecimal",
    })?;
    verify_twilio(auth_token, url, &[], signature)?;
    let actual = Sha256::digest(body);
    if constant_time_eq(&claimed, &actual) {
        Ok(())
    } else {
        Err(SignatureError::BodyDigestMismatch)
    }
}

/// The URL as configured plus its default-port twin: `:443`/`:80` added when absent, or
/// removed when present. A non-default port is never added or removed.
fn port_variants(url: &str) -> Result<Vec<String>, SignatureError> {
    const BAD: SignatureError = SignatureError::Misconfigured("the URL is not absolute http(s)");
    let (scheme, rest) = url.split_once("://").ok_or(BAD)?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(BAD),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    // An IPv6 literal keeps its colons inside brackets.
    let port_sep = match host_port.rfind(']') {
        Some(close) => host_port
            .get(close..)
            .and_then(|s| s.find(':'))
            .map(|i| i + close),
        None => host_port.rfind(':'),
    };
    let (host, port) = match port_sep {
        Some(i) => (host_port.get(..i).unwrap_or(""), host_port.get(i + 1..)),
        None => (host_port, None),
    };
    if host.is_empty() {
        return Err(BAD);
    }
    let mut out = vec![url.to_owned()];
    match port {
        None => out.push(format!("{scheme}://{userinfo}{host}:{default_port}{tail}")),
        Some(p) if p == default_port => out.push(format!("{scheme}://{userinfo}{host}{tail}")),
        Some(_) => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants_only_touch_the_default_port() {
        assert_eq!(
            port_variants("https://a.example/x?y=1").expect("url"),
            ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            port_variants("http://a.example:80").expect("url"),
            ["http://a.example:80", "http://a.example"]
        );
        assert_eq!(
            port_variants("https://a.example:8443/x").expect("url"),
            ["https://a.example:8443/x"]
        );
        assert_eq!(
            port_variants("https://u:p@[::1]/x").expect("url"),
            ["https://u:p@[::1]/x", "https://u:p@[::1]:443/x"]
        );
        assert!(port_variants("ftp://a.example/").is_err());
        assert!(port_variants("/relative").is_err());
        assert!(port_variants("https:///x").is_err());
    }
}
