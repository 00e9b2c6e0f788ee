//! Capture storage: the event ledger (one row per provider dedupe key, its job queued with it),
//! durable jobs (claims with leases, backoff, dead letters), message threads and delivery
//! states, and caller-ID matching (own numbers, linked numbers, ranking).

use crate::fixtures::{company, create, page};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::filters::ChannelFilter;
use commlog_domain::{ContactInput, CustomerInput, JobStatus};
use commlog_store::{NewCaptureEvent, StoreError};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

async fn phone_channel(db: &TestDb, c: &crate::fixtures::Company) -> Result<Uuid> {
    let channels = db
        .list_channels(&c.admin, &ChannelFilter::default())
        .await?;
    Ok(channels
        .iter()
        .find(|ch| ch.channel_code == "phone")
        .expect("the default phone channel")
        .id)
}

fn event(c: &crate::fixtures::Company, channel: Uuid, key: &str, subject: &str) -> NewCaptureEvent {
    NewCaptureEvent {
        company_id: c.id,
        channel_id: channel,
        provider: "generic".into(),
        kind: "call".into(),
        dedupe_key: key.into(),
        subject: Some(subject.into()),
        payload: format!("{{\"raw\":\"{key}\"}}"),
        event: Some(format!("{{\"key\":\"{key}\"}}")),
    }
}

async fn events_are_stored_once_with_their_job(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let channel = phone_channel(db, &acme).await?;
    let first = db
        .record_capture_event(&event(&acme, channel, "call-1:ringing", "call-1"))
        .await?;
    assert!(first.new && !first.processed);
    let again = db
        .record_capture_event(&event(&acme, channel, "call-1:ringing", "call-1"))
        .await?;
    assert_eq!((again.id, again.new), (first.id, false));
    db.record_capture_event(&event(&acme, channel, "call-1:completed", "call-1"))
        .await?;
    db.record_capture_event(&event(&acme, channel, "call-2:ringing", "call-2"))
        .await?;
    // The same key in another company is another event.
    let theirs = db
        .record_capture_event(&event(
            &other,
            phone_channel(db, &other).await?,
            "call-1:ringing",
            "call-1",
        ))
        .await?;
    assert!(theirs.new);

    let events = db
        .subject_events(acme.id, "generic", "call", "call-1")
        .await?;
    assert_eq!(
        events,
        vec![
            r#"{"key":"call-1:ringing"}"#,
            r#"{"key":"call-1:completed"}"#
        ]
    );
    let jobs = db.list_jobs(&acme.admin, None, 100).await?;
    assert_eq!(jobs.len(), 3, "one job per new event");
    assert!(
        jobs.iter()
            .all(|j| j.kind == "capture" && j.status == JobStatus::Queued)
    );

    let stored = db.capture_event(acme.id, first.id).await?;
    assert_eq!(
        (stored.kind.as_str(), stored.subject.as_deref()),
        ("call", Some("call-1"))
    );
    db.finish_capture(acme.id, first.id, None, "call ringing")
        .await?;
    assert!(db.capture_event(acme.id, first.id).await?.processed);
    let after = db
        .record_capture_event(&event(&acme, channel, "call-1:ringing", "call-1"))
        .await?;
    assert!(!after.new && after.processed);
    assert!(matches!(
        db.capture_event(other.id, first.id).await,
        Err(StoreError::NotFound)
    ));
    Ok(())
}

