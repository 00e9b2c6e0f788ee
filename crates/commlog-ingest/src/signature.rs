//! Webhook authenticity: constant-time verification of every provider's signature scheme on
//! the raw body bytes, and Commlog's own `X-Commlog-Signature` scheme (sign and verify).
//!
//! Each check returns `Result<(), SignatureError>`; a caller answers 401 without side
//! effects on any error. Timestamps are passed in (`now_unix`) so the checks stay pure.

mod twilio;

pub use twilio::{verify_twilio, verify_twilio_form, verify_twilio_json};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying Twilio's signature.
pub const TWILIO_SIGNATURE_HEADER: &str = "X-Twilio-Signature";
/// Header carrying Slack's signature (`v0=<hex>`).
pub const SLACK_SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// Header carrying the unix time Slack signed.
pub const SLACK_TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
/// Header carrying Meta's (WhatsApp Cloud API) signature (`sha256=<hex>`).
pub const META_SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// Header carrying Commlog's generic webhook signature (`t=<unix>,v1=<hex>`).
pub const COMMLOG_SIGNATURE_HEADER: &str = "X-Commlog-Signature";
/// Slack's replay window: a request signed more than five minutes from now is refused.
pub const SLACK_REPLAY_WINDOW_SECONDS: u64 = 300;
/// The replay window suggested for Commlog's generic scheme.
pub const DEFAULT_REPLAY_WINDOW_SECONDS: u64 = 300;

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header (or URL parameter) carrying the signature or timestamp is absent.
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// The signature or timestamp is present but not in the scheme's format.
    #[error("`{part}` is malformed: {reason}")]
    Malformed {
        /// The header or parameter at fault.
        part: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature does not match the body and secret.
    #[error("the signature does not match")]
    Mismatch,
    /// The signature matches, but the body does not match the digest it signed (Twilio JSON).
    #[error("the body does not match its signed SHA-256 digest")]
    BodyDigestMismatch,
    /// The signed timestamp is outside the replay window.
    #[error(
        "the signed timestamp is {age_seconds} s from now, outside the {window_seconds} s window"
    )]
    StaleTimestamp {
        /// `now − timestamp`; negative when the timestamp is in the future.
        age_seconds: i64,
        /// The window allowed either side of now.
        window_seconds: u64,
    },
    /// The verifier itself is misconfigured (empty secret, unusable URL).
    #[error("signature verification is misconfigured: {0}")]
    Misconfigured(&'static str),
}

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 keyed with `secret`, refusing an empty secret (which anyone could use).
fn hmac_sha256(secret: &[u8]) -> Result<HmacSha256, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::Misconfigured("the secret is empty"));
    }
    HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::Misconfigured("bad key"))
}

/// Compares two byte strings in time independent of their content (the length may leak).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Decodes a hex signature of exactly 32 bytes (SHA-256 sized).
fn decode_hex32(part: &'static str, hex_text: &str) -> Result<Vec<u8>, SignatureError> {
    let bytes = hex::decode(hex_text.trim()).map_err(|_| SignatureError::Malformed {
        part,
        reason: "not hexadecimal",
    })?;
    if bytes.len() != 32 {
        return Err(SignatureError::Malformed {
            part,
            reason: "not a SHA-256 sized value",
        });
    }
    Ok(bytes)
}

/// Parses a unix timestamp in seconds and checks it is within `window` of `now_unix`.
fn check_fresh(
    part: &'static str,
    ts: &str,
    now_unix: i64,
    window: u64,
) -> Result<(), SignatureError> {
    let t = ts.trim();
    if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed {
            part,
            reason: "not a unix timestamp in seconds",
        });
    }
    let t: i64 = t.parse().map_err(|_| SignatureError::Malformed {
        part,
        reason: "not a unix timestamp in seconds",
    })?;
    let age = now_unix.saturating_sub(t);
    if age.unsigned_abs() > window {
        return Err(SignatureError::StaleTimestamp {
            age_seconds: age,
            window_seconds: window,
        });
    }
    Ok(())
}

/// Verifies a Slack request: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>`
/// with `X-Slack-Request-Timestamp` within [`SLACK_REPLAY_WINDOW_SECONDS`] of `now_unix`.
pub fn verify_slack(
    signing_secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let ts = timestamp.ok_or(SignatureError::MissingHeader(SLACK_TIMESTAMP_HEADER))?;
    let sig = signature.ok_or(SignatureError::MissingHeader(SLACK_SIGNATURE_HEADER))?;
    let hex_sig = sig
        .trim()
        .strip_prefix("v0=")
        .ok_or(SignatureError::Malformed {
            part: SLACK_SIGNATURE_HEADER,
            reason: "expected `v0=<hex>`",
        })?;
    let expected = decode_hex32(SLACK_SIGNATURE_HEADER, hex_sig)?;
    check_fresh(
        SLACK_TIMESTAMP_HEADER,
        ts,
        now_unix,
        SLACK_REPLAY_WINDOW_SECONDS,
    )?;
    let mut mac = hmac_sha256(signing_secret)?;
    mac.update(b"v0:");
    mac.update(ts.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Verifies a Meta (WhatsApp Cloud API) webhook:
/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
pub fn verify_meta(
    app_secret: &[u8],
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let sig = signature.ok_or(SignatureError::MissingHeader(META_SIGNATURE_HEADER))?;
    let hex_sig = sig
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed {
            part: META_SIGNATURE_HEADER,
            reason: "expected `sha256=<hex>`",
        })?;
    let expected = decode_hex32(META_SIGNATURE_HEADER, hex_sig)?;
    let mut mac = hmac_sha256(app_secret)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Commlog-Signature` value for `body` sent at `timestamp`:
/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`.
pub fn sign_commlog(secret: &[u8], timestamp: i64, body: &[u8]) -> Result<String, SignatureError> {
    let mut mac = hmac_sha256(secret)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// Verifies Commlog's generic scheme: header `t=<unix>,v1=<hex>` (several `v1` entries are
/// allowed, e.g. during secret rotation; unknown keys are ignored) with `t` within
/// `window_seconds` of `now_unix`.
pub fn verify_commlog(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now_unix: i64,
    window_seconds: u64,
) -> Result<(), SignatureError> {
    const PART: &str = COMMLOG_SIGNATURE_HEADER;
    let header = header.ok_or(SignatureError::MissingHeader(PART))?;
    if header.len() > 1024 {
        return Err(SignatureError::Malformed {
            part: PART,
            reason: "longer than 1024 bytes",
        });
    }
    let mut t = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        let (k, v) = item
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed {
                part: PART,
                reason: "expected `t=<unix>,v1=<hex>`",
            })?;
        match k {
            "t" if t.is_some() => {
                return Err(SignatureError::Malformed {
                    part: PART,
                    reason: "`t` is given more than once",
                });
            }
            "t" => t = Some(v),
            "v1" => candidates.push(decode_hex32(PART, v)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed {
        part: PART,
        reason: "no `t=` timestamp",
    })?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed {
            part: PART,
            reason: "no `v1=` signature",
        });
    }
    check_fresh(PART, t, now_unix, window_seconds)?;
    let mut mac = hmac_sha256(secret)?;
    // The MAC covers the timestamp exactly as sent.
    mac.update(t.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    // Check every candidate so the time taken does not depend on which one matched.
    let matched = candidates
        .iter()
        .fold(false, |acc, c| acc | constant_time_eq(c, &expected));
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests;
