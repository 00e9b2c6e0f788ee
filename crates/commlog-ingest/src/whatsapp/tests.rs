//! WhatsApp webhooks: messages, statuses, ranking and the subscription check.

use super::*;
use serde_json::json;
use time::macros::datetime;

fn hook(value: serde_json::Value) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]
    })
    .to_string()
    .into_bytes()
}

fn metadata() -> serde_json::Value {
    json!({"display_phone_number": "15550783881", "phone_number_id": "106540352242922"})
}

#[test]
fn an_inbound_text_message_maps() {
    let body = hook(json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                      "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}},
                     {"from": "16505551234", "id": "wamid.2", "timestamp": "1749416390", "type": "image",
                      "image": {"id": "1", "mime_type": "image/jpeg"}}]
    }));
    let out = parse(&body).expect("events");
    assert_eq!(out.messages.len(), 2);
    let m = &out.messages[0];
    assert_eq!(m.channel, MessageChannel::WhatsApp);
    assert_eq!(m.tenant_key, "106540352242922");
    assert_eq!(m.thread_key, "16505551234");
    assert_eq!(m.sender_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(m.text.as_deref(), Some("Does it come in another color?"));
    assert_eq!(m.direction, Some(Direction::Inbound));
    assert_eq!(m.occurred_at, Some(datetime!(2025-06-08 20:59:43 UTC)));
    assert_eq!(
        (
            out.messages[1].kind.as_str(),
            out.messages[1].text.as_deref()
        ),
        ("image", None)
    );
}

#[test]
fn statuses_map_and_unknown_ones_are_skipped() {
    let body = hook(json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "statuses": [
            {"id": "wamid.A", "status": "read", "timestamp": "1749416400", "recipient_id": "16505551234"},
            {"id": "wamid.A", "status": "delivered", "timestamp": "1749416390", "recipient_id": "16505551234"},
            {"id": "wamid.B", "status": "failed", "timestamp": "1749416401", "recipient_id": "16505551234",
             "errors": [{"code": 131047, "title": "Re-engagement message"}]},
            {"id": "wamid.C", "status": "played", "timestamp": "1749416402", "recipient_id": "16505551234"}
        ]
    }));
    let out = parse(&body).expect("events");
    assert_eq!(out.statuses.len(), 3);
    assert_eq!(out.statuses[0].status, DeliveryStatus::Read);
    assert_eq!(
        out.statuses[2].error.as_deref(),
        Some("131047 Re-engagement message")
    );
    assert_eq!(out.skipped, ["status `played`"]);
    // Out of order: delivered after read keeps read.
    let kept = out
        .statuses
        .iter()
        .filter(|s| s.message_id == "wamid.A")
        .fold(None, |acc, s| Some(merge_status(acc, s.status)));
    assert_eq!(kept, Some(DeliveryStatus::Read));
}

#[test]
fn status_rank_keeps_the_max_in_any_order() {
    use DeliveryStatus::*;
    assert!(status_rank(Sent) < status_rank(Delivered));
    assert!(status_rank(Delivered) < status_rank(Read));
    assert!(status_rank(Read) < status_rank(Failed));
    let all = [Sent, Delivered, Read];
    for order in crate::snapshot::tests::permutations(&all) {
        let kept = order
            .iter()
            .fold(None, |acc, s| Some(merge_status(acc, *s)));
        assert_eq!(kept, Some(Read));
    }
    assert_eq!(merge_status(Some(Failed), Read), Failed);
    assert_eq!(merge_status(Some(Sent), Failed), Failed);
}

#[test]
fn other_fields_are_skipped_and_bad_bodies_refused() {
    let other = json!({"object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "x"}}]}]});
    let out = parse(other.to_string().as_bytes()).expect("events");
    assert_eq!(out.skipped, ["change field `account_update`"]);
    let page = json!({"object": "page", "entry": []});
    assert!(
        parse(page.to_string().as_bytes())
            .expect_err("object")
            .to_string()
            .contains("object")
    );
    let no_meta = hook(json!({"messages": []}));
    assert_eq!(
        parse(&no_meta),
        Err(ParseError::missing("metadata.phone_number_id"))
    );
    let bad_ts = hook(json!({"metadata": metadata(),
        "messages": [{"from": "1", "id": "wamid.1", "timestamp": "soon", "type": "text"}]}));
    assert!(
        parse(&bad_ts)
            .expect_err("ts")
            .to_string()
            .contains("messages.timestamp")
    );
    let empty_id = hook(json!({"metadata": metadata(),
        "messages": [{"from": "1", "id": "", "timestamp": "1", "type": "text"}]}));
    assert_eq!(parse(&empty_id), Err(ParseError::missing("messages.id")));
    assert!(parse(b"{").is_err());
    let huge = vec![b' '; crate::MAX_WEBHOOK_BYTES + 1];
    assert!(matches!(parse(&huge), Err(ParseError::TooLarge { .. })));
}

#[test]
fn the_subscription_check_echoes_the_challenge() {
    let q = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
    assert_eq!(
        verify_subscription(q, b"meatyhamhock"),
        Ok("1158201444".into())
    );
    assert_eq!(
        verify_subscription(q, b"meatyhamhocK"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_subscription("hub.mode=subscribe&hub.challenge=1", b"t"),
        Err(SignatureError::MissingHeader("hub.verify_token"))
    );
    assert!(matches!(
        verify_subscription(
            "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=t",
            b"t"
        ),
        Err(SignatureError::Malformed { .. })
    ));
    assert!(matches!(
        verify_subscription(
            "hub.mode=subscribe&hub.challenge=%3Cscript%3E%20&hub.verify_token=t",
            b"t"
        ),
        Err(SignatureError::Malformed { .. })
    ));
    assert!(matches!(
        verify_subscription(q, b""),
        Err(SignatureError::Misconfigured(_))
    ));
}