async fn jobs_are_leased_retried_and_dead_lettered(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let id = db.enqueue_job(acme.id, "capture", &json!({"n": 1})).await?;
    let claimed = db.claim_jobs(10, Duration::minutes(5)).await?;
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].payload, json!({"n": 1}));
    assert!(
        db.claim_jobs(10, Duration::minutes(5)).await?.is_empty(),
        "leased to the first runner"
    );

    // A failure is retried later, not at once.
    assert_eq!(
        db.fail_job(acme.id, id, "provider down", false).await?,
        JobStatus::Queued
    );
    assert!(
        db.claim_jobs(10, Duration::minutes(5)).await?.is_empty(),
        "backing off"
    );
    let job = &db
        .list_jobs(&acme.admin, Some(JobStatus::Queued), 10)
        .await?[0];
    assert_eq!(job.last_error.as_deref(), Some("provider down"));
    assert!(job.run_at > commlog_domain::time_fmt::now());

    // A runner that died: its lease runs out and another runner takes the job over.
    let id2 = db.enqueue_job(acme.id, "capture", &json!({})).await?;
    let lost = db.claim_jobs(10, Duration::seconds(-1)).await?;
    assert_eq!(lost.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id2]);
    let taken_over = db.claim_jobs(10, Duration::minutes(5)).await?;
    assert_eq!(
        taken_over
            .iter()
            .map(|j| (j.id, j.attempts))
            .collect::<Vec<_>>(),
        vec![(id2, 2)]
    );
    db.finish_job(acme.id, id2).await?;
    assert_eq!(
        db.list_jobs(&acme.admin, Some(JobStatus::Done), 10)
            .await?
            .len(),
        1
    );

    // Permanent failures go straight to the dead letters; a person can queue them again.
    assert_eq!(
        db.fail_job(acme.id, id, "bad payload", true).await?,
        JobStatus::Dead
    );
    let dead = db.list_jobs(&acme.admin, Some(JobStatus::Dead), 10).await?;
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert!(matches!(
        db.retry_job(&other.admin, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(db.list_jobs(&other.admin, None, 10).await?.is_empty());
    let again = db.retry_job(&acme.admin, id).await?;
    assert_eq!((again.status, again.attempts), (JobStatus::Queued, 0));
    assert!(matches!(
        db.retry_job(&acme.admin, id).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(db.claim_jobs(10, Duration::minutes(5)).await?.len(), 1);
    Ok(())
}

async fn concurrent_runners_never_claim_the_same_job(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    for n in 0..60 {
        db.enqueue_job(acme.id, "capture", &json!({"n": n})).await?;
    }
    let claims = (0..4).map(|_| db.claim_jobs(20, Duration::minutes(5)));
    let mut ids = Vec::new();
    for claimed in futures_util::future::join_all(claims).await {
        ids.extend(claimed?.into_iter().map(|j| j.id));
    }
    let distinct: std::collections::BTreeSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "a job was claimed twice");
    assert_eq!(ids.len(), 60, "every due job was claimed once");
    Ok(())
}

async fn threads_and_delivery_states_are_kept_per_company(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let t1 = db.conversation_thread(acme.id, "slack", "C1:1.0").await?;
    assert_eq!(
        db.conversation_thread(acme.id, "slack", "C1:1.0").await?,
        t1
    );
    assert_ne!(
        db.conversation_thread(acme.id, "slack", "C1:2.0").await?,
        t1
    );
    assert_ne!(
        db.conversation_thread(acme.id, "whatsapp", "C1:1.0")
            .await?,
        t1
    );
    assert_ne!(
        db.conversation_thread(other.id, "slack", "C1:1.0").await?,
        t1
    );

    assert_eq!(
        db.message_delivery(acme.id, "whatsapp", "wamid.1").await?,
        None
    );
    db.set_message_delivery(acme.id, "whatsapp", "wamid.1", "delivered", None)
        .await?;
    db.set_message_delivery(acme.id, "whatsapp", "wamid.1", "failed", Some("131047"))
        .await?;
    assert_eq!(
        db.message_delivery(acme.id, "whatsapp", "wamid.1").await?,
        Some(("failed".to_owned(), Some("131047".to_owned())))
    );
    assert_eq!(
        db.message_delivery(other.id, "whatsapp", "wamid.1").await?,
        None
    );
    Ok(())
}

async fn callers_match_by_rank_never_through_own_numbers(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let customer = |name: &str, phone: &str| CustomerInput {
        name: Some(name.into()),
        phone: Some(Some(phone.into())),
        ..Default::default()
    };
    let (initech, _) = db
        .upsert_customer(s, &customer("Initech", "+14155550111"))
        .await?;
    let (globex, _) = db
        .upsert_customer(s, &customer("Globex", "+14155550122"))
        .await?;
    let ann = db
        .create_contact(
            s,
            &ContactInput {
                customer_id: Some(Some(initech.id)),
                full_name: Some("Ann".into()),
                phones: Some(vec!["+14155550122".into(), "+14155550100".into()]),
                ..Default::default()
            },
        )
        .await?;
    db.set_own_numbers(s, &["+14155550100".into()]).await?;
    assert_eq!(db.own_numbers(s).await?, vec!["+14155550100"]);

    let call = |id: &str, from: &str, to: &str| {
        json!({"source": "generic", "external_id": id, "participants": [
            {"role": "caller", "phone": from}, {"role": "callee", "phone": to}]})
    };
    let by_contact = create(db, s, call("1", "+14155550122", "+14155550100")).await?;
    assert_eq!(
        (by_contact.customer_id, by_contact.contact_id),
        (Some(initech.id), Some(ann.id))
    );
    let by_customer = create(db, s, call("2", "+14155550100", "+14155550111")).await?;
    assert_eq!(
        (by_customer.customer_id, by_customer.contact_id),
        (Some(initech.id), None)
    );
    let unknown = create(db, s, call("3", "+14155550199", "+14155550100")).await?;
    assert_eq!((unknown.customer_id, unknown.contact_id), (None, None));

    // A linked number outranks a customer's main phone.
    db.remember_number(s, "+14155550111", globex.id, None)
        .await?;
    let linked = create(db, s, call("4", "+14155550111", "+14155550100")).await?;
    assert_eq!(linked.customer_id, Some(globex.id));
    db.remember_number(s, "+14155550199", initech.id, Some(ann.id))
        .await?;
    let learned = create(db, s, call("5", "+14155550199", "+14155550100")).await?;
    assert_eq!(learned.contact_id, Some(ann.id));

    let found = db
        .find_log_by_external(s, "generic", "3")
        .await?
        .expect("found");
    assert_eq!(found.id, unknown.id);
    assert_eq!(db.find_log_by_external(s, "twilio", "3").await?, None);
    let other = company(db, "Other").await?;
    assert_eq!(
        db.find_log_by_external(&other.admin, "generic", "3")
            .await?,
        None
    );

    let unmatched = page(db, s, json!({"unmatched": true})).await?;
    assert_eq!(
        unmatched.results.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![unknown.id]
    );
    let missed = create(db, s, json!({"external_id": "6", "source": "generic", "call_outcome": "no_answer", "duration_seconds": 0})).await?;
    let page = page(db, s, json!({"call_outcome": "no_answer"})).await?;
    assert_eq!(
        page.results.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![missed.id]
    );
    Ok(())
}

conformance!(
    events_are_stored_once_with_their_job,
    jobs_are_leased_retried_and_dead_lettered,
    concurrent_runners_never_claim_the_same_job,
    threads_and_delivery_states_are_kept_per_company,
    callers_match_by_rank_never_through_own_numbers,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: events_are_stored_once_with_their_job, callers_match_by_rank_never_through_own_numbers);
