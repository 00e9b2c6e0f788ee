//! Attachment records are visible exactly when their log is, and count their downloads.

use crate::fixtures::{assert_not_found, company, create, invalid_fields, user};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::filters::AttachmentFilter;
use commlog_domain::{AttachmentStatus, NewAttachment, Role};
use serde_json::json;
use uuid::Uuid;

/// A stored PDF of `log_id`.
pub fn pdf(log_id: Uuid, status: AttachmentStatus) -> NewAttachment {
    NewAttachment {
        id: Uuid::now_v7(),
        communication_log_id: log_id,
        file_name: "quote.pdf".into(),
        file_type: "application/pdf".into(),
        file_size: 1234,
        file_path: format!("attachments/{log_id}/quote.pdf"),
        checksum_sha256: "ab".repeat(32),
        status,
        is_public: false,
        is_internal: false,
    }
}

async fn attachments_follow_their_log(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let (rep, rep_s) = user(db, &acme.admin, Role::SalesRep, None, 50).await?;
    let admins_log = create(db, &acme.admin, json!({})).await?;
    let reps_log = create(db, &rep_s, json!({})).await?;

    let new = pdf(admins_log.id, AttachmentStatus::Available);
    let on_admins = db.create_attachment(&acme.admin, &new).await?;
    assert_eq!(on_admins.id, new.id);
    assert_eq!(on_admins.file_size, 1234);
    assert_eq!(on_admins.checksum_sha256, new.checksum_sha256);
    assert_eq!(on_admins.uploaded_by_user_id, acme.admin_id);
    assert_eq!(on_admins.status, AttachmentStatus::Available);
    assert!(!on_admins.is_deleted);
    let on_reps = db
        .create_attachment(&rep_s, &pdf(reps_log.id, AttachmentStatus::Available))
        .await?;
    assert_eq!(on_reps.uploaded_by_user_id, rep.id);

    let all = AttachmentFilter::default();
    let listed: Vec<Uuid> = db
        .list_attachments(&acme.admin, &all)
        .await?
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&on_admins.id) && listed.contains(&on_reps.id));
    let reps: Vec<Uuid> = db
        .list_attachments(&rep_s, &all)
        .await?
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(reps, vec![on_reps.id]);
    let by_log = AttachmentFilter {
        communication_log_id: Some(admins_log.id),
        ..Default::default()
    };
    let one = db.list_attachments(&acme.admin, &by_log).await?;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0], on_admins);
    assert!(db.list_attachments(&rep_s, &by_log).await?.is_empty());

    assert_eq!(
        db.get_attachment(&acme.admin, on_admins.id).await?,
        on_admins
    );
    assert_not_found(db.get_attachment(&rep_s, on_admins.id).await);
    let hidden = pdf(admins_log.id, AttachmentStatus::Available);
    let fields = invalid_fields(db.create_attachment(&rep_s, &hidden).await);
    assert_eq!(fields, ["communication_log_id"]);

    let other = company(db, "Other").await?;
    assert_not_found(db.get_attachment(&other.admin, on_admins.id).await);
    assert!(db.list_attachments(&other.admin, &all).await?.is_empty());
    let across = pdf(admins_log.id, AttachmentStatus::Available);
    invalid_fields(db.create_attachment(&other.admin, &across).await);

    db.record_download(&acme.admin, on_admins.id).await?;
    db.record_download(&acme.admin, on_admins.id).await?;
    assert_not_found(db.record_download(&rep_s, on_admins.id).await);
    let downloaded = db.get_attachment(&acme.admin, on_admins.id).await?;
    assert_eq!(downloaded.download_count, 2);
    Ok(())
}

conformance!(attachments_follow_their_log);
