//! Backup and restore.
//!
//! `commlog backup --out DIR` writes a consistent copy of the database — SQLite: `VACUUM INTO`, a
//! snapshot taken while Commlog keeps running; PostgreSQL: `pg_dump --format=custom` — the blob
//! store's files, and `manifest.json` with every file's size and SHA-256 and the ids of the master
//! keys the data needs. The master keys themselves and the erasure ledger are never in a backup:
//! keep them apart (see docs/compliance.md).
//!
//! `commlog restore --from DIR` checks every file against the manifest, puts the database and the
//! files back (Commlog must be stopped), migrates, and re-applies the erasure ledger: whoever was
//! erased after the backup was taken is erased again before anyone can read the restored data.

use crate::compliance::ledger;
use anyhow::{Context, Result, anyhow, bail};
use commlog_store::{Backend, Scope, Store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const FORMAT: &str = "commlog-backup/1";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";

fn files_under(root: &Path) -> Result<Vec<PathBuf>> {
    Ok(crate::blobs::files_under(root)?)
}

fn copy_tree(from: &Path, to: &Path) -> Result<u64> {
    let mut n = 0;
    for rel in files_under(from)? {
        let target = to.join(&rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(from.join(&rel), &target)
            .with_context(|| format!("copying {}", rel.display()))?;
        n += 1;
    }
    Ok(n)
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// The file an `sqlite://` URL names.
fn sqlite_path(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .ok_or_else(|| anyhow!("not an sqlite:// URL"))?;
    Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

fn run(cmd: &mut std::process::Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("running {what} (is it installed?)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Writes a backup into `out` (which must not exist or be empty); returns the manifest.
pub async fn backup(
    store: &Store,
    url: &str,
    data_dir: &Path,
    master_key_ids: Vec<String>,
    out: &Path,
) -> Result<Value> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty", out.display());
    }
    std::fs::create_dir_all(out)?;
    let (kind, db_file) = match store.backend() {
        Backend::Sqlite => {
            store.sqlite_backup(&out.join(SQLITE_FILE)).await?;
            ("sqlite", SQLITE_FILE)
        }
        Backend::Postgres => {
            run(
                std::process::Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--file")
                    .arg(out.join(PG_FILE))
                    .arg("--dbname")
                    .arg(url),
                "pg_dump",
            )?;
            ("postgres", PG_FILE)
        }
    };
    let blobs = copy_tree(&data_dir.join("blobs"), &out.join("blobs"))?;
    let mut files = Vec::new();
    for rel in files_under(out)? {
        let path = out.join(&rel);
        files.push(json!({
            "path": rel.to_string_lossy(),
            "bytes": std::fs::metadata(&path)?.len(),
            "sha256": sha256_file(&path)?,
        }));
    }
    let manifest = json!({
        "format": FORMAT,
        "created_at": commlog_domain::time_fmt::now().format(&time::format_description::well_known::Rfc3339)?,
        "database": kind,
        "database_file": db_file,
        "blob_files": blobs,
        "master_key_ids": master_key_ids,
        "files": files,
    });
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(manifest)
}

/// Checks every file of a backup against its manifest; returns the manifest.
pub fn verify(from: &Path) -> Result<Value> {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(from.join("manifest.json")).context("reading manifest.json")?,
    )?;
    if manifest["format"] != FORMAT {
        bail!("not a Commlog backup (format {})", manifest["format"]);
    }
    let listed = manifest["files"]
        .as_array()
        .ok_or_else(|| anyhow!("the manifest lists no files"))?;
    for f in listed {
        let rel = f["path"].as_str().ok_or_else(|| anyhow!("bad manifest"))?;
        if rel.contains("..") || rel.starts_with('/') {
            bail!("the manifest names a path outside the backup: {rel}");
        }
        let actual = sha256_file(&from.join(rel)).with_context(|| format!("reading {rel}"))?;
        if Some(actual.as_str()) != f["sha256"].as_str() {
            bail!("{rel} does not match the manifest: the backup was altered or is incomplete");
        }
    }
    let present = files_under(from)?
        .into_iter()
        .filter(|p| p != Path::new("manifest.json"))
        .count();
    if present != listed.len() {
        bail!(
            "the backup holds {present} files but its manifest lists {}",
            listed.len()
        );
    }
    Ok(manifest)
}

/// Restores a verified backup into the database `url` and the data directory, then re-applies
/// the erasure ledger with `connect` (a store on the restored database). Returns a report.
pub async fn restore<F, Fut>(from: &Path, url: &str, data_dir: &Path, connect: F) -> Result<Value>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Store>>,
{
    let manifest = verify(from)?;
    match manifest["database"].as_str() {
        Some("sqlite") => {
            let target = sqlite_path(url)?;
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::copy(from.join(SQLITE_FILE), &target)
                .with_context(|| format!("writing {}", target.display()))?;
        }
        Some("postgres") => run(
            std::process::Command::new("pg_restore")
                .arg("--clean")
                .arg("--if-exists")
                .arg("--no-owner")
                .arg("--dbname")
                .arg(url)
                .arg(from.join(PG_FILE)),
            "pg_restore",
        )?,
        other => bail!("unknown database kind in the manifest: {other:?}"),
    }
    let blobs = data_dir.join("blobs");
    if blobs.exists() {
        std::fs::remove_dir_all(&blobs)?;
    }
    let files = copy_tree(&from.join("blobs"), &blobs)?;

    let store = connect().await?;
    store.migrate().await?;
    let entries = ledger::read(data_dir)?;
    let companies = store.company_ids().await?;
    let mut reapplied = Vec::new();
    let local = crate::blobs::LocalBlobStore::new(&blobs);
    for e in entries.iter().filter(|e| companies.contains(&e.company_id)) {
        let scope = Scope::admin(e.company_id, uuid::Uuid::nil());
        let (counts, keys) = store
            .reapply_erasure(&scope, &e.contact_ids, &e.address_hashes)
            .await?;
        crate::blobs::delete_all(&local, &keys)
            .await
            .map_err(|err| anyhow!("deleting the files of a re-applied erasure: {err}"))?;
        reapplied.push(json!({"erasure_id": e.erasure_id, "erased": counts}));
    }
    store.close().await;
    Ok(json!({
        "restored_from": manifest["created_at"],
        "database": manifest["database"],
        "blob_files": files,
        "ledger_entries": entries.len(),
        "erasures_reapplied": reapplied,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_or_extra_file_fails_verification() {
        let dir = std::env::temp_dir().join(format!("commlog-backup-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("blobs")).expect("dir");
        std::fs::write(dir.join("blobs/a"), b"one").expect("file");
        let manifest = json!({"format": FORMAT, "files": [{"path": "blobs/a", "bytes": 3,
            "sha256": hex::encode(Sha256::digest(b"one"))}]});
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).expect("manifest");
        assert!(verify(&dir).is_ok());
        std::fs::write(dir.join("blobs/a"), b"two").expect("tamper");
        assert!(verify(&dir).is_err());
        std::fs::write(dir.join("blobs/a"), b"one").expect("restore");
        std::fs::write(dir.join("blobs/b"), b"extra").expect("extra");
        assert!(verify(&dir).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
