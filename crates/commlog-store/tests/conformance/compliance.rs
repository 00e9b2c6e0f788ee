//! Data protection: retention archives and purges by policy and a dry run reports exactly what
//! the run does; legal holds keep what they cover from retention and erasure; an erased
//! subject's words, addresses and numbers are gone from every table — on SQLite from the raw
//! file bytes, free pages and full-text index included.

use crate::attachments::pdf;
use crate::fixtures::{assert_not_found, company, create, ids, invalid_fields, refused_code};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::compliance::{
    HoldQuery, HoldTarget, NewErasure, NewLegalHold, RetentionPolicyInput, SubjectRef,
};
use commlog_domain::records::{ContactInput, CustomerInput};
use commlog_domain::{AttachmentStatus, CommunicationType};
use commlog_store::Scope;
use serde_json::json;
use std::collections::BTreeSet;
use time::macros::datetime;
use uuid::Uuid;

const NOW: time::OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn policy(name: &str) -> RetentionPolicyInput {
    RetentionPolicyInput {
        name: name.into(),
        category_id: None,
        channel: None,
        communication_type: None,
        archive_after_days: None,
        delete_after_days: None,
        keep_tombstone: true,
        is_active: true,
    }
}

fn hold(
    target_type: HoldTarget,
    target_id: Option<Uuid>,
    query: Option<HoldQuery>,
) -> NewLegalHold {
    NewLegalHold {
        target_type,
        target_id,
        query,
        reason: "Matter 2026-114".into(),
        owner_user_id: None,
    }
}

fn sorted(v: &[Uuid]) -> BTreeSet<Uuid> {
    v.iter().copied().collect()
}

