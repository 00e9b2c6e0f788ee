//! `commlog import eml|mbox|maildir`: bring existing mail in through the same pipeline as every
//! other capture ([`crate::capture::email`]). Files are read one message at a time (an mbox
//! never whole), and progress goes to the terminal for long imports.

use crate::blobs::BlobStore;
use crate::capture::email::{EmailCapture, EmailImportReport};
use commlog_ingest::email::mbox::{MboxItem, MboxReader};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// How often a long import reports progress on stderr.
const PROGRESS_EVERY: u64 = 500;
/// The largest single message file read.
const MAX_MESSAGE_BYTES: usize = 50 * 1024 * 1024;

fn progress(report: &EmailImportReport) {
    if report.total().is_multiple_of(PROGRESS_EVERY) {
        eprintln!(
            "{} messages: {} imported, {} duplicates, {} quarantined",
            report.total(),
            report.imported,
            report.duplicates,
            report.quarantined
        );
    }
}

/// Every file under `paths` (folders recursively, in name order; maildir `cur`/`new` included,
/// `tmp` skipped), each one message.
fn message_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "tmp") {
                continue;
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            stack.extend(entries.into_iter().rev());
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// Imports `.eml` files and maildir folders.
pub async fn import_files(
    capture: &EmailCapture<'_>,
    paths: &[PathBuf],
) -> anyhow::Result<EmailImportReport> {
    let mut report = EmailImportReport::default();
    for path in message_files(paths)? {
        let name = path.display().to_string();
        let mailbox = format!(
            "import:{}",
            path.parent()
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default()
        );
        let mut raw = Vec::new();
        let read = std::fs::File::open(&path)?
            .take(MAX_MESSAGE_BYTES as u64 + 1)
            .read_to_end(&mut raw)?;
        let outcome = if read > MAX_MESSAGE_BYTES {
            capture
                .quarantine(
                    &raw[..0],
                    &mailbox,
                    &format!("the file is larger than {MAX_MESSAGE_BYTES} bytes"),
                )
                .await?
        } else {
            capture.ingest(&raw, &mailbox).await?
        };
        report.add(&name, &outcome);
        progress(&report);
    }
    Ok(report)
}

/// Imports every message of an mbox.
pub async fn import_mbox(
    capture: &EmailCapture<'_>,
    name: &str,
    reader: impl BufRead,
) -> anyhow::Result<EmailImportReport> {
    let mut report = EmailImportReport::default();
    let mailbox = format!("import:{name}");
    for item in MboxReader::new(reader, MAX_MESSAGE_BYTES) {
        let (item_name, outcome) = match item? {
            MboxItem::Message { index, raw } => (
                format!("{name}#{index}"),
                capture.ingest(&raw, &mailbox).await?,
            ),
            MboxItem::TooLarge { index, bytes } => (
                format!("{name}#{index}"),
                capture
                    .quarantine(
                        &[],
                        &mailbox,
                        &format!("the message has {bytes} bytes, more than {MAX_MESSAGE_BYTES}"),
                    )
                    .await?,
            ),
        };
        report.add(&item_name, &outcome);
        progress(&report);
    }
    Ok(report)
}

/// Whether `head` (a file's first bytes) starts like an mbox rather than one message.
pub fn looks_like_mbox(head: &[u8]) -> bool {
    head.starts_with(b"From ")
}

/// The capture pipeline for the command line: the data directory's blob store, acting as
/// `as_user` or the company's first active admin.
pub async fn command_line_capture<'a>(
    store: &'a commlog_store::Store,
    blobs: &'a dyn BlobStore,
    company_id: uuid::Uuid,
    as_user: Option<&str>,
    max_attachment_bytes: usize,
) -> anyhow::Result<EmailCapture<'a>> {
    let scope = crate::import::acting_scope(store, company_id, as_user).await?;
    Ok(EmailCapture::new(store, blobs, scope, max_attachment_bytes).await?)
}
