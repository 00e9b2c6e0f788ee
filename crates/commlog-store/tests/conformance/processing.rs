//! Processing storage: a log queues its processing with its creation and with changes to its
//! words; the write-back sets fields, automatic categories (never over a person's), a
//! follow-up, an escalation, run records and events in one go; settings keep the sealed key
//! unless told otherwise; rules and examples are per company; overdue follow-ups are marked once.

use crate::fixtures::{assert_not_found, company, create, patch, user};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::processing::{
    Escalation, LogAnalysis, NewProcessingRun, PROCESS_LOG_JOB, ProcessingSettings,
};
use commlog_domain::{CategoryInput, JobStatus, LogStatus, Priority, Role, Sentiment, time_fmt};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

async fn processing_jobs(db: &TestDb, company: Uuid, log: Uuid) -> Result<usize> {
    Ok(db
        .subject_jobs(company, log)
        .await?
        .iter()
        .filter(|j| j.kind == PROCESS_LOG_JOB && j.status == JobStatus::Queued)
        .count())
}

async fn logs_queue_their_processing(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let log = create(db, &acme.admin, json!({})).await?;
    assert_eq!(
        processing_jobs(db, acme.id, log.id).await?,
        1,
        "queued with the log"
    );
    // A new priority does not change what the log says: nothing to analyse again.
    db.update_log(&acme.admin, log.id, patch(json!({"priority": "high"})))
        .await?;
    assert_eq!(processing_jobs(db, acme.id, log.id).await?, 1);
    db.update_log(
        &acme.admin,
        log.id,
        patch(json!({"content": "A different conversation entirely."})),
    )
    .await?;
    assert_eq!(processing_jobs(db, acme.id, log.id).await?, 2, "new words");
    // Re-processing checks sight: another company's log is not found.
    let other = company(db, "Other").await?;
    assert_not_found(db.reprocess_logs(&other.admin, &[log.id], &[]).await);
    let queued = db
        .reprocess_logs(&acme.admin, &[log.id], &["sentiment".into()])
        .await?;
    assert_eq!(queued, vec![log.id]);
    assert_eq!(processing_jobs(db, acme.id, log.id).await?, 3);
    Ok(())
}

