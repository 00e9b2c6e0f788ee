//! Changing logs: a patch touches only what it names and leaves history; status moves only
//! along the state machine; escalation needs a team lead; assignment respects capacity.

use crate::fixtures::{
    assert_forbidden, company, create, invalid_fields, log, patch, refused_code, team, user,
};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::{LogStatus, Priority, Role};
use serde_json::json;
use std::collections::BTreeSet;

async fn patch_changes_only_named_fields_and_records_history(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let before = create(
        db,
        s,
        json!({"summary": "First summary", "tags": ["vip"], "sentiment_score": 0.25,
               "key_topics": ["pricing"], "end_time": "2026-03-01T10:03:00Z",
               "participants": [{"role": "caller", "phone": "+14155550123", "name": "Ann"}]}),
    )
    .await?;
    let edit = patch(json!({"summary": "Second summary", "priority": "high"}));
    let (after, _warnings) = db.update_log(s, before.id, edit).await?;

    let mut expected = before.clone();
    expected.summary = Some("Second summary".into());
    expected.priority = Priority::High;
    expected.updated_by_user_id = Some(acme.admin_id);
    expected.updated_at = after.updated_at;
    assert_eq!(after, expected);
    assert!(after.updated_at >= before.updated_at);
    assert_eq!(db.get_log(s, before.id).await?, after);

    let history = db.log_history(s, before.id).await?;
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["create", "update"]);
    let changes = history[1].changes.as_object().expect("changes object");
    let changed: BTreeSet<&str> = changes.keys().map(String::as_str).collect();
    assert_eq!(changed, BTreeSet::from(["priority", "summary"]));
    assert_eq!(changes["priority"], json!({"old": "normal", "new": "high"}));
    // Content fields say that they changed, never what they said.
    assert_eq!(changes["summary"], json!({"changed": true}));
    assert_eq!(history[1].actor_user_id, Some(acme.admin_id));

    let cleared = patch(json!({"summary": null, "tags": []}));
    let (after, _) = db.update_log(s, before.id, cleared).await?;
    assert_eq!(after.summary, None);
    assert!(after.tags.is_empty());
    assert_eq!(after.participants, before.participants);
    assert_eq!(db.get_log(s, before.id).await?, after);
    assert_eq!(db.log_history(s, before.id).await?.len(), 3);

    let bad = patch(json!({"content": "too short"}));
    assert_eq!(
        invalid_fields(db.update_log(s, before.id, bad).await),
        ["content"]
    );
    let backwards = patch(json!({"end_time": "2026-03-01T09:00:00Z"}));
    assert_eq!(
        invalid_fields(db.update_log(s, before.id, backwards).await),
        ["end_time"]
    );
    assert_eq!(db.get_log(s, before.id).await?, after);
    assert_eq!(db.log_history(s, before.id).await?.len(), 3);
    Ok(())
}

async fn status_moves_along_the_state_machine(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let l = create(db, s, json!({})).await?;
    assert_eq!(l.status, LogStatus::Logged);
    let skip = db
        .update_log(s, l.id, patch(json!({"status": "closed"})))
        .await;
    assert_eq!(refused_code(skip), "invalid_transition");
    assert_eq!(db.get_log(s, l.id).await?.status, LogStatus::Logged);

    for next in [
        "in_progress",
        "awaiting_response",
        "resolved",
        "closed",
        "archived",
    ] {
        let (after, _) = db
            .update_log(s, l.id, patch(json!({"status": next})))
            .await?;
        assert_eq!(after.status.as_str(), next);
        assert_eq!(db.get_log(s, l.id).await?.status.as_str(), next);
    }
    let back = db
        .update_log(s, l.id, patch(json!({"status": "closed"})))
        .await;
    assert_eq!(refused_code(back), "invalid_transition");
    let archived = db
        .create_log(s, log(json!({"status": "archived"})), None)
        .await;
    assert_eq!(invalid_fields(archived), ["status"]);
    Ok(())
}

