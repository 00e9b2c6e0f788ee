//! Published vectors (capture-formats.md), tampered variants that must fail, and vectors for
//! Commlog's own scheme computed independently of this code.

use super::*;

const TWILIO_TOKEN: &[u8] = b"12345";
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_SIG: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

fn twilio_params(digits: &str) -> Vec<(String, String)> {
    [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", digits),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[test]
fn twilio_published_vector_verifies() {
    let params = twilio_params("1234");
    assert_eq!(
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, &params, Some(TWILIO_SIG)),
        Ok(())
    );
    // The order of the parameters as received does not matter.
    let mut reversed = params.clone();
    reversed.reverse();
    assert!(verify_twilio(TWILIO_TOKEN, TWILIO_URL, &reversed, Some(TWILIO_SIG)).is_ok());
}

#[test]
fn twilio_form_body_verifies() {
    let body = b"To=%2B18005551212&From=%2B12349013030&CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234";
    assert_eq!(
        verify_twilio_form(TWILIO_TOKEN, TWILIO_URL, body, Some(TWILIO_SIG)),
        Ok(())
    );
}

#[test]
fn twilio_default_port_is_accepted_both_ways() {
    let params = twilio_params("1234");
    // Configured with :443, signed by Twilio without it.
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert!(verify_twilio(TWILIO_TOKEN, with_port, &params, Some(TWILIO_SIG)).is_ok());
    // Signed with :443 (HMAC recomputed independently), configured without it.
    let sig_with_port = "EpDEmp1PyjDYp77YxYU3GILBWzE=";
    assert!(verify_twilio(TWILIO_TOKEN, TWILIO_URL, &params, Some(sig_with_port)).is_ok());
}

#[test]
fn twilio_tampering_fails() {
    let params = twilio_params("1234");
    assert_eq!(
        verify_twilio(
            TWILIO_TOKEN,
            TWILIO_URL,
            &twilio_params("1235"),
            Some(TWILIO_SIG)
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_twilio(b"12346", TWILIO_URL, &params, Some(TWILIO_SIG)),
        Err(SignatureError::Mismatch)
    );
    for url in [
        "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/myapp.php",
    ] {
        assert_eq!(
            verify_twilio(TWILIO_TOKEN, url, &params, Some(TWILIO_SIG)),
            Err(SignatureError::Mismatch),
            "{url}"
        );
    }
    let mut extra = params.clone();
    extra.push(("Injected".into(), "1".into()));
    assert!(verify_twilio(TWILIO_TOKEN, TWILIO_URL, &extra, Some(TWILIO_SIG)).is_err());
}

#[test]
fn twilio_header_problems_are_distinct() {
    let params = twilio_params("1234");
    assert_eq!(
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, &params, None),
        Err(SignatureError::MissingHeader(TWILIO_SIGNATURE_HEADER))
    );
    assert!(matches!(
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, &params, Some("not base64!")),
        Err(SignatureError::Malformed { .. })
    ));
    assert!(matches!(
        verify_twilio(TWILIO_TOKEN, TWILIO_URL, &params, Some("AAAA")),
        Err(SignatureError::Malformed { .. })
    ));
    let huge = vec![b'a'; crate::MAX_WEBHOOK_BYTES + 1];
    assert!(matches!(
        verify_twilio_form(TWILIO_TOKEN, TWILIO_URL, &huge, Some(TWILIO_SIG)),
        Err(SignatureError::Malformed { part: "body", .. })
    ));
    assert!(matches!(
        verify_twilio(b"", TWILIO_URL, &params, Some(TWILIO_SIG)),
        Err(SignatureError::Misconfigured(_))
    ));
}

// twilio-node's test-suite vector for JSON bodies, recomputed independently.
const JSON_BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
const JSON_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_SIG: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