async fn analysis_is_written_back_in_one_go(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let team = crate::fixtures::team(db, &acme.admin, "Red").await?;
    let (rep, rep_scope) = user(db, &acme.admin, Role::SalesRep, Some(team), 10).await?;
    let category = db
        .create_category(
            &acme.admin,
            &CategoryInput {
                category_name: Some("Billing auto".into()),
                category_code: Some("billing-auto".into()),
                auto_categorization: Some(true),
                ..Default::default()
            },
        )
        .await?;
    let log = create(db, &rep_scope, json!({"assigned_to_user_id": rep.id})).await?;
    let due = time_fmt::now() + Duration::days(1);
    let mut analysis = LogAnalysis {
        language: Some(Some("en".into())),
        sentiment: Some((Sentiment::Negative, -0.7)),
        key_topics: Some(vec!["invoice".into(), "refund".into()]),
        categories: vec![(category.id, 0.8)],
        category_priority: Some(Priority::High),
        follow_up: Some(due),
        escalation: Some(Escalation {
            rule: "complaint".into(),
            reason: "mentions \"refund\"".into(),
            priority: Priority::Urgent,
        }),
        runs: vec![
            NewProcessingRun::done("sentiment", "vader", "3.3.2", json!({}), time_fmt::now()),
            NewProcessingRun::skipped("transcription", "none", "the log has no recording"),
        ],
        ..Default::default()
    };
    analysis
        .analysis
        .insert("pii".into(), json!({"content": []}));
    db.apply_analysis(acme.id, log.id, None, &analysis).await?;

    let after = db.get_log(&acme.admin, log.id).await?;
    assert_eq!(after.language.as_deref(), Some("en"));
    assert_eq!(after.sentiment, Some(Sentiment::Negative));
    assert_eq!(after.key_topics, vec!["invoice", "refund"]);
    assert_eq!(after.categories.len(), 1);
    assert_eq!(after.categories[0].confidence, Some(0.8));
    assert!(after.requires_follow_up);
    assert_eq!(after.follow_up_assigned_to, Some(rep.id));
    assert_eq!(after.status, LogStatus::Escalated);
    assert_eq!(after.priority, Priority::Urgent);
    assert_eq!(after.analysis["pii"], json!({"content": []}));
    let runs = db.processing_runs(&acme.admin, log.id).await?;
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .any(|r| r.step == "transcription" && r.status == "skipped")
    );
    // The rep still sees the log they own; another company does not see its runs.
    assert_eq!(db.processing_runs(&rep_scope, log.id).await?.len(), 2);
    let other = company(db, "Other").await?;
    assert_not_found(db.processing_runs(&other.admin, log.id).await);
    // Written as the system, and announced.
    let audit = db.log_history(&acme.admin, log.id).await?;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "process" && e.actor_user_id.is_none())
    );
    for event in [
        "communication.escalated",
        "communication.follow_up_set",
        "communication.analysed",
    ] {
        let sql: &'static str = match event {
            "communication.escalated" => {
                "SELECT count(*) > 0 FROM outbox WHERE aggregate_id = $1 AND event_type = 'communication.escalated'"
            }
            "communication.follow_up_set" => {
                "SELECT count(*) > 0 FROM outbox WHERE aggregate_id = $1 AND event_type = 'communication.follow_up_set'"
            }
            _ => {
                "SELECT count(*) > 0 FROM outbox WHERE aggregate_id = $1 AND event_type = 'communication.analysed'"
            }
        };
        assert_eq!(db.raw_bool(sql, log.id).await?, Some(true), "{event}");
    }

    // A person's categories are never replaced by processing.
    db.update_log(
        &acme.admin,
        log.id,
        patch(json!({"category_ids": [category.id]})),
    )
    .await?;
    let other_category = db
        .create_category(
            &acme.admin,
            &CategoryInput {
                category_name: Some("Other auto".into()),
                category_code: Some("other-auto".into()),
                ..Default::default()
            },
        )
        .await?;
    let again = LogAnalysis {
        categories: vec![(other_category.id, 0.9)],
        ..Default::default()
    };
    db.apply_analysis(acme.id, log.id, None, &again).await?;
    let after = db.get_log(&acme.admin, log.id).await?;
    assert_eq!(after.categories[0].id, category.id);
    assert_eq!(after.categories[0].confidence, None);

    // A deleted log is left alone.
    db.apply_analysis(acme.id, commlog_domain::new_id(), None, &again)
        .await?;
    Ok(())
}

async fn settings_rules_and_examples_are_per_company(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let (defaults, key) = db.processing_settings(acme.id).await?;
    assert_eq!(defaults, ProcessingSettings::default());
    assert_eq!(key, None);
    let mut s = ProcessingSettings {
        sentiment_engine: "embedding".into(),
        ..Default::default()
    };
    db.set_processing_settings(&acme.admin, &s, Some(Some("sealed-key".into())))
        .await?;
    s.pii_region = "GB".into();
    // `None`: the stored key stays.
    db.set_processing_settings(&acme.admin, &s, None).await?;
    let (saved, key) = db.processing_settings(acme.id).await?;
    assert_eq!(
        (saved.pii_region.as_str(), key.as_deref()),
        ("GB", Some("sealed-key"))
    );
    db.set_processing_settings(&acme.admin, &s, Some(None))
        .await?;
    assert_eq!(db.processing_settings(acme.id).await?.1, None);
    assert_eq!(
        db.processing_settings(other.id).await?.0,
        ProcessingSettings::default()
    );

    let rule = db
        .save_escalation_rule(
            &acme.admin,
            None,
            "Legal",
            &json!({"keywords": ["lawyer"]}),
            true,
        )
        .await?;
    assert!(
        db.save_escalation_rule(&acme.admin, None, "Legal", &json!({}), true)
            .await
            .is_err(),
        "names are unique per company"
    );
    db.save_escalation_rule(&other.admin, None, "Legal", &json!({}), true)
        .await?;
    assert_not_found(
        db.save_escalation_rule(&other.admin, Some(rule.id), "Mine", &json!({}), true)
            .await,
    );
    assert_not_found(db.delete_escalation_rule(&other.admin, rule.id).await);
    let updated = db
        .save_escalation_rule(
            &acme.admin,
            Some(rule.id),
            "Legal threat",
            &json!({"keywords": ["court"]}),
            false,
        )
        .await?;
    assert_eq!(
        (updated.name.as_str(), updated.is_active),
        ("Legal threat", false)
    );
    assert_eq!(db.list_escalation_rules(&acme.admin).await?.len(), 1);
    db.delete_escalation_rule(&acme.admin, rule.id).await?;
    assert!(db.list_escalation_rules(&acme.admin).await?.is_empty());

    let category = db
        .create_category(
            &acme.admin,
            &CategoryInput {
                category_name: Some("Billing auto".into()),
                category_code: Some("billing-auto".into()),
                ..Default::default()
            },
        )
        .await?;
    db.add_category_example(&acme.admin, category.id, "The invoice is wrong")
        .await?;
    assert!(
        db.add_category_example(&acme.admin, category.id, " a ")
            .await
            .is_err()
    );
    assert_not_found(
        db.add_category_example(&other.admin, category.id, "Not theirs")
            .await,
    );
    assert_eq!(
        db.list_category_examples(&acme.admin, Some(category.id))
            .await?
            .len(),
        1
    );
    assert!(
        db.list_category_examples(&other.admin, None)
            .await?
            .is_empty()
    );
    assert!(
        db.known_names(acme.id)
            .await?
            .iter()
            .any(|n| n == "Acme Admin")
    );
    assert!(
        !db.known_names(other.id)
            .await?
            .iter()
            .any(|n| n == "Acme Admin")
    );
    Ok(())
}

