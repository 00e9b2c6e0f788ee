//! Creating logs: derived durations, validation that names its field and writes nothing,
//! the default priority of a category, and idempotency by key and by source + external id.

use crate::fixtures::{company, count, create, invalid_fields, log, refused_code};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::filters::{CategoryFilter, ChannelFilter};
use commlog_domain::{ChannelInput, ContactInput, CustomerInput, Priority};
use serde_json::json;
use uuid::Uuid;

async fn create_log_computes_duration(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let created = db
        .create_log(
            &acme.admin,
            log(json!({"start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:12:30Z"})),
            None,
        )
        .await?;
    assert!(!created.replayed && !created.duplicate);
    assert_eq!(created.log.duration_seconds, Some(750));
    assert_eq!(created.log.duration_minutes, Some(12));
    assert_eq!(db.get_log(&acme.admin, created.log.id).await?, created.log);

    let instant = create(
        db,
        &acme.admin,
        json!({"start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:00:00Z"}),
    )
    .await?;
    assert_eq!(
        (instant.duration_seconds, instant.duration_minutes),
        (Some(0), Some(0))
    );
    let given = create(db, &acme.admin, json!({"duration_seconds": 125})).await?;
    assert_eq!(
        (given.duration_seconds, given.duration_minutes),
        (Some(125), Some(2))
    );
    let unknown = db.create_log(&acme.admin, log(json!({})), None).await?;
    assert_eq!(unknown.log.duration_seconds, None);
    assert!(
        !unknown.warnings.is_empty(),
        "a call without duration warns"
    );
    Ok(())
}

async fn invalid_logs_name_the_field_and_write_nothing(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let (their_customer, _) = db
        .upsert_customer(
            &other.admin,
            &CustomerInput {
                name: Some("Theirs".into()),
                ..Default::default()
            },
        )
        .await?;
    let their_contact = db
        .create_contact(
            &other.admin,
            &ContactInput {
                full_name: Some("Their Contact".into()),
                ..Default::default()
            },
        )
        .await?;
    let stranger = other.admin_id;
    let sms = db
        .list_channels(&acme.admin, &ChannelFilter::default())
        .await?
        .into_iter()
        .find(|c| c.channel_code == "sms")
        .expect("sms channel");
    let input = ChannelInput {
        is_active: Some(false),
        ..Default::default()
    };
    db.update_channel(&acme.admin, sms.id, &input).await?;

    let cases = [
        (json!({"content": "short one"}), "content"),
        (json!({"content": "    hi    "}), "content"),
        (
            json!({"start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T09:59:59Z"}),
            "end_time",
        ),
        (json!({"channel": "pigeon"}), "channel"),
        (json!({"channel": "sms"}), "channel"),
        (
            json!({"communication_type": "email", "channel": "email"}),
            "participants",
        ),
        (
            json!({"communication_type": "email", "channel": "email",
                   "participants": [{"role": "to", "phone": "+14155550123"}]}),
            "participants",
        ),
        (
            json!({"content": "A NUL \u{0} inside the notes."}),
            "content",
        ),
        (json!({"summary": "NUL\u{0}"}), "summary"),
        (json!({"tags": ["ok", "n\u{0}l"]}), "tags"),
        (json!({"sentiment_score": 1.5}), "sentiment_score"),
        (json!({"sentiment_score": -1.01}), "sentiment_score"),
        (json!({"category_ids": [Uuid::now_v7()]}), "category_ids"),
        (json!({"customer_id": their_customer.id}), "customer_id"),
        (json!({"contact_id": their_contact.id}), "contact_id"),
        (json!({"watcher_ids": [stranger]}), "watcher_ids"),
        (
            json!({"requires_follow_up": true, "follow_up_assigned_to": stranger}),
            "follow_up_assigned_to",
        ),
        (
            json!({"participants": [{"role": "caller", "phone": "+14155550123",
                                     "contact_id": their_contact.id}]}),
            "participants[0].contact_id",
        ),
        (
            json!({"participants": [{"role": "caller", "phone": "+14155550123",
                                     "user_id": stranger}]}),
            "participants[0].user_id",
        ),
    ];
    for (body, field) in cases {
        let fields = invalid_fields(db.create_log(&acme.admin, log(body.clone()), None).await);
        assert!(
            fields.iter().any(|f| f == field),
            "{body} should name {field}, named {fields:?}"
        );
    }
    let inactive = db.create_log(&acme.admin, log(json!({"channel": "sms"})), None);
    match inactive.await {
        Err(commlog_store::StoreError::Invalid(e)) => {
            assert_eq!(e.errors[0].code, "inactive_channel")
        }
        other => panic!("expected inactive_channel, got {other:?}"),
    }
    assert_eq!(count(db, &acme.admin).await?, 0);
    assert_eq!(count(db, &other.admin).await?, 0);
    Ok(())
}

