//! Graph handshake, batches, clientState and Teams resources.

use super::*;
use serde_json::json;

const CHAT: &str =
    "19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31-22c0-4f6f-9f73-91d34ab2b32d@unq.gbl.spaces";

#[test]
fn the_validation_token_is_decoded() {
    let q = "validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+b62d84a3";
    assert_eq!(
        validation_token(q).expect("ok").as_deref(),
        Some(
            "Validation: Testing client application reachability for subscription Request-Id: b62d84a3"
        )
    );
    assert_eq!(validation_token("").expect("ok"), None);
    assert_eq!(validation_token("other=1").expect("ok"), None);
    assert!(validation_token("validationToken=a&validationToken=b").is_err());
    assert!(validation_token("validationToken=a%0Ab").is_err());
    let long = format!("validationToken={}", "a".repeat(5000));
    assert!(validation_token(&long).is_err());
}

fn batch() -> serde_json::Value {
    json!({
        "value": [
            {
                "id": "lsgTZMr9KwAAA",
                "subscriptionId": "f4b0c9a2-0000-4000-8000-000000000001",
                "subscriptionExpirationDateTime": "2026-11-24T11:00:00Z",
                "clientState": "s3cr3t-state",
                "changeType": "created",
                "resource": format!("chats('{CHAT}')/messages('1612289765949')"),
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
                "resourceData": {"@odata.type": "#Microsoft.Graph.chatMessage",
                                 "@odata.id": format!("chats('{CHAT}')/messages('1612289765949')"),
                                 "id": "1612289765949"}
            },
            {
                "subscriptionId": "f4b0c9a2-0000-4000-8000-000000000001",
                "clientState": "s3cr3t-state",
                "lifecycleEvent": "reauthorizationRequired",
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95"
            }
        ],
        "validationTokens": ["eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig"]
    })
}

#[test]
fn a_batch_parses_and_maps() {
    let b = parse(batch().to_string().as_bytes()).expect("batch");
    assert_eq!(b.value.len(), 2);
    assert_eq!(b.validation_tokens.len(), 1);
    let m = b.value[0].to_message_event().expect("message");
    assert_eq!(m.channel, MessageChannel::Teams);
    assert_eq!(m.thread_key, CHAT);
    assert_eq!(m.external_id, "1612289765949");
    assert_eq!(m.change, MessageChange::Created);
    assert_eq!(m.text, None);
    assert_eq!(
        b.value[1].lifecycle_event,
        Some(LifecycleEvent::ReauthorizationRequired)
    );
    assert_eq!(b.value[1].to_message_event(), None);
}

#[test]
fn client_state_is_checked_per_notification() {
    let b = parse(batch().to_string().as_bytes()).expect("batch");
    assert_eq!(b.value[0].verify_client_state("s3cr3t-state"), Ok(()));
    assert_eq!(
        b.value[0].verify_client_state("s3cr3t-statf"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        b.value[0].verify_client_state("s3cr3t"),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        b.value[0].verify_client_state(""),
        Err(SignatureError::Misconfigured(_))
    ));
    let mut v = batch();
    v["value"][0]["clientState"] = serde_json::Value::Null;
    let b = parse(v.to_string().as_bytes()).expect("batch");
    assert_eq!(
        b.value[0].verify_client_state("s3cr3t-state"),
        Err(SignatureError::MissingHeader("clientState"))
    );
    assert!(!client_state_matches("", Some("")));
    assert!(client_state_matches("a", Some("a")));
}

#[test]
fn unknown_values_do_not_break_a_batch() {
    let mut v = batch();
    v["value"][0]["changeType"] = json!("moved");
    v["value"][1]["lifecycleEvent"] = json!("somethingNew");
    let b = parse(v.to_string().as_bytes()).expect("batch");
    assert_eq!(b.value[0].change_type, Some(GraphChangeType::Unknown));
    assert_eq!(b.value[0].to_message_event(), None);
    assert_eq!(b.value[1].lifecycle_event, Some(LifecycleEvent::Unknown));
}

#[test]
fn bad_batches_are_refused() {
    assert!(parse(b"{}").is_err());
    assert!(
        parse(br#"{"value":[{"changeType":"created"}]}"#)
            .expect_err("subscription")
            .to_string()
            .contains("subscriptionId")
    );
    let many: Vec<_> = (0..=MAX_BATCH)
        .map(|_| json!({"subscriptionId": "s"}))
        .collect();
    let body = json!({"value": many}).to_string();
    assert!(
        parse(body.as_bytes())
            .expect_err("batch")
            .to_string()
            .contains("more than 1000")
    );
    let huge = vec![b' '; crate::MAX_WEBHOOK_BYTES + 1];
    assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
}

#[test]
fn teams_resources_split() {
    assert_eq!(
        teams_thread("chats('19:abc@thread.v2')/messages('1')"),
        Some(("19:abc@thread.v2".into(), "1".into()))
    );
    assert_eq!(
        teams_thread("teams('t1')/channels('19:c@thread.tacv2')/messages('100')"),
        Some(("19:c@thread.tacv2/100".into(), "100".into()))
    );
    assert_eq!(
        teams_thread("teams('t1')/channels('19:c@thread.tacv2')/messages('100')/replies('101')"),
        Some(("19:c@thread.tacv2/100".into(), "101".into()))
    );
    for bad in [
        "Users/u1/Messages/m1",
        "chats('')/messages('1')",
        "chats('a')/messages('1')/extra('x')",
        "chats('a'')/messages('1')",
        "chats('a')",
        "",
    ] {
        assert_eq!(teams_thread(bad), None, "{bad}");
    }
}
