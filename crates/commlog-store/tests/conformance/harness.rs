//! Where a conformance test runs: a fresh SQLite file in its own temporary folder, or a fresh
//! PostgreSQL database `commlog_test_<uuid>` copied from a migrated template. Whatever the test
//! does — pass, fail or panic — its database is removed before the outcome is reported.

use anyhow::{Context, Result, bail, ensure};
use commlog_store::{Backend, ConnectOptions, Store};
use futures_util::FutureExt;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

const ADMIN_URL_ENV: &str = "COMMLOG_TEST_DATABASE_URL";
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const SKIP_POSTGRES_ENV: &str = "COMMLOG_TEST_SKIP_POSTGRES";
/// Every database these tests create or drop starts with this.
const PREFIX: &str = "commlog_test_";
/// The master key of encrypted test stores.
pub const TEST_MASTER_KEY: [u8; 32] = [0x5a; 32];
/// Serialises building the template across test threads and processes.
const TEMPLATE_LOCK: i64 = 7_243_602;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// What the database holds when the test starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Migrated (and `migrate()` already called once by the harness).
    Migrated,
    /// Nothing at all: the test migrates it itself.
    Empty,
    /// Migrated, with encryption at rest on (master key [`TEST_MASTER_KEY`]).
    Encrypted,
}

/// One test's database and the store connected to it.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was connected with (for the few raw checks a test makes).
    pub url: String,
    place: Place,
}

enum Place {
    SqliteDir(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Deref for TestDb {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

/// Runs `test` on a fresh database of `engine`, removes the database, then reports the outcome
/// (a panic inside the test is re-raised after the clean-up).
pub async fn run<F>(engine: Engine, setup: Setup, test: F) -> Result<()>
where
    F: AsyncFnOnce(&TestDb) -> Result<()>,
{
    let Some(db) = TestDb::create(engine, setup).await? else {
        return Ok(());
    };
    let outcome = AssertUnwindSafe(test(&db)).catch_unwind().await;
    let cleaned = db.destroy().await;
    match outcome {
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(result) => {
            result?;
            cleaned
        }
    }
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL tests are explicitly skipped.
    pub async fn create(engine: Engine, setup: Setup) -> Result<Option<Self>> {
        let db = match engine {
            Engine::Sqlite => Self::sqlite(setup).await?,
            Engine::Postgres => match Self::postgres(setup).await? {
                Some(db) => db,
                None => return Ok(None),
            },
        };
        if setup != Setup::Empty
            && let Err(e) = db.store.migrate().await
        {
            db.destroy().await?;
            return Err(e).context("migrating the test database");
        }
        Ok(Some(db))
    }

    async fn sqlite(setup: Setup) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let url = format!("sqlite://{}/t.db", dir.display());
        let store = match Store::connect(&url, &options(setup)).await {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e).context("opening the SQLite test database");
            }
        };
        Ok(Self {
            store,
            url,
            place: Place::SqliteDir(dir),
        })
    }

    async fn postgres(setup: Setup) -> Result<Option<Self>> {
        let admin_url =
            std::env::var(ADMIN_URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let Some(mut admin) = admin_connection(&admin_url).await? else {
            return Ok(None);
        };
        let name = format!("{PREFIX}{}", Uuid::now_v7().simple());
        let template = match setup {
            Setup::Migrated | Setup::Encrypted => template(&mut admin, &admin_url).await?,
            Setup::Empty => "template0".to_owned(),
        };
        execute(
            &mut admin,
            format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
        )
        .await
        .with_context(|| format!("creating database {name}"))?;
        admin.close().await?;
        let url = with_database(&admin_url, &name);
        let store = match Store::connect(&url, &options(setup)).await {
            Ok(s) => s,
            Err(e) => {
                drop_database(&admin_url, &name).await?;
                return Err(e).context("connecting to the PostgreSQL test database");
            }
        };
        Ok(Some(Self {
            store,
            url,
            place: Place::Postgres { admin_url, name },
        }))
    }

    /// Closes the store and removes the database.
    pub async fn destroy(self) -> Result<()> {
        self.store.close().await;
        match self.place {
            Place::SqliteDir(dir) => {
                std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))
            }
            Place::Postgres { admin_url, name } => drop_database(&admin_url, &name).await,
        }
    }

    /// Where `needle` (case-insensitive) still appears in the database: on SQLite in the raw
    /// bytes of the database file and its write-ahead log (free pages and the full-text index
    /// included); on PostgreSQL in any row of any table, read as a full dump would read it.
    pub async fn places_holding(&self, needle: &str) -> Result<Vec<String>> {
        let needle = needle.to_lowercase();
        let mut found = Vec::new();
        match &self.place {
            Place::SqliteDir(dir) => {
                for entry in std::fs::read_dir(dir)? {
                    let path = entry?.path();
                    let bytes = std::fs::read(&path)?.to_ascii_lowercase();
                    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        found.push(path.display().to_string());
                    }
                }
            }
            Place::Postgres { .. } => {
                let mut c = PgConnection::connect(&self.url).await?;
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .fetch_all(&mut c)
                .await?;
                for t in tables {
                    let sql =
                        format!("SELECT count(*) FROM \"{t}\" x WHERE lower(x::text) LIKE $1");
                    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                        .bind(format!("%{needle}%"))
                        .fetch_one(&mut c)
                        .await?;
                    if n > 0 {
                        found.push(t);
                    }
                }
                c.close().await?;
            }
        }
        Ok(found)
    }

    /// Runs one statement straight on the database (`sql` takes one `$1` id), for tampering.
    pub async fn raw_execute(&self, sql: &'static str, id: Uuid) -> Result<u64> {
        Ok(match self.store.backend() {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await?;
                let n = sqlx::query(sql)
                    .bind(id)
                    .execute(&mut c)
                    .await?
                    .rows_affected();
                c.close().await?;
                n
            }
            Backend::Postgres => {
                let mut c = PgConnection::connect(&self.url).await?;
                let n = sqlx::query(sql)
                    .bind(id)
                    .execute(&mut c)
                    .await?
                    .rows_affected();
                c.close().await?;
                n
            }
        })
    }

    /// Reads one boolean straight from the database, for state the store does not expose
    /// (`sql` takes one `$1` id).
    pub async fn raw_bool(&self, sql: &'static str, id: Uuid) -> Result<Option<bool>> {
        Ok(match self.store.backend() {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await?;
                let v = sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_optional(&mut c)
                    .await?;
                c.close().await?;
                v
            }
            Backend::Postgres => {
                let mut c = PgConnection::connect(&self.url).await?;
                let v = sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_optional(&mut c)
                    .await?;
                c.close().await?;
                v
            }
        })
    }
}