#[test]
fn twilio_json_body_verifies_url_and_digest() {
    assert_eq!(
        verify_twilio_json(TWILIO_TOKEN, JSON_URL, JSON_BODY, Some(JSON_SIG)),
        Ok(())
    );
    let mut tampered = JSON_BODY.to_vec();
    if let Some(b) = tampered.get_mut(5) {
        *b ^= 1;
    }
    assert_eq!(
        verify_twilio_json(TWILIO_TOKEN, JSON_URL, &tampered, Some(JSON_SIG)),
        Err(SignatureError::BodyDigestMismatch)
    );
    assert_eq!(
        verify_twilio_json(b"54321", JSON_URL, JSON_BODY, Some(JSON_SIG)),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        verify_twilio_json(TWILIO_TOKEN, TWILIO_URL, JSON_BODY, Some(JSON_SIG)),
        Err(SignatureError::Malformed {
            part: "bodySHA256",
            ..
        })
    ));
}

const SLACK_SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TS: &str = "1531420618";
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const SLACK_NOW: i64 = 1_531_420_618 + 10;

#[test]
fn slack_published_vector_verifies() {
    assert_eq!(
        verify_slack(
            SLACK_SECRET,
            Some(SLACK_TS),
            Some(SLACK_SIG),
            SLACK_BODY.as_bytes(),
            SLACK_NOW
        ),
        Ok(())
    );
}

