//! The store's conformance suite: every test is written once against [`commlog_store::Store`]
//! and run twice, on a fresh SQLite file (`<name>_sqlite`) and on a fresh PostgreSQL database
//! (`<name>_postgres`), so that both engines keep one behaviour.
//!
//! PostgreSQL is found through `COMMLOG_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the tests create and drop their own
//! `commlog_test_*` databases there. When it cannot be reached the PostgreSQL tests fail, unless
//! `COMMLOG_TEST_SKIP_POSTGRES=1` says to skip them.

/// Writes `<name>_sqlite` and `<name>_postgres` tests that run `async fn name(db: &TestDb)`.
/// `Empty:` before the names hands the test an unmigrated database.
macro_rules! conformance {
    (Empty: $($name:ident),+ $(,)?) => {
        $(conformance!(@one Empty $name);)+
    };
    // Again with encryption at rest on: `<name>_sqlite_encrypted`, `<name>_postgres_encrypted`.
    (Encrypted: $($name:ident),+ $(,)?) => {
        $(
            pastey::paste! {
                #[tokio::test]
                async fn [<$name _sqlite_encrypted>]() -> anyhow::Result<()> {
                    crate::harness::run(crate::harness::Engine::Sqlite, crate::harness::Setup::Encrypted, $name).await
                }

                #[tokio::test]
                async fn [<$name _postgres_encrypted>]() -> anyhow::Result<()> {
                    crate::harness::run(crate::harness::Engine::Postgres, crate::harness::Setup::Encrypted, $name).await
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(conformance!(@one Migrated $name);)+
    };
    (@one $setup:ident $name:ident) => {
        pastey::paste! {
            #[tokio::test]
            async fn [<$name _sqlite>]() -> anyhow::Result<()> {
                crate::harness::run(
                    crate::harness::Engine::Sqlite,
                    crate::harness::Setup::$setup,
                    $name,
                )
                .await
            }

            #[tokio::test]
            async fn [<$name _postgres>]() -> anyhow::Result<()> {
                crate::harness::run(
                    crate::harness::Engine::Postgres,
                    crate::harness::Setup::$setup,
                    $name,
                )
                .await
            }
        }
    };
}

mod access;
mod analytics;
mod attachments;
mod capture;
mod compliance;
mod create;
mod delete;
mod email;
mod encryption;
mod fixtures;
mod harness;
mod list;
mod paging;
mod people;
mod processing;
mod reference;
mod schema;
mod search;
mod seed;
mod times;
mod update;