async fn escalation_needs_a_team_lead(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let north = team(db, &acme.admin, "North").await?;
    let (_rep, rep_s) = user(db, &acme.admin, Role::SalesRep, Some(north), 50).await?;
    let (_lead, lead_s) = user(db, &acme.admin, Role::TeamLead, Some(north), 50).await?;
    let l = create(db, &rep_s, json!({})).await?;

    let escalate = || patch(json!({"status": "escalated"}));
    assert_forbidden(db.update_log(&rep_s, l.id, escalate()).await);
    assert_eq!(db.get_log(&rep_s, l.id).await?.status, LogStatus::Logged);
    assert_forbidden(
        db.create_log(&rep_s, log(json!({"status": "escalated"})), None)
            .await,
    );
    let (after, _) = db.update_log(&lead_s, l.id, escalate()).await?;
    assert_eq!(after.status, LogStatus::Escalated);
    let created = db
        .create_log(&lead_s, log(json!({"status": "escalated"})), None)
        .await?;
    assert_eq!(created.log.status, LogStatus::Escalated);
    // Leaving escalation is ordinary work.
    let (back, _) = db
        .update_log(&rep_s, l.id, patch(json!({"status": "in_progress"})))
        .await?;
    assert_eq!(back.status, LogStatus::InProgress);
    Ok(())
}

async fn assignment_respects_capacity(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let north = team(db, s, "North").await?;
    let (busy, _) = user(db, s, Role::SalesRep, Some(north), 1).await?;
    let (spare, _) = user(db, s, Role::SalesRep, None, 5).await?;

    let first = create(db, s, json!({"assigned_to_user_id": busy.id})).await?;
    assert_eq!(first.assigned_to_user_id, Some(busy.id));
    assert_eq!(
        first.team_id,
        Some(north),
        "an assigned log joins the assignee's team"
    );
    let second = create(db, s, json!({})).await?;
    let assign = || patch(json!({"assigned_to_user_id": busy.id}));
    assert_eq!(
        refused_code(db.update_log(s, second.id, assign()).await),
        "user_at_capacity"
    );
    let full = db.create_log(s, log(json!({"assigned_to_user_id": busy.id})), None);
    assert_eq!(refused_code(full.await), "user_at_capacity");
    assert_eq!(db.get_log(s, second.id).await?.assigned_to_user_id, None);

    let reassign = patch(json!({"assigned_to_user_id": spare.id}));
    db.update_log(s, second.id, reassign).await?;
    // A resolved log no longer counts against its assignee.
    db.update_log(s, first.id, patch(json!({"status": "resolved"})))
        .await?;
    let (moved, _) = db.update_log(s, second.id, assign()).await?;
    assert_eq!(moved.assigned_to_user_id, Some(busy.id));

    let other = company(db, "Other").await?;
    let (stranger, _) = user(db, &other.admin, Role::SalesRep, None, 50).await?;
    let across = patch(json!({"assigned_to_user_id": stranger.id}));
    let fields = invalid_fields(db.update_log(s, first.id, across).await);
    assert_eq!(fields, ["assigned_to_user_id"]);
    let across = log(json!({"assigned_to_user_id": stranger.id}));
    invalid_fields(db.create_log(s, across, None).await);
    Ok(())
}

async fn concurrent_assignments_respect_capacity(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    for _ in 0..5 {
        let (busy, _) = user(db, s, Role::SalesRep, None, 1).await?;
        let body = || log(json!({"assigned_to_user_id": busy.id}));
        let (a, b) = tokio::join!(
            db.create_log(s, body(), None),
            db.create_log(s, body(), None)
        );
        let won = usize::from(a.is_ok()) + usize::from(b.is_ok());
        assert_eq!(won, 1, "exactly one assignment fits: {a:?} {b:?}");
        let lost = if a.is_ok() { b } else { a };
        assert_eq!(refused_code(lost), "user_at_capacity");
        let held = json!({"assigned_to_user_id": busy.id});
        assert_eq!(crate::fixtures::ids(db, s, held).await?.len(), 1);
    }
    Ok(())
}

conformance!(
    concurrent_assignments_respect_capacity,
    patch_changes_only_named_fields_and_records_history,
    status_moves_along_the_state_machine,
    escalation_needs_a_team_lead,
    assignment_respects_capacity,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: patch_changes_only_named_fields_and_records_history, status_moves_along_the_state_machine);
