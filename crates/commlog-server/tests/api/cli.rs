//! The command line as scripts use it: each command prints one JSON object, on a fresh SQLite
//! database, through the real binary.

use serde_json::Value;
use std::process::Command;

fn commlog(db: &str, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commlog"))
        .args(args)
        .env("COMMLOG_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run commlog");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn documented_commands_print_one_json_object_each() {
    let dir = std::env::temp_dir().join(format!("commlog-cli-{}", uuid::Uuid::new_v4().simple()));
    let db = format!("sqlite://{}/cli.db", dir.display());

    let (ok, out, err) = commlog(&db, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out["migrations_applied"].as_u64().is_some_and(|n| n >= 3));

    let (ok, company, err) = commlog(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "boss@acme.example",
            "--admin-password",
            "a long password",
        ],
    );
    assert!(ok, "{err}");
    let company_id = company["company_id"]
        .as_str()
        .expect("company_id")
        .to_owned();
    assert!(company["user_id"].is_string());

    let (ok, user, err) = commlog(
        &db,
        &[
            "user",
            "create",
            "--company-id",
            &company_id,
            "--email",
            "rep@acme.example",
            "--password",
            "another long one",
            "--role",
            "sales_rep",
        ],
    );
    assert!(ok, "{err}");
    assert!(user["user_id"].is_string());

    let (ok, _, err) = commlog(
        &db,
        &[
            "user",
            "create",
            "--company-id",
            &company_id,
            "--email",
            "x@acme.example",
            "--password",
            "another long one",
            "--role",
            "overlord",
        ],
    );
    assert!(
        !ok && err.contains("sales_rep"),
        "an unknown role is refused with the choices: {err}"
    );
    let (ok, _, _) = commlog(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Weak",
            "--admin-email",
            "w@weak.example",
            "--admin-password",
            "short",
        ],
    );
    assert!(!ok, "the password policy applies on the command line too");

    let (ok, seeded, err) = commlog(&db, &["seed", "--company-id", &company_id, "--rows", "250"]);
    assert!(ok, "{err}");
    assert_eq!(seeded["inserted"], 250);

    let (ok, doc, _) = commlog(&db, &["openapi"]);
    assert!(ok);
    assert!(doc["paths"]["/api/communication-logs/"].is_object());

    // Retention: with no policy nothing happens, and the report says so.
    let data_dir = dir.join("data");
    let data = data_dir.to_str().expect("utf-8 path");
    let (ok, run, err) = commlog(&db, &["--data-dir", data, "retention", "run", "--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(run["dry_run"], true);
    assert_eq!(run["companies"][0]["archived"], 0);
    let (ok, run, err) = commlog(
        &db,
        &[
            "--data-dir",
            data,
            "retention",
            "run",
            "--company-id",
            &company_id,
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(
        (
            run["dry_run"].as_bool(),
            run["companies"][0]["purged"].as_u64()
        ),
        (Some(false), Some(0))
    );

    let (ok, verified, err) = commlog(&db, &["audit", "verify"]);
    assert!(ok, "{err}");
    assert_eq!(verified["ok"], true);

    // The seeded logs went into the analytics rollup with them; a drifted rollup is found,
    // refused with exit 1, and repaired.
    let (ok, checked, err) = commlog(&db, &["analytics", "verify", "--company-id", &company_id]);
    assert!(ok, "{err}");
    assert_eq!(checked["ok"], true);
    let (ok, _, err) = commlog(&db, &["analytics", "verify", "--since", "not a time"]);
    assert!(!ok && err.contains("since"), "{err}");
    drift_rollup(&db);
    let (ok, checked, _) = commlog(&db, &["analytics", "verify", "--repair"]);
    assert!(!ok, "a difference exits non-zero");
    assert_eq!(
        (checked["ok"].as_bool(), checked["repaired"].as_bool()),
        (Some(false), Some(true))
    );
    let (ok, checked, err) = commlog(&db, &["analytics", "verify"]);
    assert!(ok && checked["ok"] == true, "repaired: {err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn master_keys_rotate_and_report() {
    let dir = std::env::temp_dir().join(format!("commlog-cli-{}", uuid::Uuid::new_v4().simple()));
    let db = format!("sqlite://{}/cli.db", dir.display());
    let data = dir.join("data");
    let data = data.to_str().expect("utf-8 path");
    let enc = |args: &[&str]| {
        let mut all = vec!["--data-dir", data, "--encrypt-at-rest"];
        all.extend_from_slice(args);
        commlog(&db, &all)
    };
    let (ok, company, err) = enc(&[
        "company",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "keys@acme.example",
        "--admin-password",
        "a long password",
    ]);
    assert!(ok, "{err}");
    let company_id = company["company_id"].as_str().expect("company").to_owned();
    let (ok, _, err) = enc(&["seed", "--company-id", &company_id, "--rows", "5"]);
    assert!(
        !ok && err.contains("encryption at rest"),
        "bulk rows are refused in clear: {err}"
    );

    let (ok, before, err) = enc(&["keys", "status"]);
    assert!(ok, "{err}");
    let first = before["current"].as_str().expect("current").to_owned();
    let (ok, rotated, err) = enc(&["keys", "rotate"]);
    assert!(ok, "{err}");
    assert_eq!(rotated["rotated_from"], first.as_str());
    assert_ne!(rotated["current"], first.as_str());
    assert!(
        std::path::Path::new(data)
            .join("master-keys")
            .join(format!("{first}.key"))
            .exists()
    );
    let (ok, after, err) = enc(&["keys", "status"]);
    assert!(ok, "{err}");
    assert_eq!(after["known"].as_array().map(Vec::len), Some(2));
    // Every data key is wrapped by the new master key.
    let by_master = after["data_keys_by_master"].as_object().expect("map");
    assert!(by_master.keys().all(|k| *k == after["current"]), "{after}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Whether `needle` is in any file of `dir` (the database and its write-ahead log).
fn in_files(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).expect("dir").flatten().any(|e| {
        e.path().is_file()
            && std::fs::read(e.path())
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
    })
}

/// Backup, erasure, restore through the real binary on database `db`; `holds(needle)` says
/// whether the database holds `needle` anywhere (raw files, or a full dump).
fn erased_subject_stays_erased(db: &str, dir: &std::path::Path, holds: &dyn Fn(&str) -> bool) {
    let data = dir.join("data");
    let data = data.to_str().expect("utf-8 path");
    let backup = dir.join("backup");
    let run = |args: &[&str]| {
        let mut all = vec!["--data-dir", data];
        all.extend_from_slice(args);
        commlog(db, &all)
    };
    let (ok, company, err) = run(&[
        "company",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        &format!("boss-{}@acme.example", uuid::Uuid::new_v4().simple()),
        "--admin-password",
        "a long password",
    ]);
    assert!(ok, "{err}");
    let company_id = company["company_id"].as_str().expect("company").to_owned();
    let eml = dir.join("m.eml");
    std::fs::write(
        &eml,
        "From: Sam <sam.qvx3318@example.org>\r\nTo: sales@acme.example\r\nSubject: Order\r\n\
         Message-ID: <m1@example.org>\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\n\
         My reference is qvx3318, please call me back.\r\n",
    )
    .expect("eml");
    let (ok, imported, err) = run(&[
        "import",
        "eml",
        eml.to_str().expect("path"),
        "--company-id",
        &company_id,
    ]);
    assert!(ok, "{err}");
    assert_eq!(imported["imported"], 1, "{imported}");
    assert!(holds("qvx3318"));

    let (ok, made, err) = run(&["backup", "--out", backup.to_str().expect("path")]);
    assert!(ok, "{err}");
    assert!(made["files"].as_u64().is_some_and(|n| n >= 1), "{made}");
    let (ok, receipt, err) = run(&[
        "erasure",
        "--company-id",
        &company_id,
        "--email",
        "sam.qvx3318@example.org",
        "--reason",
        "Request 12",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        (receipt["status"].as_str(), receipt["logs_done"].as_i64()),
        (Some("completed"), Some(1))
    );
    assert!(!holds("qvx3318"), "erased");
    let ledger = std::fs::read_to_string(std::path::Path::new(data).join("erasure-ledger.jsonl"))
        .expect("ledger");
    assert!(!ledger.contains("qvx3318"), "the ledger names no address");

    // The backup from before the erasure: restored, then the ledger erases the subject again.
    let (ok, report, err) = run(&["restore", "--from", backup.to_str().expect("path")]);
    assert!(ok, "{err}");
    assert_eq!(report["ledger_entries"], 1, "{report}");
    assert_eq!(
        report["erasures_reapplied"][0]["erased"]["logs"], 1,
        "{report}"
    );
    assert!(
        !holds("qvx3318"),
        "a restored backup does not bring the subject back"
    );
    let (ok, verified, err) = run(&["audit", "verify"]);
    assert!(ok && verified["ok"] == true, "{err}");

    // A changed backup is refused before anything is touched.
    let file = std::fs::read_dir(&backup)
        .expect("backup")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("database."))
        })
        .expect("database file");
    let mut bytes = std::fs::read(&file).expect("backup file");
    bytes[100] ^= 1;
    std::fs::write(&file, bytes).expect("tamper");
    let (ok, _, err) = run(&["restore", "--from", backup.to_str().expect("path")]);
    assert!(!ok && err.contains("does not match"), "{err}");
}

#[test]
fn a_restored_backup_does_not_bring_an_erased_subject_back() {
    let dir = std::env::temp_dir().join(format!("commlog-cli-{}", uuid::Uuid::new_v4().simple()));
    let db_dir = dir.join("db");
    let db = format!("sqlite://{}/cli.db", db_dir.display());
    erased_subject_stays_erased(&db, &dir, &|needle| in_files(&db_dir, needle));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_restored_postgres_backup_does_not_bring_an_erased_subject_back() {
    let admin = std::env::var("COMMLOG_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("commlog_test_{}", uuid::Uuid::new_v4().simple());
    let db = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{admin}/{name}"),
    };
    let admin_sql = |sql: String| {
        let admin = admin.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.expect("postgres");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .expect("sql");
            });
        })
        .join()
        .expect("admin sql");
    };
    admin_sql(format!("CREATE DATABASE {name}"));
    let dir = std::env::temp_dir().join(format!("commlog-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let dump = |needle: &str| {
        let out = Command::new("pg_dump")
            .arg("--dbname")
            .arg(&db)
            .output()
            .expect("pg_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        erased_subject_stays_erased(&db, &dir, &dump)
    }));
    admin_sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    let _ = std::fs::remove_dir_all(dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

/// Adds one phantom log to one hour of the rollup, as a bug or a hand edit might.
fn drift_rollup(db: &str) {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db).await.expect("sqlite");
            sqlx::raw_sql("UPDATE analytics_hourly SET logs = logs + 1 WHERE rowid = (SELECT min(rowid) FROM analytics_hourly)")
                .execute(&mut c)
                .await
                .expect("drift");
        });
    })
    .join()
    .expect("drifted");
}

