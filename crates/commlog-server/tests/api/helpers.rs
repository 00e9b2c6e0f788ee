//! `TestApp`: the whole HTTP application over a fresh SQLite file or a fresh PostgreSQL
//! database, driven in-process through the real router (every layer, extractor and handler).

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use commlog_domain::Role;
use commlog_server::auth::{JwtKeys, hash_password};
use commlog_server::blobs::LocalBlobStore;
use commlog_server::state::{AppState, Limits};
use commlog_store::encryption::Keyring;
use commlog_store::{ConnectOptions, NewCompany, NewUserRecord, Scope, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::{Arc, LazyLock};
use tower::ServiceExt;
use uuid::Uuid;

pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
pub const PASSWORD: &str = "correct horse battery staple";
/// Hashing is slow by design; every test user shares one hash.
static HASH: LazyLock<String> = LazyLock::new(|| hash_password(PASSWORD).expect("hash"));

enum Db {
    Sqlite(std::path::PathBuf),
    Postgres {
        admin_url: String,
        name: String,
        role: String,
        owner_url: String,
    },
}

/// The master key of encrypted test apps.
pub const TEST_MASTER_KEY: [u8; 32] = [0x6b; 32];

fn test_keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new(TEST_MASTER_KEY, &[]))
}

pub struct TestApp {
    /// The database URL, for checks that go around the API (tampering, the CLI).
    pub url: String,
    pub router: axum::Router,
    /// The application's state, for running its background jobs when a test wants them run.
    pub state: AppState,
    pub store: Arc<Store>,
    pub jwt: JwtKeys,
    /// Where the blob store keeps its files.
    pub blobs_dir: std::path::PathBuf,
    /// The keyring of encryption at rest, when it is on.
    pub keys: Option<Arc<Keyring>>,
    db: Db,
}