async fn retention_dry_run_equals_the_run_and_holds_keep_logs(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let (held_customer, _) = db
        .upsert_customer(
            s,
            &CustomerInput {
                name: Some("Held Ltd".into()),
                ..CustomerInput::default()
            },
        )
        .await?;
    let at = |t: &str| json!({"start_time": t});
    let recent = create(db, s, at("2026-05-20T10:00:00Z")).await?; // 12 days: nothing
    let old_call = create(db, s, at("2026-03-01T10:00:00Z")).await?; // 92 days: archive
    let ancient = create(db, s, at("2025-03-01T10:00:00Z")).await?; // 457 days: purge
    let file = db
        .create_attachment(s, &pdf(ancient.id, AttachmentStatus::Available))
        .await?;
    let sms = create(
        db,
        s,
        json!({"communication_type": "sms", "channel": "sms", "start_time": "2026-05-25T10:00:00Z",
        "participants": [{"role": "from", "phone": "+14155550123"}]}),
    )
    .await?; // 7 days: removed
    let held_log = create(db, s, at("2025-02-01T10:00:00Z")).await?;
    let held_by_customer = create(
        db,
        s,
        json!({"start_time": "2025-02-02T10:00:00Z", "customer_id": held_customer.id}),
    )
    .await?;
    let held_by_query = create(db, s, json!({"communication_type": "email", "channel": "email", "start_time": "2025-01-15T10:00:00Z",
        "participants": [{"role": "from", "email": "q@held.example"}]})).await?;

    let mut everything = policy("Everything");
    everything.archive_after_days = Some(30);
    everything.delete_after_days = Some(365);
    db.save_retention_policy(s, None, &everything).await?;
    let mut texts = policy("Texts");
    texts.communication_type = Some(CommunicationType::Sms);
    texts.delete_after_days = Some(5);
    texts.keep_tombstone = false;
    db.save_retention_policy(s, None, &texts).await?;
    let mut bad = policy("Backwards");
    bad.archive_after_days = Some(10);
    bad.delete_after_days = Some(5);
    assert_eq!(
        invalid_fields(db.save_retention_policy(s, None, &bad).await),
        ["archive_after_days"]
    );
    let mut unknown = policy("Fax");
    unknown.channel = Some("fax".into());
    unknown.delete_after_days = Some(30);
    assert_eq!(
        invalid_fields(db.save_retention_policy(s, None, &unknown).await),
        ["channel"]
    );

    let on_log = db
        .create_legal_hold(s, &hold(HoldTarget::Log, Some(held_log.id), None))
        .await?;
    db.create_legal_hold(s, &hold(HoldTarget::Customer, Some(held_customer.id), None))
        .await?;
    let query = HoldQuery {
        channel: Some("email".into()),
        start_time_before: Some(datetime!(2025-02-01 0:00 UTC)),
        ..HoldQuery::default()
    };
    db.create_legal_hold(s, &hold(HoldTarget::Query, None, Some(query)))
        .await?;
    assert_eq!(
        invalid_fields(
            db.create_legal_hold(s, &hold(HoldTarget::Contact, Some(Uuid::now_v7()), None))
                .await
        ),
        ["target_id"]
    );

    let (dry, dry_files) = db.run_retention(s, NOW, true).await?;
    assert!(dry_files.is_empty(), "a dry run deletes nothing");
    let (real, files) = db.run_retention(s, NOW, false).await?;
    assert_eq!(sorted(&dry.archived), sorted(&real.archived));
    assert_eq!(sorted(&dry.purged), sorted(&real.purged));
    assert_eq!(sorted(&dry.removed), sorted(&real.removed));
    assert_eq!(sorted(&dry.held), sorted(&real.held));
    assert_eq!(dry.files, real.files);
    assert_eq!(sorted(&real.archived), BTreeSet::from([old_call.id]));
    assert_eq!(sorted(&real.purged), BTreeSet::from([ancient.id]));
    assert_eq!(sorted(&real.removed), BTreeSet::from([sms.id]));
    assert_eq!(
        sorted(&real.held),
        BTreeSet::from([held_log.id, held_by_customer.id, held_by_query.id])
    );
    assert_eq!(files, vec![file.file_path.clone()]);
    assert_eq!(real.files, 1);

    // Archived: out of the default list, listed on request; purged: gone, as a tombstone.
    assert_eq!(
        ids(db, s, json!({})).await?,
        BTreeSet::from([
            recent.id,
            held_log.id,
            held_by_customer.id,
            held_by_query.id
        ])
    );
    assert_eq!(
        ids(db, s, json!({"archived": "only"})).await?,
        BTreeSet::from([old_call.id])
    );
    assert_eq!(db.get_log(s, old_call.id).await?.content, old_call.content);
    assert_not_found(db.get_log(s, ancient.id).await);
    assert_not_found(db.get_attachment(s, file.id).await);
    assert_eq!(
        db.raw_bool(
            "SELECT content = '' FROM crm_communication_logs WHERE id = $1",
            ancient.id
        )
        .await?,
        Some(true)
    );
    assert_eq!(
        db.raw_bool(
            "SELECT purged_at IS NOT NULL FROM crm_communication_logs WHERE id = $1",
            ancient.id
        )
        .await?,
        Some(true)
    );
    assert_eq!(
        db.raw_bool(
            "SELECT TRUE FROM crm_communication_logs WHERE id = $1",
            sms.id
        )
        .await?,
        None
    );
    assert_eq!(
        db.raw_bool(
            "SELECT TRUE FROM crm_communication_participants WHERE communication_log_id = $1",
            sms.id
        )
        .await?,
        None
    );

    // Every action is in the audit trail.
    let audit = db
        .list_audit(
            s,
            &commlog_domain::filters::AuditFilter {
                page_size: Some(100),
                ..Default::default()
            },
        )
        .await?;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "retention_archive",
        "retention_purge",
        "retention_remove",
        "retention_run",
        "place_hold",
    ] {
        assert!(actions.contains(&a), "{a} audited");
    }

    // A second run has nothing left to do; releasing a hold lets retention reach the log.
    let (again, _) = db.run_retention(s, NOW, false).await?;
    assert!(again.archived.is_empty() && again.purged.is_empty() && again.removed.is_empty());
    assert_eq!(again.held.len(), 3);
    db.release_legal_hold(s, on_log.id, "Matter closed").await?;
    assert_eq!(
        refused_code(db.release_legal_hold(s, on_log.id, "again").await),
        "already_released"
    );
    let (after_release, _) = db.run_retention(s, NOW, false).await?;
    assert_eq!(sorted(&after_release.purged), BTreeSet::from([held_log.id]));
    assert_eq!(db.list_legal_holds(s, false).await?.len(), 2);
    assert_eq!(db.list_legal_holds(s, true).await?.len(), 3);

    // Another company sees none of it.
    let other = company(db, "Other").await?;
    assert!(db.list_legal_holds(&other.admin, true).await?.is_empty());
    assert!(db.list_retention_policies(&other.admin).await?.is_empty());
    assert_not_found(db.get_legal_hold(&other.admin, on_log.id).await);
    Ok(())
}