#[test]
fn slack_tampering_and_replay_fail() {
    let body = SLACK_BODY.replacen("roadrunner", "roadrunnes", 1);
    assert_eq!(
        verify_slack(
            SLACK_SECRET,
            Some(SLACK_TS),
            Some(SLACK_SIG),
            body.as_bytes(),
            SLACK_NOW
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_slack(
            b"wrong",
            Some(SLACK_TS),
            Some(SLACK_SIG),
            SLACK_BODY.as_bytes(),
            SLACK_NOW
        ),
        Err(SignatureError::Mismatch)
    );
    // The timestamp is signed: moving it breaks the signature.
    assert_eq!(
        verify_slack(
            SLACK_SECRET,
            Some("1531420619"),
            Some(SLACK_SIG),
            SLACK_BODY.as_bytes(),
            SLACK_NOW
        ),
        Err(SignatureError::Mismatch)
    );
    let ts = 1_531_420_618_i64;
    for (now, ok) in [
        (ts + 300, true),
        (ts - 300, true),
        (ts + 301, false),
        (ts - 301, false),
    ] {
        let r = verify_slack(
            SLACK_SECRET,
            Some(SLACK_TS),
            Some(SLACK_SIG),
            SLACK_BODY.as_bytes(),
            now,
        );
        assert_eq!(r.is_ok(), ok, "now = {now}");
        if !ok {
            assert!(matches!(
                r,
                Err(SignatureError::StaleTimestamp {
                    window_seconds: 300,
                    ..
                })
            ));
        }
    }
}

#[test]
fn slack_header_problems_are_distinct() {
    let body = SLACK_BODY.as_bytes();
    assert_eq!(
        verify_slack(SLACK_SECRET, None, Some(SLACK_SIG), body, SLACK_NOW),
        Err(SignatureError::MissingHeader(SLACK_TIMESTAMP_HEADER))
    );
    assert_eq!(
        verify_slack(SLACK_SECRET, Some(SLACK_TS), None, body, SLACK_NOW),
        Err(SignatureError::MissingHeader(SLACK_SIGNATURE_HEADER))
    );
    for bad_sig in [
        "a2114d57",
        "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=zz",
        "v0=a211",
    ] {
        assert!(
            matches!(
                verify_slack(SLACK_SECRET, Some(SLACK_TS), Some(bad_sig), body, SLACK_NOW),
                Err(SignatureError::Malformed { .. })
            ),
            "{bad_sig}"
        );
    }
    for bad_ts in ["", "-5", "1531420618.5", "99999999999999999999"] {
        assert!(
            matches!(
                verify_slack(SLACK_SECRET, Some(bad_ts), Some(SLACK_SIG), body, SLACK_NOW),
                Err(SignatureError::Malformed { .. })
            ),
            "{bad_ts}"
        );
    }
}

const META_SIG: &str = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";

#[test]
fn meta_vector_verifies_and_tampering_fails() {
    assert_eq!(verify_meta(b"secret", Some(META_SIG), b"test"), Ok(()));
    assert_eq!(
        verify_meta(
            b"secret",
            Some(&META_SIG.to_uppercase().replace("SHA256=", "sha256=")),
            b"test"
        ),
        Ok(())
    );
    assert_eq!(
        verify_meta(b"secret", Some(META_SIG), b"tesT"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_meta(b"secreT", Some(META_SIG), b"test"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_meta(b"secret", None, b"test"),
        Err(SignatureError::MissingHeader(META_SIGNATURE_HEADER))
    );
    assert!(matches!(
        verify_meta(b"secret", Some("sha1=0329a06b"), b"test"),
        Err(SignatureError::Malformed { .. })
    ));
    assert!(matches!(
        verify_meta(b"", Some(META_SIG), b"test"),
        Err(SignatureError::Misconfigured(_))
    ));
}

// HMAC-SHA256("whsec_test", "1764000000.{\"call_id\":\"c1\"}"), computed outside this code.
const COMMLOG_SECRET: &[u8] = b"whsec_test";
const COMMLOG_BODY: &[u8] = br#"{"call_id":"c1"}"#;
const COMMLOG_HEX: &str = "e736ae33b07f01f1492da2c166f3569a6fd4f084a420e77a82eee23af6901b9e";
const COMMLOG_T: i64 = 1_764_000_000;

#[test]
fn commlog_scheme_signs_and_verifies_its_vector() {
    let header = sign_commlog(COMMLOG_SECRET, COMMLOG_T, COMMLOG_BODY).expect("sign");
    assert_eq!(header, format!("t={COMMLOG_T},v1={COMMLOG_HEX}"));
    assert_eq!(
        verify_commlog(
            COMMLOG_SECRET,
            Some(&header),
            COMMLOG_BODY,
            COMMLOG_T + 5,
            300
        ),
        Ok(())
    );
    // Rotation: an unknown key and a second, stale v1 are tolerated.
    let rotated = format!(
        "t={COMMLOG_T}, v0=abc, v1={}, v1={COMMLOG_HEX}",
        "00".repeat(32)
    );
    assert_eq!(
        verify_commlog(COMMLOG_SECRET, Some(&rotated), COMMLOG_BODY, COMMLOG_T, 300),
        Ok(())
    );
}

#[test]
fn commlog_scheme_rejects_tampering_and_replay() {
    let header = format!("t={COMMLOG_T},v1={COMMLOG_HEX}");
    assert_eq!(
        verify_commlog(
            COMMLOG_SECRET,
            Some(&header),
            br#"{"call_id":"c2"}"#,
            COMMLOG_T,
            300
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_commlog(b"whsec_other", Some(&header), COMMLOG_BODY, COMMLOG_T, 300),
        Err(SignatureError::Mismatch)
    );
    // Moving the timestamp breaks the signature even inside the window.
    let moved = format!("t={},v1={COMMLOG_HEX}", COMMLOG_T + 1);
    assert_eq!(
        verify_commlog(COMMLOG_SECRET, Some(&moved), COMMLOG_BODY, COMMLOG_T, 300),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_commlog(
            COMMLOG_SECRET,
            Some(&header),
            COMMLOG_BODY,
            COMMLOG_T + 61,
            60
        ),
        Err(SignatureError::StaleTimestamp {
            age_seconds: 61,
            window_seconds: 60
        })
    );
    assert!(
        verify_commlog(
            COMMLOG_SECRET,
            Some(&header),
            COMMLOG_BODY,
            COMMLOG_T + 60,
            60
        )
        .is_ok()
    );
}

#[test]
fn commlog_header_problems_are_distinct() {
    let v1 = format!("v1={COMMLOG_HEX}");
    assert_eq!(
        verify_commlog(COMMLOG_SECRET, None, COMMLOG_BODY, COMMLOG_T, 300),
        Err(SignatureError::MissingHeader(COMMLOG_SIGNATURE_HEADER))
    );
    for bad in [
        v1.clone(),
        format!("t={COMMLOG_T}"),
        format!("t={COMMLOG_T},t={COMMLOG_T},{v1}"),
        format!("t=soon,{v1}"),
        format!("t={COMMLOG_T},v1=xyz"),
        format!("t={COMMLOG_T};{v1}"),
        "x".repeat(2000),
    ] {
        assert!(
            matches!(
                verify_commlog(COMMLOG_SECRET, Some(&bad), COMMLOG_BODY, COMMLOG_T, 300),
                Err(SignatureError::Malformed { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn constant_time_eq_compares_content_and_length() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
}