async fn overdue_follow_ups_are_marked_once(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let past = time_fmt::now() - Duration::hours(3);
    let due = past.format(&time::format_description::well_known::Rfc3339)?;
    let late = create(
        db,
        &acme.admin,
        json!({"requires_follow_up": true, "follow_up_date": due, "follow_up_status": "pending", "follow_up_assigned_to": acme.admin_id}),
    )
    .await?;
    let future = (time_fmt::now() + Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)?;
    create(
        db,
        &acme.admin,
        json!({"requires_follow_up": true, "follow_up_date": future, "follow_up_status": "pending", "follow_up_assigned_to": acme.admin_id}),
    )
    .await?;
    let now = time_fmt::now();
    assert_eq!(
        db.mark_overdue_follow_ups(acme.id, now).await?,
        vec![late.id]
    );
    assert!(db.mark_overdue_follow_ups(acme.id, now).await?.is_empty());
    let after = db.get_log(&acme.admin, late.id).await?;
    assert_eq!(
        after.follow_up_status,
        Some(commlog_domain::FollowUpStatus::Overdue)
    );
    assert!(db.company_ids().await?.contains(&acme.id));
    Ok(())
}

async fn key_topics_follow_the_callers_sight_and_period(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let (rep, rep_scope) = user(db, &acme.admin, Role::SalesRep, None, 10).await?;
    let mine = create(db, &rep_scope, json!({"assigned_to_user_id": rep.id})).await?;
    let theirs = create(db, &acme.admin, json!({})).await?;
    for (log, topics) in [
        (mine.id, vec!["pallets"]),
        (theirs.id, vec!["invoice", "refund"]),
    ] {
        let a = LogAnalysis {
            key_topics: Some(topics.into_iter().map(str::to_owned).collect()),
            ..Default::default()
        };
        db.apply_analysis(acme.id, log, None, &a).await?;
    }
    let (from, to) = (
        mine.start_time - Duration::days(1),
        mine.start_time + Duration::days(1),
    );
    let all = db.key_topics_between(&acme.admin, from, to, 100).await?;
    assert_eq!(all.len(), 2);
    assert_eq!(
        db.key_topics_between(&rep_scope, from, to, 100).await?,
        vec![vec!["pallets".to_owned()]]
    );
    let other = company(db, "Other").await?;
    assert!(
        db.key_topics_between(&other.admin, from, to, 100)
            .await?
            .is_empty()
    );
    let later = mine.start_time + Duration::days(2);
    assert!(
        db.key_topics_between(&acme.admin, later, later + Duration::days(1), 100)
            .await?
            .is_empty()
    );
    assert_eq!(
        db.key_topics_between(&acme.admin, from, to, 1).await?.len(),
        1
    );
    Ok(())
}

conformance!(
    key_topics_follow_the_callers_sight_and_period,
    logs_queue_their_processing,
    analysis_is_written_back_in_one_go,
    settings_rules_and_examples_are_per_company,
    overdue_follow_ups_are_marked_once,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: key_topics_follow_the_callers_sight_and_period, analysis_is_written_back_in_one_go, settings_rules_and_examples_are_per_company);
