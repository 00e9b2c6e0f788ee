//! Encryption at rest: with a keyring, a marker written into a log's content, summary,
//! transcript, participants, key topics and analysis is read back as written, found by search,
//! and never stored in clear (on SQLite: not in the raw file bytes, full-text index included;
//! on PostgreSQL: in no row of any table); a changed byte is an integrity error; an erased
//! contact's key is destroyed; the rest of the suite's behaviour holds with encryption on.

use crate::fixtures::{company, create, ids};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::compliance::{NewErasure, SubjectRef};
use commlog_domain::processing::LogAnalysis;
use commlog_domain::records::ContactInput;
use serde_json::json;
use std::collections::BTreeSet;

const MARKER: &str = "xqj9mark";

async fn nothing_personal_is_stored_in_clear(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let contact = db
        .create_contact(
            s,
            &ContactInput {
                full_name: Some("Dee".into()),
                phones: Some(vec!["+14155550142".into()]),
                ..ContactInput::default()
            },
        )
        .await?;
    let log = create(db, s, json!({
        "contact_id": contact.id,
        "content": format!("Dee read out her code {MARKER} and asked about renewal."),
        "summary": format!("Code {MARKER}"),
        "transcription": format!("Customer: my code is {MARKER}."),
        "participants": [{"role": "from", "email": format!("dee.{MARKER}@example.com"), "name": format!("Dee {MARKER}")}],
    })).await?;
    let plain = create(
        db,
        s,
        json!({"content": "Another customer asked about renewal pricing."}),
    )
    .await?;
    let mut analysis = LogAnalysis {
        key_topics: Some(vec![format!("{MARKER} code"), "renewal".into()]),
        ..LogAnalysis::default()
    };
    analysis
        .analysis
        .insert("pii".into(), json!([{"kind": "code", "text": MARKER}]));
    db.apply_analysis(acme.id, log.id, None, &analysis).await?;

    // Read back as written.
    let got = db.get_log(s, log.id).await?;
    assert!(got.content.contains(MARKER));
    assert_eq!(
        got.summary.as_deref(),
        Some(format!("Code {MARKER}").as_str())
    );
    assert!(
        got.transcription
            .as_deref()
            .is_some_and(|t| t.contains(MARKER))
    );
    assert_eq!(
        got.key_topics,
        vec![format!("{MARKER} code"), "renewal".to_owned()]
    );
    assert_eq!(got.analysis["pii"][0]["text"], MARKER);
    assert_eq!(
        got.participants[0].email.as_deref(),
        Some(format!("dee.{MARKER}@example.com").as_str())
    );
    let topics = db
        .key_topics_between(
            s,
            time::macros::datetime!(2026-01-01 0:00 UTC),
            time::macros::datetime!(2027-01-01 0:00 UTC),
            10,
        )
        .await?;
    assert!(topics.iter().any(|t| t.contains(&format!("{MARKER} code"))));

    // Found by search through the blind index: whole words, any case, all required.
    assert_eq!(
        ids(db, s, json!({"search": MARKER.to_uppercase()})).await?,
        BTreeSet::from([log.id])
    );
    assert_eq!(
        ids(db, s, json!({"search": "renewal"})).await?,
        BTreeSet::from([log.id, plain.id])
    );
    assert_eq!(
        ids(db, s, json!({"search": "renewal pricing"})).await?,
        BTreeSet::from([plain.id])
    );
    assert!(
        ids(db, s, json!({"search": "renew"})).await?.is_empty(),
        "no prefixes"
    );

    // Never stored in clear.
    let left = db.places_holding(MARKER).await?;
    assert!(left.is_empty(), "the marker is stored in clear in {left:?}");

    // A changed byte is an integrity error, not garbage.
    let flipped = db
        .raw_execute(
            "UPDATE crm_communication_logs SET content = substr(content, 1, length(content) - 6) || \
             CASE WHEN substr(content, length(content) - 5, 1) = 'A' THEN 'B' ELSE 'A' END || substr(content, length(content) - 4) WHERE id = $1",
            log.id,
        )
        .await?;
    assert_eq!(flipped, 1);
    let err = db
        .get_log(s, log.id)
        .await
        .expect_err("a tampered value does not open");
    assert!(err.to_string().contains("integrity"), "{err}");
    assert!(
        db.get_log(s, plain.id).await.is_ok(),
        "other logs still open"
    );
    Ok(())
}

async fn erasure_finds_sealed_addresses_and_destroys_the_key(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let contact = db
        .create_contact(
            s,
            &ContactInput {
                full_name: Some("Eve".into()),
                emails: Some(vec!["eve@example.org".into()]),
                ..ContactInput::default()
            },
        )
        .await?;
    let named = create(
        db,
        s,
        json!({"contact_id": contact.id, "content": format!("Eve: {MARKER} please.")}),
    )
    .await?;
    // A log that names the person only as a participant (sealed): found by the address token.
    let mail = create(db, s, json!({"communication_type": "email", "channel": "email", "content": format!("From Eve {MARKER}"),
        "participants": [{"role": "from", "email": "eve@example.org"}]})).await?;
    let subject = db
        .resolve_subject(
            s,
            &SubjectRef {
                contact_id: None,
                email: Some("eve@example.org".into()),
                phone: None,
            },
        )
        .await?;
    let found: BTreeSet<_> = db
        .subject_log_ids(s, &subject, None, 10)
        .await?
        .into_iter()
        .collect();
    assert_eq!(found, BTreeSet::from([named.id, mail.id]));
    let r = db
        .start_erasure(
            s,
            &NewErasure {
                subject: SubjectRef {
                    contact_id: Some(contact.id),
                    email: None,
                    phone: None,
                },
                reason: "Art. 17".into(),
            },
        )
        .await?;
    let done = loop {
        let (req, _) = db.erase_batch(s, r.id, 100).await?;
        if req.status != "running" {
            break req;
        }
    };
    assert_eq!(done.status, "completed");
    assert_eq!(done.receipt["keys_destroyed"], 1);
    let live_contact_keys = "SELECT count(*) = 0 FROM data_keys WHERE company_id = $1 AND scope LIKE 'contact:%' AND (destroyed_at IS NULL OR wrapped_key <> '')";
    assert_eq!(db.raw_bool(live_contact_keys, acme.id).await?, Some(true));
    assert!(db.places_holding(MARKER).await?.is_empty());
    Ok(())
}

conformance!(Encrypted: nothing_personal_is_stored_in_clear, erasure_finds_sealed_addresses_and_destroys_the_key);
