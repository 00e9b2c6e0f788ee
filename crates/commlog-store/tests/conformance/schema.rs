//! Migrations: applying them twice changes nothing, and the SQLite and PostgreSQL schemas have
//! the same tables, columns and indexes (apart from each engine's full-text machinery).

use crate::fixtures::company;
use crate::harness::{Engine, Setup, TestDb, run};
use anyhow::Result;
use commlog_store::MIGRATION_NAMES;
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet};

type Tables = BTreeMap<String, BTreeSet<String>>;

async fn migrate_is_idempotent(db: &TestDb) -> Result<()> {
    assert_eq!(db.migrate().await?, MIGRATION_NAMES.len());
    assert_eq!(db.migrate().await?, 0);
    company(db, "Acme").await?;
    assert_eq!(db.migrate().await?, 0);
    assert_eq!(db.count_companies().await?, 1);
    Ok(())
}

conformance!(Empty: migrate_is_idempotent);

#[tokio::test]
async fn both_engines_have_the_same_schema() -> Result<()> {
    run(Engine::Sqlite, Setup::Migrated, async |lite: &TestDb| {
        run(Engine::Postgres, Setup::Migrated, async |pg: &TestDb| {
            let (lite_tables, lite_indexes) = sqlite_schema(&lite.url).await?;
            let (pg_tables, pg_indexes) = postgres_schema(&pg.url).await?;
            assert!(
                lite_tables
                    .get("crm_communication_logs")
                    .is_some_and(|c| c.contains("start_time")),
                "the SQLite schema was not read: {lite_tables:?}"
            );
            assert!(
                lite_indexes.contains("idx_logs_start"),
                "the SQLite indexes were not read: {lite_indexes:?}"
            );
            assert_eq!(lite_tables, pg_tables, "tables and columns differ");
            assert_eq!(lite_indexes, pg_indexes, "indexes differ");
            Ok(())
        })
        .await
    })
    .await
}

/// Tables → columns and the named indexes, without SQLite's FTS5 tables and `row_id`.
async fn sqlite_schema(url: &str) -> Result<(Tables, BTreeSet<String>)> {
    let mut c = SqliteConnection::connect(url).await?;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut c)
    .await?;
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
            .fetch_all(&mut c)
            .await?;
    c.close().await?;
    let tables = collect(
        columns
            .into_iter()
            .filter(|(t, _)| !t.starts_with("crm_communication_logs_fts"))
            .filter(|(t, c)| !(t == "crm_communication_logs" && c == "row_id")),
    );
    Ok((tables, named(indexes)))
}

/// Tables → columns and the named indexes, without the generated `search_vector` and its index.
async fn postgres_schema(url: &str) -> Result<(Tables, BTreeSet<String>)> {
    let mut c = PgConnection::connect(url).await?;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut c)
    .await?;
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
            .fetch_all(&mut c)
            .await?;
    c.close().await?;
    let tables = collect(
        columns
            .into_iter()
            .filter(|(t, c)| !(t == "crm_communication_logs" && c == "search_vector")),
    );
    let indexes = named(indexes.into_iter().filter(|i| i != "idx_logs_search"));
    Ok((tables, indexes))
}

fn collect(columns: impl Iterator<Item = (String, String)>) -> Tables {
    let mut tables = Tables::new();
    for (table, column) in columns.filter(|(t, _)| t != "commlog_migrations") {
        tables.entry(table).or_default().insert(column);
    }
    tables
}

/// The indexes the migrations name (`idx_*`); keys' implicit indexes are named per engine.
fn named(indexes: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    indexes
        .into_iter()
        .filter(|i| i.starts_with("idx_"))
        .collect()
}
