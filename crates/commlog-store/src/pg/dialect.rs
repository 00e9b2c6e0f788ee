//! What PostgreSQL spells differently.

use super::Db;
use sqlx::QueryBuilder;

pub(crate) const MIGRATIONS: &[(&str, &str)] = crate::migrate::POSTGRES;
/// Serialises concurrent migrators across processes.
pub(crate) const MIGRATION_LOCK: Option<(&str, &str)> = Some((
    "SELECT pg_advisory_lock(7243601)",
    "SELECT pg_advisory_unlock(7243601)",
));
/// The partial-index predicate of live logs, spelled as the indexes spell it.
pub(crate) const LIVE: &str = "NOT l.is_deleted";
/// Appended to a SELECT that reads a row about to be changed.
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";

/// Adds ` AND <full-text match of query>` over subject and content.
pub(crate) fn push_fulltext(qb: &mut QueryBuilder<Db>, query: &str) {
    qb.push(" AND l.search_vector @@ websearch_to_tsquery('english', ");
    qb.push_bind(query.to_owned());
    qb.push(")");
}
/// Locks the assignee row while their open communications are counted.
pub(crate) const FOR_UPDATE_OF_USERS: &str = " FOR UPDATE OF u";