/// A company with an admin, as the tests use it.
pub struct Company {
    pub id: Uuid,
    pub admin_id: Uuid,
    pub admin: String,
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

fn pg_admin_url() -> String {
    std::env::var("COMMLOG_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The same URL with another user (trust authentication on the test server).
fn with_user(url: &str, user: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(scheme, rest)| rest.split_once('@').map(|(_, host)| (scheme, host)))
    {
        Some((scheme, host)) => format!("{scheme}://{user}@{host}"),
        None => url.replacen("://", &format!("://{user}@"), 1),
    }
}

fn with_database(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => format!("{url}/{db}"),
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(None).await
    }

    /// With encryption at rest on (database fields and files), under [`TEST_MASTER_KEY`].
    pub async fn sqlite_encrypted() -> Self {
        Self::sqlite_with(Some(test_keyring())).await
    }

    pub async fn postgres_encrypted() -> Self {
        Self::postgres_with(Some(test_keyring())).await
    }

    async fn sqlite_with(keys: Option<Arc<Keyring>>) -> Self {
        let dir = std::env::temp_dir().join(format!("commlog-api-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}/t.db", dir.display());
        let opts = ConnectOptions {
            encryption: keys.clone(),
            ..ConnectOptions::default()
        };
        let store = Store::connect(&url, &opts).await.expect("sqlite");
        Self::build(store, url, Db::Sqlite(dir), keys).await
    }

    /// A fresh database, migrated by the superuser, used by the application through an
    /// ordinary role of its own: neither superuser nor owner, so PostgreSQL's row-level
    /// security applies to every query the tests make the application run.
    pub async fn postgres() -> Self {
        Self::postgres_with(None).await
    }

    async fn postgres_with(keys: Option<Arc<Keyring>>) -> Self {
        use sqlx::Connection;
        let admin_url = pg_admin_url();
        let name = format!("commlog_test_{}", Uuid::new_v4().simple());
        let role = format!("{name}_app");
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL must be reachable (COMMLOG_TEST_DATABASE_URL)");
        for sql in [
            format!("CREATE DATABASE {name}"),
            format!("CREATE ROLE {role} LOGIN"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .expect("create database and role");
        }
        let owner_url = with_database(&admin_url, &name);
        let owner = Store::connect(&owner_url, &ConnectOptions::default())
            .await
            .expect("postgres");
        owner.migrate().await.expect("migrate");
        owner.close().await;
        let mut db = sqlx::PgConnection::connect(&owner_url)
            .await
            .expect("postgres");
        let grants = format!(
            "GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(grants))
            .execute(&mut db)
            .await
            .expect("grants");
        let url = with_user(&owner_url, &role);
        let opts = ConnectOptions {
            encryption: keys.clone(),
            ..ConnectOptions::default()
        };
        let store = Store::connect(&url, &opts)
            .await
            .expect("postgres as the application role");
        Self::build(
            store,
            url,
            Db::Postgres {
                admin_url,
                name,
                role,
                owner_url,
            },
            keys,
        )
        .await
    }

    async fn build(store: Store, url: String, db: Db, keys: Option<Arc<Keyring>>) -> Self {
        store.migrate().await.expect("migrate");
        let store = Arc::new(store);
        let blobs = std::env::temp_dir().join(format!("commlog-blobs-{}", Uuid::new_v4().simple()));
        let jwt = JwtKeys::from_secret(SECRET);
        let state = AppState {
            cipher: commlog_server::crypto::SecretCipher::new(
                &commlog_server::secret::Secret::new([7u8; 32]),
            ),
            store: store.clone(),
            jwt: jwt.clone(),
            blobs: {
                let local: Arc<dyn commlog_server::blobs::BlobStore> =
                    Arc::new(LocalBlobStore::new(blobs.clone()));
                match keys.clone() {
                    Some(k) => Arc::new(commlog_server::blobs::EncryptedBlobStore::new(local, k)),
                    None => local,
                }
            },
            limits: Limits {
                max_body_bytes: 2 * 1024 * 1024,
                max_attachment_bytes: 64 * 1024,
                max_recording_bytes: 1024 * 1024,
            },
            // Functional tests must never be throttled; tests/api/hardening.rs checks the limits.
            http: commlog_server::http::HttpConfig {
                rate_limit_per_minute: 1_000_000,
                login_rate_limit_per_minute: 1_000_000,
                ..Default::default()
            },
            jobs: Arc::new(tokio::sync::Notify::new()),
            mail_domain: "crm.example.com".into(),
            processing: std::sync::Arc::new(commlog_server::processing::Engines::new(
                std::env::var_os("COMMLOG_MODELS_DIR").map(std::path::PathBuf::from),
            )),
            events: Default::default(),
            ledger_dir: None,
        };
        Self {
            url,
            router: commlog_server::api::router(state.clone()),
            state,
            store,
            jwt,
            blobs_dir: blobs,
            keys,
            db,
        }
    }

    /// Everything the database holds, as bytes to search: on SQLite the database file and its
    /// write-ahead log as they are on disk; on PostgreSQL a full `pg_dump`.
    pub async fn database_dump(&self) -> Vec<u8> {
        match &self.db {
            Db::Sqlite(dir) => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(dir).expect("database dir") {
                    all.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
                }
                all
            }
            Db::Postgres { owner_url, .. } => {
                let out = std::process::Command::new("pg_dump")
                    .arg("--dbname")
                    .arg(owner_url)
                    .output()
                    .expect("pg_dump runs");
                assert!(
                    out.status.success(),
                    "pg_dump: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        }
    }

    /// Every file in the blob store, as (path, bytes).
    pub fn blob_files(&self) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    out.push((p, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.blobs_dir, &mut out);
        out
    }

    /// Runs every background job that is due (what the server's runner does continuously).
    pub async fn run_jobs(&self) -> usize {
        commlog_server::capture::runner::run_due(&self.state)
            .await
            .expect("job runner")
    }

    /// Runs SQL on the database directly, around every check of the application.
    pub async fn raw_sql(&self, sql: &str) {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("sqlite");
            sqlx::raw_sql(sql).execute(&mut c).await.expect("sql");
        } else {
            // As the owner: the application's own role could not touch rows without a tenant.
            let Db::Postgres { owner_url, .. } = &self.db else {
                panic!("not a PostgreSQL test")
            };
            let mut c = sqlx::PgConnection::connect(owner_url)
                .await
                .expect("postgres");
            sqlx::raw_sql(sql).execute(&mut c).await.expect("sql");
        }
    }

    /// Closes the store and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        match self.db {
            Db::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Db::Postgres {
                admin_url,
                name,
                role,
                ..
            } => {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    for sql in [
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        format!("DROP ROLE IF EXISTS {role}"),
                    ] {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut admin)
                            .await;
                    }
                }
            }
        }
    }

    pub async fn company(&self, name: &str) -> Company {
        let email = format!(
            "admin-{}@{}.example.com",
            Uuid::new_v4().simple(),
            name.to_lowercase()
        );
        let created = self
            .store
            .create_company(&NewCompany {
                name: name.into(),
                timezone: "UTC".into(),
                admin_email: email,
                admin_full_name: format!("{name} Admin"),
                admin_password_hash: HASH.clone(),
            })
            .await
            .expect("company");
        let admin = self.token(created.company_id, created.user_id).await;
        Company {
            id: created.company_id,
            admin_id: created.user_id,
            admin,
        }
    }

    /// Creates a user and returns (id, access token).
    pub async fn user(
        &self,
        company: &Company,
        role: Role,
        team: Option<Uuid>,
        capacity: i32,
    ) -> (Uuid, String) {
        let scope = Scope::admin(company.id, company.admin_id);
        let user = self
            .store
            .create_user(
                &scope,
                &NewUserRecord {
                    email: format!("{}-{}@example.com", role, Uuid::new_v4().simple()),
                    full_name: format!("A {role}"),
                    password_hash: HASH.clone(),
                    role,
                    team_id: team,
                    capacity,
                    is_compliance: false,
                },
            )
            .await
            .expect("user");
        let token = self.token(company.id, user.id).await;
        (user.id, token)
    }

    /// Starts a session for the user, as a sign-in would, and returns its access token.
    pub async fn token(&self, company: Uuid, user: Uuid) -> String {
        let scope = Scope::admin(company, user);
        let u = self
            .store
            .get_user(&scope, user)
            .await
            .expect("user exists");
        let session = commlog_store::NewSession {
            id: Uuid::now_v7(),
            refresh_jti: Uuid::now_v7(),
            mfa_passed: false,
            expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        self.store
            .create_session(&scope, &session)
            .await
            .expect("session");
        self.jwt
            .issue(&u, "access", Some(session.id), Uuid::now_v7())
            .expect("token")
            .0
    }

    pub async fn team(&self, company: &Company, name: &str) -> Uuid {
        let r = self
            .call(
                Method::POST,
                "/api/teams/",
                Some(&company.admin),
                Some(serde_json::json!({"name": name})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        id(&r.body)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn send(&self, req: Request<Body>) -> Response {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            body,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Creates a log through the API and returns its id.
    pub async fn log(&self, token: &str, extra: Value) -> Uuid {
        let r = self
            .post("/api/communication-logs/", token, call_body(extra))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        id(&r.body)
    }

    /// How many logs the company holds (admin sight).
    pub async fn count_logs(&self, company: &Company) -> i64 {
        let r = self
            .get("/api/communication-logs/?count=exact", &company.admin)
            .await;
        r.body["count"].as_i64().expect("count")
    }
}

/// A valid call body, with `extra` fields merged over it.
pub fn call_body(extra: Value) -> Value {
    let mut base = serde_json::json!({
        "communication_type": "call", "channel": "phone", "direction": "outbound",
        "start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:12:30Z",
        "content": "Discussed the renewal and the new pricing tiers."
    });
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
    base
}

pub fn id(v: &Value) -> Uuid {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {v}"))
}

/// The field named by the first validation error.
pub fn error_field(r: &Response) -> String {
    r.body["details"]["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Runs each test body on SQLite and on PostgreSQL: `both!(name);` needs `async fn name(app: &TestApp)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::helpers::run($crate::helpers::TestApp::sqlite().await, |a| async move { super::$name(&a).await }).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::helpers::run($crate::helpers::TestApp::postgres().await, |a| async move { super::$name(&a).await }).await;
                }
            }
        )*
    };
}

/// Runs a test body, then removes the database whether or not the body panicked.
pub async fn run<F, Fut>(app: TestApp, body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let app = Arc::new(app);
    let result = tokio::spawn(body(app.clone())).await;
    if let Ok(app) = Arc::try_unwrap(app) {
        app.finish().await;
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