/// Asterisk Master.csv (18 columns): local times in the PBX's zone, a caller who is a known
/// contact, an unanswered call, a repeated record and a broken line.
const MASTER_CSV: &str = r#""","+14155550123","1001","from-internal","""Ann Buyer"" <+14155550123>","PJSIP/trunk-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001,30","2026-11-24 10:00:00","2026-11-24 10:00:05","2026-11-24 10:01:05",65,60,"ANSWERED","DOCUMENTATION","1764000000.1",""
"","+14155550199","1002","from-internal","""Bob"" <+14155550199>","PJSIP/trunk-00000003","","Dial","PJSIP/1002,30","2026-11-24 11:00:00",,"2026-11-24 11:00:20",20,0,"NO ANSWER","DOCUMENTATION","1764000000.2",""
"only","three","columns"
"","+14155550123","1001","from-internal","""Ann Buyer"" <+14155550123>","PJSIP/trunk-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001,30","2026-11-24 10:00:00","2026-11-24 10:00:05","2026-11-24 10:01:05",65,60,"ANSWERED","DOCUMENTATION","1764000000.1",""
"#;

#[tokio::test]
async fn cdr_import_matches_callers_converts_time_zones_and_is_idempotent() {
    use commlog_store::{ConnectOptions, Scope, Store};
    let dir = std::env::temp_dir().join(format!("commlog-cdr-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let db = format!("sqlite://{}/cdr.db", dir.display());
    let (ok, company, err) = commlog(
        &db,
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "boss@acme.example",
            "--admin-password",
            "a long password",
        ],
    );
    assert!(ok, "{err}");
    let company_id: uuid::Uuid = company["company_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("company");
    let admin: uuid::Uuid = company["user_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("user");
    let store = Store::connect(&db, &ConnectOptions::default())
        .await
        .expect("store");
    let scope = Scope::admin(company_id, admin);
    let contact = store
        .create_contact(
            &scope,
            &commlog_domain::ContactInput {
                full_name: Some("Ann Buyer".into()),
                phones: Some(vec!["+1 415 555 0123".into()]),
                ..Default::default()
            },
        )
        .await
        .expect("contact");
    let csv = dir.join("Master.csv");
    std::fs::write(&csv, MASTER_CSV).expect("csv");
    let id = company_id.to_string();
    let args = [
        "import",
        "cdr",
        csv.to_str().expect("path"),
        "--profile",
        "asterisk",
        "--timezone",
        "America/New_York",
        "--company-id",
        &id,
    ];
    let run = || commlog(&db, &args);
    let (ok, first, err) = run();
    assert!(ok, "{err}");
    assert_eq!(
        (
            first["imported"].as_u64(),
            first["duplicates"].as_u64(),
            first["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{first}"
    );
    assert_eq!(first["rejected_lines"][0]["line"], 3);
    let (ok, again, _) = run();
    assert!(ok);
    assert_eq!(
        (again["imported"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3)),
        "importing twice adds nothing"
    );

    let params = commlog_domain::list::LogListParams {
        ordering: Some("start_time".into()),
        ..Default::default()
    };
    let logs = store
        .list_logs(&scope, &params)
        .await
        .expect("logs")
        .results;
    assert_eq!(logs.len(), 2);
    let answered = &logs[0];
    assert_eq!(answered.source, "asterisk");
    assert_eq!(
        answered.start_time,
        time::macros::datetime!(2026-11-24 15:00 UTC),
        "10:00 in New York"
    );
    assert_eq!(answered.duration_seconds, Some(65));
    assert_eq!(
        answered.contact_id,
        Some(contact.id),
        "the caller's number found the contact"
    );
    assert!(
        logs[1].content.starts_with("Unanswered call"),
        "{}",
        logs[1].content
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
