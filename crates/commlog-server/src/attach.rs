//! Keeping a file as an attachment of a log: its bytes in the blob store, its record (name,
//! type, size, SHA-256) in the database. One path for uploads, recordings and captured mail.

use crate::blobs::{BlobError, BlobStore};
use bytes::Bytes;
use commlog_domain::records::{Attachment, NewAttachment};
use commlog_domain::{AttachmentStatus, new_id};
use commlog_store::{Scope, Store, StoreError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Why a file was not kept.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("storing the file: {0}")]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A file to keep on a log.
pub struct NewFile<'a> {
    pub log_id: Uuid,
    /// Already sanitised for display (no path, no control characters).
    pub name: String,
    pub file_type: &'a str,
    pub data: Bytes,
    pub is_internal: bool,
}

/// Writes the bytes, then the record; a record that cannot be written takes its bytes away
/// again, since nothing could reach them.
pub async fn attach(
    store: &Store,
    blobs: &dyn BlobStore,
    scope: &Scope,
    file: NewFile<'_>,
) -> Result<Attachment, AttachError> {
    let id = new_id();
    let key = format!("attachments/{}/{}/{id}", scope.company_id(), file.log_id);
    let checksum = hex::encode(Sha256::digest(&file.data));
    let size = i64::try_from(file.data.len()).unwrap_or(i64::MAX);
    blobs.put(&key, file.data).await?;
    let new = NewAttachment {
        id,
        communication_log_id: file.log_id,
        file_name: file.name,
        file_type: file.file_type.chars().take(100).collect(),
        file_size: size,
        file_path: key.clone(),
        checksum_sha256: checksum,
        status: AttachmentStatus::Available,
        is_public: false,
        is_internal: file.is_internal,
    };
    match store.create_attachment(scope, &new).await {
        Ok(a) => Ok(a),
        Err(e) => {
            let _ = blobs.delete(&key).await;
            Err(e.into())
        }
    }
}
