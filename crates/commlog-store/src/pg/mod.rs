//! PostgreSQL: the shared SQL of `engine/` compiled against `sqlx::Postgres`.

pub(crate) type Db = sqlx::Postgres;
pub(crate) mod dialect;

engine_modules!();

use crate::{Engine, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

/// Sets `commlog.company_id` for the session to the running call's tenant.
async fn set_tenant(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('commlog.company_id', $1, false)")
        .bind(crate::tenant::current_setting())
        .execute(conn)
        .await?;
    Ok(())
}

/// Opens a pool on `url` with the given size and timeouts.
pub(crate) async fn connect(url: &str, opts: &crate::ConnectOptions) -> StoreResult<Engine<Db>> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| crate::StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?
        .application_name("commlog")
        .options([
            (
                "statement_timeout",
                format!("{}", opts.statement_timeout.as_millis()),
            ),
            (
                "synchronous_commit",
                (if opts.asynchronous_commit {
                    "off"
                } else {
                    "on"
                })
                .to_owned(),
            ),
            // Just-in-time compilation pays off for long analytical scans only; for the
            // millisecond queries that are nearly all of Commlog's, and even for a report's
            // period scan, compiling costs 30–60 ms more than it saves.
            ("jit", "off".to_owned()),
            // A report's grouping of a quarter's rollup rows spills to disk at the default 4 MB
            // and takes twice as long; 16 connections × 16 MB stays modest.
            ("work_mem", "16MB".to_owned()),
        ]);
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.acquire_timeout)
        // Every connection handed to a store call carries that call's tenant (row-level security).
        .after_connect(|conn, _| Box::pin(async move { set_tenant(conn).await }))
        .before_acquire(|conn, _| Box::pin(async move { set_tenant(conn).await.map(|()| true) }))
        .connect_lazy_with(options);
    Ok(Engine {
        read: pool.clone(),
        write: pool,
        keys: opts.encryption.clone(),
    })
}
