//! Subject access exports: everything Commlog holds about a person, as a ZIP of JSON files with
//! the attachments, recordings and transcripts, and a manifest that gives each file's SHA-256
//! so the recipient can check nothing was changed or left out.
//!
//! Layout:
//! - `manifest.json` — the subject, when and by whom, counts, and `files` (path, bytes, sha256);
//! - `subject.json` — the contact records and every address and number that identify them;
//! - `logs/<log id>.json` — each log with participants, categories, tags and its attachments' metadata;
//! - `logs/<log id>/transcript.txt` — the transcript, when there is one;
//! - `logs/<log id>/files/<attachment id>-<name>` — attachments and recordings as stored.

use crate::error::ApiError;
use crate::state::AppState;
use commlog_domain::compliance::{Subject, SubjectRef};
use commlog_store::Scope;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Write;
use uuid::Uuid;

/// Logs read per store call while collecting.
const PAGE: i64 = 1000;

/// What an export held, for the audit trail and the response headers.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ExportCounts {
    pub logs: usize,
    pub files: usize,
    pub missing_files: usize,
}

/// A ZIP being written, with the manifest entry of each file.
pub(super) struct Archive {
    zip: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
    files: Vec<serde_json::Value>,
}

impl Archive {
    pub(super) fn new() -> Self {
        Self {
            zip: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())),
            files: Vec::new(),
        }
    }

    /// Writes one file into the ZIP (not listed in the manifest).
    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        self.zip.start_file(path, options).map_err(internal)?;
        self.zip.write_all(bytes).map_err(internal)
    }

    /// Writes a file and lists it, with its size and SHA-256, in the manifest.
    pub(super) fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.write(path, bytes)?;
        self.files.push(json!({
            "path": path,
            "bytes": bytes.len(),
            "sha256": hex::encode(Sha256::digest(bytes)),
        }));
        Ok(())
    }

    pub(super) fn add_json(
        &mut self,
        path: &str,
        value: &serde_json::Value,
    ) -> Result<(), ApiError> {
        let text = serde_json::to_vec_pretty(value).map_err(internal)?;
        self.add(path, &text)
    }

    /// Adds `manifest.json` (with every file's entry) and `manifest.sig` (what `sign` makes of
    /// the manifest's bytes); returns the archive and the manifest's bytes.
    pub(super) fn finish_signed(
        self,
        manifest: serde_json::Value,
        sign: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
        self.finish_with(manifest, Some(sign))
    }

    /// Adds `manifest.json` (with every file's entry); returns the archive.
    fn finish(self, manifest: serde_json::Value) -> Result<Vec<u8>, ApiError> {
        Ok(self.finish_with(manifest, None::<fn(&[u8]) -> Vec<u8>>)?.0)
    }

    fn finish_with(
        mut self,
        mut manifest: serde_json::Value,
        sign: Option<impl FnOnce(&[u8]) -> Vec<u8>>,
    ) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
        manifest["files"] = serde_json::Value::Array(std::mem::take(&mut self.files));
        let text = serde_json::to_vec_pretty(&manifest).map_err(internal)?;
        self.write("manifest.json", &text)?;
        if let Some(sign) = sign {
            let signature = sign(&text);
            self.write("manifest.sig", &signature)?;
        }
        Ok((self.zip.finish().map_err(internal)?.into_inner(), text))
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("building the export failed: {e}"))
}

/// A file name safe inside the archive: no directories, no control characters.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// Every log id of the subject.
async fn subject_logs(app: &AppState, scope: &Scope, s: &Subject) -> Result<Vec<Uuid>, ApiError> {
    let mut ids: Vec<Uuid> = Vec::new();
    loop {
        let page = app
            .store
            .subject_log_ids(scope, s, ids.last().copied(), PAGE)
            .await?;
        let last = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
        ids.extend(page);
        if last {
            return Ok(ids);
        }
    }
}

/// Builds the export of a subject; the caller has checked the permission.
pub async fn subject_export(
    app: &AppState,
    scope: &Scope,
    subject_ref: &SubjectRef,
) -> Result<(Vec<u8>, ExportCounts), ApiError> {
    let subject = app.store.resolve_subject(scope, subject_ref).await?;
    let ids = subject_logs(app, scope, &subject).await?;
    let mut archive = Archive::new();
    let mut counts = ExportCounts::default();

    let mut contacts = Vec::new();
    for id in &subject.contact_ids {
        contacts.push(app.store.get_contact(scope, *id).await?);
    }
    archive.add_json(
        "subject.json",
        &json!({"contacts": contacts, "emails": subject.emails, "phones": subject.phones}),
    )?;

    for chunk in ids.chunks(500) {
        let (logs, files) = app.store.subject_export_logs(scope, chunk).await?;
        for log in &logs {
            let own: Vec<_> = files
                .iter()
                .filter(|f| f.communication_log_id == log.id)
                .collect();
            let mut value = serde_json::to_value(log).map_err(internal)?;
            value["attachments"] = serde_json::to_value(&own).map_err(internal)?;
            archive.add_json(&format!("logs/{}.json", log.id), &value)?;
            if let Some(t) = log.transcription.as_deref().filter(|t| !t.is_empty()) {
                archive.add(&format!("logs/{}/transcript.txt", log.id), t.as_bytes())?;
            }
            for f in own {
                if f.file_path.is_empty() {
                    continue;
                }
                match app.blobs.get(&f.file_path).await {
                    Ok(bytes) => {
                        let path =
                            format!("logs/{}/files/{}-{}", log.id, f.id, safe_name(&f.file_name));
                        archive.add(&path, &bytes)?;
                        counts.files += 1;
                    }
                    Err(crate::blobs::BlobError::NotFound) => counts.missing_files += 1,
                    Err(e) => return Err(internal(e)),
                }
            }
            counts.logs += 1;
        }
    }
    let manifest = json!({
        "format": "commlog-subject-export/1",
        "generated_at": commlog_domain::time_fmt::now()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(internal)?,
        "generated_by_user_id": scope.user_id(),
        "company_id": scope.company_id(),
        "subject": {"contact_ids": subject.contact_ids, "emails": subject.emails, "phones": subject.phones},
        "counts": counts,
    });
    let bytes = archive.finish(manifest)?;
    app.store
        .record_audit(
            scope,
            "subject_export",
            "data_subject",
            None,
            json!({"subject_type": subject_ref.kind(), "logs": counts.logs, "files": counts.files}),
        )
        .await?;
    Ok((bytes, counts))
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn archive_names_stay_inside_their_folder() {
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("Quote 2026.pdf"), "Quote_2026.pdf");
    }
}
