//! The erasure ledger: one line per erasure, appended to `DATA_DIR/erasure-ledger.jsonl` when it
//! is requested, naming the person by contact ids and by hashes of their addresses and numbers
//! (never the values). It lives beside the master keys, outside the database and its backups:
//! `commlog restore` re-applies every entry, so a person erased after a backup was taken stays
//! erased when that backup is restored.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub company_id: Uuid,
    pub erasure_id: Uuid,
    pub contact_ids: Vec<Uuid>,
    /// [`commlog_domain::compliance::address_hash`] of each address and number.
    pub address_hashes: Vec<String>,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("erasure-ledger.jsonl")
}

/// Appends an entry and makes it durable before returning.
pub fn append(data_dir: &Path, entry: &LedgerEntry) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(data_dir))?;
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    f.write_all(&line)?;
    f.sync_all()?;
    Ok(())
}

/// Every entry (none when there is no ledger yet); a line that does not parse is an error.
pub fn read(data_dir: &Path) -> anyhow::Result<Vec<LedgerEntry>> {
    let text = match std::fs::read_to_string(path(data_dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("erasure ledger line {}: {e}", i + 1))
        })
        .collect()
}

/// The entry of an erasure about to run: the subject as resolved now.
pub fn entry(
    company_id: Uuid,
    erasure_id: Uuid,
    subject: &commlog_domain::compliance::Subject,
) -> LedgerEntry {
    LedgerEntry {
        company_id,
        erasure_id,
        contact_ids: subject.contact_ids.clone(),
        address_hashes: subject
            .emails
            .iter()
            .chain(&subject.phones)
            .map(|a| commlog_domain::compliance::address_hash(a))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_hold_no_address() {
        let dir = std::env::temp_dir().join(format!("commlog-ledger-{}", Uuid::new_v4()));
        let subject = commlog_domain::compliance::Subject {
            contact_ids: vec![Uuid::nil()],
            emails: vec!["ann@example.com".into()],
            phones: vec!["+14155550100".into()],
        };
        let e = entry(Uuid::nil(), Uuid::nil(), &subject);
        append(&dir, &e).expect("append");
        append(&dir, &e).expect("append");
        assert_eq!(read(&dir).expect("read"), vec![e.clone(), e]);
        let text = std::fs::read_to_string(path(&dir)).expect("text");
        assert!(!text.contains("ann@") && !text.contains("4155550100"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
