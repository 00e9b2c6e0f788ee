//! Applies the engine's migrations that are not yet recorded in `commlog_migrations`.

use super::{Db, dialect};
use crate::{Engine, StoreResult};
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

impl Engine<Db> {
    /// Runs pending migrations; returns how many ran.
    pub(crate) async fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.write.acquire().await?;
        if let Some((lock, _)) = dialect::MIGRATION_LOCK {
            conn.execute(lock).await?;
        }
        let result = apply(&mut conn).await;
        if let Some((_, unlock)) = dialect::MIGRATION_LOCK {
            conn.execute(unlock).await?;
        }
        result
    }
}

async fn apply(conn: &mut <Db as sqlx::Database>::Connection) -> StoreResult<usize> {
    // Read first: an ordinary application role may not create tables, and needs not when
    // everything is applied already.
    let applied: Vec<String> = match sqlx::query("SELECT name FROM commlog_migrations")
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?,
        Err(_) => {
            conn.execute("CREATE TABLE IF NOT EXISTS commlog_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
                .await?;
            Vec::new()
        }
    };
    let mut ran = 0;
    for (name, sql) in dialect::MIGRATIONS {
        if applied.iter().any(|a| a == name) {
            continue;
        }
        let mut tx = conn.begin().await?;
        if let Some(setup) = dialect::MIGRATION_SETUP {
            tx.execute(setup).await?;
        }
        tx.execute(sqlx::raw_sql(AssertSqlSafe(*sql))).await?;
        let now = crate::DbTime::from(time::OffsetDateTime::now_utc())
            .0
            .to_string();
        sqlx::query("INSERT INTO commlog_migrations (name, applied_at) VALUES ($1, $2)")
            .bind(*name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(migration = name, "applied migration");
        ran += 1;
    }
    Ok(ran)
}
