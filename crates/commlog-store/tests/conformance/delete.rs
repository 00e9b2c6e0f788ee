//! Deleting logs: refused while a follow-up or an upload is pending; afterwards the log and its
//! attachments are gone from every read but kept, soft-deleted, in the database.

use crate::attachments::pdf;
use crate::fixtures::{assert_not_found, company, count, create, patch, refused_code};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::AttachmentStatus;
use commlog_domain::filters::AttachmentFilter;
use serde_json::json;

async fn delete_waits_for_follow_up_and_takes_attachments(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let l = create(
        db,
        s,
        json!({"requires_follow_up": true, "follow_up_date": "2026-03-05T09:00:00Z"}),
    )
    .await?;
    assert_eq!(l.follow_up_status.map(|f| f.as_str()), Some("pending"));
    let file = db
        .create_attachment(s, &pdf(l.id, AttachmentStatus::Available))
        .await?;

    assert_eq!(
        refused_code(db.delete_log(s, l.id).await),
        "active_follow_up"
    );
    let working = patch(json!({"follow_up_status": "in_progress"}));
    db.update_log(s, l.id, working).await?;
    assert_eq!(
        refused_code(db.delete_log(s, l.id).await),
        "active_follow_up"
    );
    let done = patch(json!({"follow_up_status": "completed"}));
    db.update_log(s, l.id, done).await?;
    assert_eq!(db.get_log(s, l.id).await?.id, l.id);

    db.delete_log(s, l.id).await?;
    assert_not_found(db.get_log(s, l.id).await);
    assert_not_found(db.delete_log(s, l.id).await);
    assert_not_found(db.log_history(s, l.id).await);
    let edit = patch(json!({"summary": "too late"}));
    assert_not_found(db.update_log(s, l.id, edit).await);
    assert_eq!(count(db, s).await?, 0);

    assert_not_found(db.get_attachment(s, file.id).await);
    let all = AttachmentFilter::default();
    assert!(db.list_attachments(s, &all).await?.is_empty());
    let sql_log = "SELECT is_deleted FROM crm_communication_logs WHERE id = $1";
    assert_eq!(db.raw_bool(sql_log, l.id).await?, Some(true));
    let sql_file = "SELECT is_deleted FROM crm_communication_attachments WHERE id = $1";
    assert_eq!(db.raw_bool(sql_file, file.id).await?, Some(true));
    Ok(())
}

async fn delete_waits_for_pending_uploads(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let l = create(db, s, json!({})).await?;
    let keep = create(db, s, json!({})).await?;
    db.create_attachment(s, &pdf(l.id, AttachmentStatus::Pending))
        .await?;
    assert_eq!(
        refused_code(db.delete_log(s, l.id).await),
        "pending_attachment"
    );
    assert_eq!(db.get_log(s, l.id).await?.id, l.id);
    db.delete_log(s, keep.id).await?;
    assert_eq!(count(db, s).await?, 1);
    Ok(())
}

conformance!(
    delete_waits_for_follow_up_and_takes_attachments,
    delete_waits_for_pending_uploads,
);
