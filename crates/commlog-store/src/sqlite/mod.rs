//! SQLite: the shared SQL of `engine/` compiled against `sqlx::Sqlite`.

pub(crate) type Db = sqlx::Sqlite;
pub(crate) mod dialect;

engine_modules!();

use crate::{Engine, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;

/// Opens the database file (created if missing) in WAL mode: many readers, one writer.
pub(crate) async fn connect(url: &str, opts: &crate::ConnectOptions) -> StoreResult<Engine<Db>> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        // Each pooled connection would see its own empty database.
        return Err(crate::StoreError::Other(
            "in-memory SQLite is not supported; give a file path".into(),
        ));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| crate::StoreError::Other(format!("invalid SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL is durable against process crashes; a 2xx means the commit reached the WAL.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Freed pages are zeroed, so erased and purged data does not linger in the file.
        .pragma("secure_delete", "ON")
        .busy_timeout(opts.acquire_timeout);
    // Writers queue on one connection; a store method never reads through `read` while it holds
    // the writer, so the two pools cannot wait on each other.
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(opts.acquire_timeout)
        .connect_with(options.clone())
        .await?;
    let read = SqlitePoolOptions::new()
        .max_connections(opts.max_connections.max(2))
        .acquire_timeout(opts.acquire_timeout)
        .connect_with(options)
        .await?;
    Ok(Engine {
        read,
        write,
        keys: opts.encryption.clone(),
    })
}
