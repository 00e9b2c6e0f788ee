//! What SQLite spells differently.

use super::Db;
use sqlx::QueryBuilder;

pub(crate) const MIGRATIONS: &[(&str, &str)] = crate::migrate::SQLITE;
/// One writer connection already serialises migrators.
pub(crate) const MIGRATION_LOCK: Option<(&str, &str)> = None;
/// SQLite has no statement timeout to lift.
pub(crate) const MIGRATION_SETUP: Option<&str> = None;
/// The partial-index predicate of live logs, spelled as the indexes spell it.
pub(crate) const LIVE: &str = "l.is_deleted = 0";
/// After a purge: moves the write-ahead log into the database file and empties it, so the old
/// page images that still held purged text are gone (freed pages are zeroed: `secure_delete`).
pub(crate) const AFTER_PURGE: Option<&str> = Some("PRAGMA wal_checkpoint(TRUNCATE)");
/// The single writer connection already serialises writes.
pub(crate) const FOR_UPDATE: &str = "";
/// The UTC hour of a log's start (the rollup's bucket), and its quarter hour, cut from the
/// fixed-width UTC text.
pub(crate) const HOUR_SLOT: &str = "substr(l.start_time, 1, 13) || ':00:00.000000Z'";
pub(crate) const QUARTER_HOUR_SLOT: &str = "substr(l.start_time, 1, 14) || printf('%02d', (CAST(substr(l.start_time, 15, 2) AS INTEGER) / 15) * 15) || ':00.000000Z'";

/// Adds ` AND <full-text match of query>`. User text never reaches FTS5 syntax: every word is
/// quoted, so `AND`, `*`, `"` and `:` are just characters to find.
pub(crate) fn push_fulltext(qb: &mut QueryBuilder<Db>, query: &str) {
    let terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-' && c != '_')
        .filter(|w| !w.is_empty())
        .take(32)
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    if terms.is_empty() {
        qb.push(" AND 0");
        return;
    }
    qb.push(" AND l.row_id IN (SELECT rowid FROM crm_communication_logs_fts WHERE crm_communication_logs_fts MATCH ");
    qb.push_bind(terms.join(" "));
    qb.push(")");
}
/// The single writer connection already serialises assignments.
pub(crate) const FOR_UPDATE_OF_USERS: &str = "";

/// SQLite has no row-level security: nothing to set.
pub(crate) async fn set_tx_tenant(
    _tx: &mut sqlx::Transaction<'static, Db>,
    _company: uuid::Uuid,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Appended to the SELECT that picks jobs to claim, so concurrent runners skip each other's
/// rows instead of waiting (SQLite has one writer: nothing to skip).
pub(crate) const SKIP_LOCKED: &str = "";