/// Creates the subject's data: a contact with an address and a number, a call naming them, an
/// e-mail they sent, a message from their number with an attachment, and a log of someone
/// else's. The marker is in every piece of the subject's text.
async fn subject_data(
    db: &TestDb,
    s: &Scope,
    marker: &str,
) -> Result<(Uuid, Vec<Uuid>, Uuid, String)> {
    let contact = db
        .create_contact(
            s,
            &ContactInput {
                full_name: Some(format!("Ann {marker}")),
                emails: Some(vec![format!("ann.{marker}@example.com")]),
                phones: Some(vec!["+14155550199".into()]),
                ..ContactInput::default()
            },
        )
        .await?;
    let call = create(db, s, json!({"contact_id": contact.id, "subject": format!("Call about {marker}"),
        "content": format!("She said {marker} twice."), "transcription": format!("Agent: hello. Ann: {marker}.")})).await?;
    let mail = create(db, s, json!({"communication_type": "email", "channel": "email", "subject": "Re: order",
        "content": format!("Dear team, my code is {marker}."),
        "participants": [{"role": "from", "email": format!("ann.{marker}@example.com"), "name": format!("Ann {marker}")}]})).await?;
    let text = create(db, s, json!({"communication_type": "sms", "channel": "sms", "content": format!("Text: {marker} here"),
        "participants": [{"role": "from", "phone": "+14155550199"}]})).await?;
    let file = db
        .create_attachment(s, &pdf(text.id, AttachmentStatus::Available))
        .await?;
    let other = create(db, s, json!({"content": "Someone else entirely called.", "participants": [{"role": "from", "phone": "+14155550100"}]})).await?;
    Ok((
        contact.id,
        vec![call.id, mail.id, text.id],
        other.id,
        file.file_path,
    ))
}