async fn priority_defaults_from_category(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let categories = db
        .list_categories(&acme.admin, &CategoryFilter::default())
        .await?;
    let id = |code: &str| {
        categories
            .iter()
            .find(|c| c.category_code == code)
            .map(|c| c.id)
            .expect("default category")
    };
    let renewal = create(db, &acme.admin, json!({"category_ids": [id("renewal")]})).await?;
    assert_eq!(renewal.priority, Priority::High);
    assert_eq!(renewal.categories.len(), 1);
    assert_eq!(renewal.categories[0].category_code, "renewal");
    let support = create(db, &acme.admin, json!({"category_ids": [id("support")]})).await?;
    assert_eq!(support.priority, Priority::Normal);
    let plain = create(db, &acme.admin, json!({})).await?;
    assert_eq!(plain.priority, Priority::Normal);
    let explicit = create(
        db,
        &acme.admin,
        json!({"category_ids": [id("renewal")], "priority": "low"}),
    )
    .await?;
    assert_eq!(explicit.priority, Priority::Low);
    assert_eq!(
        db.get_log(&acme.admin, renewal.id).await?.priority,
        Priority::High
    );
    Ok(())
}

async fn idempotency_key_replays_the_first_result(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let first = db
        .create_log(&acme.admin, log(json!({})), Some(("key-1", "hash-a")))
        .await?;
    assert!(!first.replayed);
    let again = db
        .create_log(&acme.admin, log(json!({})), Some(("key-1", "hash-a")))
        .await?;
    assert!(again.replayed);
    assert_eq!(again.log.id, first.log.id);
    let changed = db
        .create_log(
            &acme.admin,
            log(json!({"content": "A different body entirely."})),
            Some(("key-1", "hash-b")),
        )
        .await;
    assert_eq!(refused_code(changed), "idempotency_key_reused");
    let other_key = db
        .create_log(&acme.admin, log(json!({})), Some(("key-2", "hash-a")))
        .await?;
    assert_ne!(other_key.log.id, first.log.id);
    assert_eq!(count(db, &acme.admin).await?, 2);
    Ok(())
}

async fn source_and_external_id_capture_once(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let body = json!({"source": "twilio", "external_id": "CA0001"});
    let first = db.create_log(&acme.admin, log(body.clone()), None).await?;
    assert!(!first.duplicate);
    let mut again_body = body.clone();
    again_body["content"] = json!("The same call, delivered a second time.");
    let again = db.create_log(&acme.admin, log(again_body), None).await?;
    assert!(again.duplicate);
    assert_eq!(again.log.id, first.log.id);
    assert_eq!(again.log.content, first.log.content);
    assert_eq!(count(db, &acme.admin).await?, 1);

    let elsewhere = create(
        db,
        &acme.admin,
        json!({"source": "ringcentral", "external_id": "CA0001"}),
    )
    .await?;
    assert_ne!(elsewhere.id, first.log.id);
    let other = company(db, "Other").await?;
    let theirs = db.create_log(&other.admin, log(body), None).await?;
    assert!(!theirs.duplicate);
    assert_eq!(count(db, &acme.admin).await?, 2);
    assert_eq!(count(db, &other.admin).await?, 1);
    Ok(())
}

async fn concurrent_captures_make_one_log(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    for i in 0..5 {
        let body = || {
            log(
                json!({"source": "imap", "external_id": format!("<m{i}@example.test>"),
                                 "communication_type": "email", "channel": "email",
                                 "participants": [{"role": "from", "email": "a@example.test"}]}),
            )
        };
        let (a, b) = tokio::join!(
            db.create_log(s, body(), None),
            db.create_log(s, body(), None)
        );
        let (a, b) = (a?, b?);
        assert_eq!(a.log.id, b.log.id);
        assert!(a.duplicate != b.duplicate, "one capture is the duplicate");
    }
    for i in 0..5 {
        let key = format!("key-{i}");
        let (a, b) = tokio::join!(
            db.create_log(s, log(json!({})), Some((&key, "hash"))),
            db.create_log(s, log(json!({})), Some((&key, "hash")))
        );
        let (a, b) = (a?, b?);
        assert_eq!(a.log.id, b.log.id);
        assert!(a.replayed != b.replayed, "one request is the replay");
    }
    assert_eq!(count(db, s).await?, 10);
    Ok(())
}

conformance!(
    concurrent_captures_make_one_log,
    create_log_computes_duration,
    invalid_logs_name_the_field_and_write_nothing,
    priority_defaults_from_category,
    idempotency_key_replays_the_first_result,
    source_and_external_id_capture_once,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: create_log_computes_duration, invalid_logs_name_the_field_and_write_nothing, idempotency_key_replays_the_first_result, source_and_external_id_capture_once);
