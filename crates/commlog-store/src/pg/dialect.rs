//! What PostgreSQL spells differently.

use super::Db;
use sqlx::QueryBuilder;

pub(crate) const MIGRATIONS: &[(&str, &str)] = crate::migrate::POSTGRES;
/// Serialises concurrent migrators across processes.
pub(crate) const MIGRATION_LOCK: Option<(&str, &str)> = Some((
    "SELECT pg_advisory_lock(7243601)",
    "SELECT pg_advisory_unlock(7243601)",
));
/// Run first in each migration's transaction: a migration that fills a new table from a large
/// one may take minutes, which the connections' statement timeout would cut short.
pub(crate) const MIGRATION_SETUP: Option<&str> = Some("SET LOCAL statement_timeout = 0");
/// The partial-index predicate of live logs, spelled as the indexes spell it.
pub(crate) const LIVE: &str = "NOT l.is_deleted";
/// The UTC hour of a log's start (the rollup's bucket), and its quarter hour (fine enough for
/// every time zone's local hours: offsets are whole quarter hours).
pub(crate) const HOUR_SLOT: &str =
    "date_trunc('hour', l.start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";
pub(crate) const QUARTER_HOUR_SLOT: &str =
    "to_timestamp(floor(extract(epoch FROM l.start_time) / 900) * 900)";
/// After a purge: nothing to do here. Old row versions are not part of any dump and are
/// reclaimed by autovacuum; see docs/compliance.md.
pub(crate) const AFTER_PURGE: Option<&str> = None;
/// Appended to a SELECT that reads a row about to be changed.
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";

/// The most matches a search considers (the newest first); filters then narrow them.
pub(crate) const SEARCH_MAX_MATCHES: i32 = 10_000;

/// Adds ` AND <full-text match of query>` over subject and content. The match runs in
/// `commlog_search_logs` (migration 0004) so that the GIN index serves it under row-level
/// security, which would otherwise refuse an index for the non-leakproof `@@`.
pub(crate) fn push_fulltext(qb: &mut QueryBuilder<Db>, query: &str) {
    qb.push(" AND l.id IN (SELECT s.id FROM commlog_search_logs(");
    qb.push_bind(query.to_owned());
    qb.push(", ").push_bind(SEARCH_MAX_MATCHES).push(") s)");
}

/// Acts for `company` for the rest of the transaction (company creation writes rows of a
/// company that did not exist when the call began).
pub(crate) async fn set_tx_tenant(
    tx: &mut sqlx::Transaction<'static, Db>,
    company: uuid::Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('commlog.company_id', $1, true)")
        .bind(company.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Locks the assignee row while their open communications are counted.
pub(crate) const FOR_UPDATE_OF_USERS: &str = " FOR UPDATE OF u";

/// Appended to the SELECT that picks jobs to claim, so concurrent runners skip each other's
/// rows instead of waiting (SQLite has one writer: nothing to skip).
pub(crate) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