async fn erasure_removes_the_subject_everywhere(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let marker = "zqxq7731";
    let (contact, logs, other, file_path) = subject_data(db, s, marker).await?;
    assert!(
        !db.places_holding(marker).await?.is_empty(),
        "the marker is stored before erasure"
    );

    let subject = db
        .resolve_subject(
            s,
            &SubjectRef {
                contact_id: None,
                email: None,
                phone: Some("+14155550199".into()),
            },
        )
        .await?;
    assert_eq!(subject.contact_ids, vec![contact]);
    let mut found = db.subject_log_ids(s, &subject, None, 100).await?;
    found.sort();
    let mut expected = logs.clone();
    expected.sort();
    assert_eq!(found, expected);

    // A hold on the contact refuses the erasure and says which hold; released, it proceeds.
    let h = db
        .create_legal_hold(s, &hold(HoldTarget::Contact, Some(contact), None))
        .await?;
    let request = NewErasure {
        subject: SubjectRef {
            contact_id: Some(contact),
            email: None,
            phone: None,
        },
        reason: "GDPR art. 17 request #88".into(),
    };
    let refused = db.start_erasure(s, &request).await;
    assert_eq!(refused_code(refused), "legal_hold");
    db.release_legal_hold(s, h.id, "cleared by counsel").await?;

    let started = db.start_erasure(s, &request).await?;
    assert_eq!(
        (started.status.as_str(), started.logs_total),
        ("running", 3)
    );
    let mut blobs = Vec::new();
    let mut rounds = 0;
    let done = loop {
        let (req, keys) = db.erase_batch(s, started.id, 2).await?;
        blobs.extend(keys);
        rounds += 1;
        if req.status != "running" {
            break req;
        }
        assert!(rounds < 10, "erasure makes progress");
    };
    assert_eq!(done.status, "completed");
    assert_eq!(rounds, 3, "two batches of logs, then the person's records");
    assert_eq!(done.logs_done, 3);
    assert_eq!(blobs, vec![file_path]);
    assert_eq!(done.receipt["logs"], 3);
    assert_eq!(done.receipt["contacts"], 1);
    assert!(
        !done.receipt.to_string().contains(marker),
        "the receipt holds counts, not data"
    );

    let left = db.places_holding(marker).await?;
    assert!(left.is_empty(), "the marker survives erasure in {left:?}");
    let left = db.places_holding("4155550199").await?;
    assert!(left.is_empty(), "the number survives erasure in {left:?}");
    assert_not_found(db.get_contact(s, contact).await);
    for id in &logs {
        assert_not_found(db.get_log(s, *id).await);
    }
    assert_eq!(
        db.get_log(s, other).await?.content,
        "Someone else entirely called."
    );
    // A finished request stays finished.
    let (again, keys) = db.erase_batch(s, started.id, 2).await?;
    assert_eq!((again.status.as_str(), keys.len()), ("completed", 0));
    let audit = db
        .list_audit(
            s,
            &commlog_domain::filters::AuditFilter {
                page_size: Some(100),
                ..Default::default()
            },
        )
        .await?;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "erase" && e.entity_id == Some(started.id))
    );
    assert!(audit.iter().any(|e| e.action == "erasure_refused"));
    assert!(!serde_json::to_string(&audit)?.contains(marker));

    let other_company = company(db, "Other").await?;
    assert_not_found(db.get_erasure(&other_company.admin, started.id).await);
    assert_not_found(db.erase_batch(&other_company.admin, started.id, 2).await);
    Ok(())
}

async fn subjects_are_named_once(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let both = NewErasure {
        subject: SubjectRef {
            contact_id: None,
            email: Some("a@b.example".into()),
            phone: Some("+14155550100".into()),
        },
        reason: "x".into(),
    };
    assert_eq!(
        invalid_fields(db.start_erasure(s, &both).await),
        ["subject"]
    );
    let nobody = NewErasure {
        subject: SubjectRef {
            contact_id: None,
            email: Some("nobody@b.example".into()),
            phone: None,
        },
        reason: " ".into(),
    };
    assert_eq!(
        invalid_fields(db.start_erasure(s, &nobody).await),
        ["reason"]
    );
    let unknown = NewErasure {
        subject: SubjectRef {
            contact_id: Some(Uuid::now_v7()),
            email: None,
            phone: None,
        },
        reason: "x".into(),
    };
    assert_not_found(db.start_erasure(s, &unknown).await);
    // An address nobody has: nothing to erase, completed in one step.
    let nobody = NewErasure {
        subject: SubjectRef {
            contact_id: None,
            email: Some("nobody@b.example".into()),
            phone: None,
        },
        reason: "x".into(),
    };
    let r = db.start_erasure(s, &nobody).await?;
    assert_eq!(r.logs_total, 0);
    assert_eq!(db.erase_batch(s, r.id, 10).await?.0.status, "completed");
    assert_eq!(db.list_erasures(s).await?.len(), 1);
    Ok(())
}

conformance!(
    retention_dry_run_equals_the_run_and_holds_keep_logs,
    erasure_removes_the_subject_everywhere,
    subjects_are_named_once,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: retention_dry_run_equals_the_run_and_holds_keep_logs, erasure_removes_the_subject_everywhere);
