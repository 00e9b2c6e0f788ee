//! E-mail storage: where messages were seen, the quarantine, thread keys (found, moved, kept
//! recent), the capture policy, forwarding-address tokens, and IMAP accounts with their
//! checkpoints.

use crate::fixtures::{company, create};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::records::MailAccountInput;
use commlog_store::StoreError;
use serde_json::json;
use time::Duration;
use uuid::Uuid;

async fn sightings_and_quarantine_stay_in_their_company(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let log = create(db, &acme.admin, json!({})).await?;
    db.record_email_sighting(&acme.admin, log.id, "imap:a/INBOX")
        .await?;
    db.record_email_sighting(&acme.admin, log.id, "imap:a/INBOX")
        .await?;
    db.record_email_sighting(&acme.admin, log.id, "upload:x.eml")
        .await?;
    assert_eq!(
        db.email_sightings(&acme.admin, log.id).await?,
        ["imap:a/INBOX", "upload:x.eml"]
    );
    assert!(db.email_sightings(&other.admin, log.id).await?.is_empty());

    let q = db
        .quarantine_email(
            &acme.admin,
            "upload:bad.eml",
            "not mail",
            12,
            "quarantine/k",
        )
        .await?;
    assert_eq!(
        db.list_quarantined_emails(&acme.admin, true, 10).await?,
        vec![q.clone()]
    );
    assert!(
        db.list_quarantined_emails(&other.admin, false, 10)
            .await?
            .is_empty()
    );
    assert!(matches!(
        db.get_quarantined_email(&other.admin, q.id).await,
        Err(StoreError::NotFound)
    ));
    let still = db
        .mark_quarantine_retried(&acme.admin, q.id, Some("still not mail"), None)
        .await?;
    assert_eq!(
        (still.reason.as_str(), still.retried_at.is_some()),
        ("still not mail", true)
    );
    let done = db
        .mark_quarantine_retried(&acme.admin, q.id, None, Some(log.id))
        .await?;
    assert_eq!(done.communication_log_id, Some(log.id));
    assert!(
        db.list_quarantined_emails(&acme.admin, true, 10)
            .await?
            .is_empty(),
        "captured now"
    );
    assert_eq!(
        db.list_quarantined_emails(&acme.admin, false, 10)
            .await?
            .len(),
        1
    );
    Ok(())
}

async fn thread_keys_find_move_and_expire(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
    let keys = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    db.link_thread_keys(acme.id, "email", &keys(&["id:a", "subject:x"]), t1)
        .await?;
    db.link_thread_keys(acme.id, "email", &keys(&["id:a", "id:b"]), t2)
        .await?;
    assert_eq!(
        db.find_thread(acme.id, "email", &keys(&["id:b"])).await?,
        Some(t2)
    );
    assert_eq!(
        db.find_thread(acme.id, "email", &keys(&["id:a"])).await?,
        Some(t1),
        "a key keeps its first thread"
    );
    assert_eq!(
        db.find_thread(acme.id, "slack", &keys(&["id:a"])).await?,
        None
    );
    let now = commlog_domain::time_fmt::now();
    assert_eq!(
        db.find_recent_thread(acme.id, "email", "subject:x", now - Duration::days(30))
            .await?,
        Some(t1)
    );
    assert_eq!(
        db.find_recent_thread(acme.id, "email", "subject:x", now + Duration::minutes(1))
            .await?,
        None,
        "too old"
    );

    // A split moves some keys; a merge moves all of a thread's keys.
    db.move_thread_keys(&acme.admin, t1, t2, Some(&keys(&["subject:x"])))
        .await?;
    assert_eq!(
        db.find_thread(acme.id, "email", &keys(&["subject:x"]))
            .await?,
        Some(t2)
    );
    assert_eq!(
        db.find_thread(acme.id, "email", &keys(&["id:a"])).await?,
        Some(t1)
    );
    db.move_thread_keys(&acme.admin, t1, t2, None).await?;
    assert_eq!(
        db.find_thread(acme.id, "email", &keys(&["id:a"])).await?,
        Some(t2)
    );
    let other = company(db, "Other").await?;
    assert_eq!(
        db.find_thread(other.id, "email", &keys(&["id:a"])).await?,
        None
    );
    Ok(())
}

