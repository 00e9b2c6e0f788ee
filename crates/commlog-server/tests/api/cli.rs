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

    let (ok, verified, err) = commlog(&db, &["audit", "verify"]);
    assert!(ok, "{err}");
    assert_eq!(verified["ok"], true);
    let _ = std::fs::remove_dir_all(dir);
}