/// The store's options for a setup: encryption at rest for [`Setup::Encrypted`].
fn options(setup: Setup) -> ConnectOptions {
    ConnectOptions {
        encryption: (setup == Setup::Encrypted).then(|| {
            std::sync::Arc::new(commlog_store::encryption::Keyring::new(
                TEST_MASTER_KEY,
                &[],
            ))
        }),
        ..ConnectOptions::default()
    }
}

/// Connects to the PostgreSQL server, or says loudly why not (unless told to skip).
async fn admin_connection(admin_url: &str) -> Result<Option<PgConnection>> {
    let connected =
        tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(admin_url)).await;
    let error = match connected {
        Ok(Ok(conn)) => return Ok(Some(conn)),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out after 10 s".to_owned(),
    };
    if std::env::var(SKIP_POSTGRES_ENV).as_deref() == Ok("1") {
        eprintln!("skipping a PostgreSQL conformance test ({SKIP_POSTGRES_ENV}=1): {error}");
        return Ok(None);
    }
    bail!(
        "PostgreSQL is unreachable at {admin_url} ({error}). Start it, point {ADMIN_URL_ENV} at \
         a server, or set {SKIP_POSTGRES_ENV}=1 to skip the PostgreSQL half of the suite."
    )
}

/// The migrated template database for the current migrations, built once (its name carries a
/// hash of the migration files, so a changed migration gets a new template).
async fn template(admin: &mut PgConnection, admin_url: &str) -> Result<String> {
    let name = format!("{PREFIX}tpl_{}", migrations_hash()?);
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await?;
    let built = build_template(admin, admin_url, &name).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await?;
    built.map(|()| name)
}

async fn build_template(admin: &mut PgConnection, admin_url: &str, name: &str) -> Result<()> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut *admin)
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    // Built under another name and renamed when complete: a run that dies half-way never
    // leaves a half-migrated template behind.
    let building = format!("{name}_building");
    drop_database(admin_url, &building).await?;
    execute(admin, format!("CREATE DATABASE \"{building}\"")).await?;
    let store = Store::connect(
        &with_database(admin_url, &building),
        &ConnectOptions::default(),
    )
    .await?;
    let migrated = store.migrate().await;
    store.close().await;
    migrated.context("migrating the template database")?;
    execute(
        admin,
        format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    )
    .await?;
    // Templates of earlier migrations are of no further use. Dropped without FORCE: one that
    // another checkout's tests are copying right now stays, and goes next time.
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'commlog\\_test\\_tpl\\_%' AND datname <> $1 AND datname NOT LIKE '%\\_building'",
    )
    .bind(name)
    .fetch_all(&mut *admin)
    .await?;
    for old in stale {
        let _ = execute(admin, format!("DROP DATABASE IF EXISTS \"{old}\"")).await;
    }
    Ok(())
}

fn migrations_hash() -> Result<String> {
    let dir = PathBuf::from(manifest_dir()).join("migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut hash = Sha256::new();
    for f in files {
        hash.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update(std::fs::read(&f)?);
    }
    Ok(hex::encode(&hash.finalize()[..8]))
}

async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    ensure!(
        name.starts_with(PREFIX),
        "refusing to drop {name}: not a test database"
    );
    let mut admin = PgConnection::connect(admin_url).await?;
    execute(
        &mut admin,
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await
    .with_context(|| format!("dropping database {name}"))?;
    admin.close().await?;
    Ok(())
}

async fn execute(conn: &mut PgConnection, sql: String) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// `admin_url` with its database replaced by `name` (query parameters kept).
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// This crate's directory as cargo gives it to the running test (a build shared between two
/// checkouts must not read the other checkout's files).
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
}