async fn settings_tokens_and_mail_accounts(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    assert_eq!(db.email_settings(&acme.admin).await?, None);
    db.set_email_settings(&acme.admin, &json!({"unknown_senders": "ignore"}))
        .await?;
    assert_eq!(
        db.email_settings(&acme.admin).await?,
        Some(json!({"unknown_senders": "ignore"}))
    );
    assert_eq!(db.email_settings(&other.admin).await?, None);

    let token = db
        .capture_token(&acme.admin, "firsttokenfirsttoken")
        .await?;
    assert_eq!(
        db.capture_token(&acme.admin, "secondtokensecondtok")
            .await?,
        token,
        "made once"
    );
    assert_eq!(db.company_by_capture_token(&token).await?, Some(acme.id));
    let rotated = db
        .rotate_capture_token(&acme.admin, "rotatedtokenrotated1")
        .await?;
    assert_eq!(db.company_by_capture_token(&token).await?, None);
    assert_eq!(db.company_by_capture_token(&rotated).await?, Some(acme.id));

    let input = MailAccountInput {
        name: Some("Sales".into()),
        host: Some("imap.example.com".into()),
        port: Some(993),
        security: Some("tls".into()),
        username: Some("sales@acme.example".into()),
        folders: Some(vec!["INBOX".into(), "Sent".into()]),
        ..Default::default()
    };
    let id = Uuid::now_v7();
    let account = db
        .create_mail_account(&acme.admin, id, &input, "sealed-1")
        .await?;
    assert_eq!(
        (
            account.status.as_str(),
            account.folders.len(),
            account.is_active
        ),
        ("pending", 2, true)
    );
    assert!(matches!(
        db.get_mail_account(&other.admin, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        db.active_mail_accounts()
            .await?
            .iter()
            .any(|(c, a, _)| (*c, *a) == (acme.id, id))
    );
    db.set_mail_folder_state(acme.id, id, "INBOX", 7, 42)
        .await?;
    db.set_mail_folder_state(acme.id, id, "INBOX", 7, 50)
        .await?;
    db.set_mail_account_status(acme.id, id, "error", Some("sign-in refused"), false)
        .await?;
    let (synced, sealed) = db.mail_account_for_sync(acme.id, id).await?.expect("found");
    assert_eq!(sealed, "sealed-1");
    assert_eq!(
        (synced.status.as_str(), synced.last_error.as_deref()),
        ("error", Some("sign-in refused"))
    );
    assert_eq!(
        (
            synced.folder_states[0].uidvalidity,
            synced.folder_states[0].last_uid
        ),
        (7, 50)
    );
    let paused = db
        .update_mail_account(
            &acme.admin,
            id,
            &MailAccountInput {
                is_active: Some(false),
                ..Default::default()
            },
            Some("sealed-2"),
        )
        .await?;
    assert_eq!(
        (
            paused.is_active,
            paused.status.as_str(),
            paused.host.as_str()
        ),
        (false, "paused", "imap.example.com")
    );
    assert!(
        !db.active_mail_accounts()
            .await?
            .iter()
            .any(|(_, a, _)| *a == id)
    );
    assert_eq!(
        db.mail_account_for_sync(acme.id, id)
            .await?
            .expect("found")
            .1,
        "sealed-2"
    );
    assert!(matches!(
        db.delete_mail_account(&other.admin, id).await,
        Err(StoreError::NotFound)
    ));
    db.delete_mail_account(&acme.admin, id).await?;
    assert!(db.list_mail_accounts(&acme.admin).await?.is_empty());
    Ok(())
}

conformance!(
    sightings_and_quarantine_stay_in_their_company,
    thread_keys_find_move_and_expire,
    settings_tokens_and_mail_accounts,
);
