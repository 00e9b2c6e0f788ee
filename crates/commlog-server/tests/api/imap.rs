//! IMAP mailboxes against a real Dovecot on loopback (started per test, like
//! `../shared/reference/dovecot-test.sh`): backfill from checkpoints, new mail only on the next
//! sync, a UIDVALIDITY change resynced without duplicates, push through IDLE, and a server
//! killed in the middle of a sync losing and doubling nothing.

use crate::both;
use crate::helpers::*;
use axum::http::StatusCode;
use commlog_server::capture::imap::{run_account, sync_once};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

const USER: &str = "crm@test.local";
const PASSWORD: &str = "secret";

/// A Dovecot of this test's own, in a temporary folder, on a free loopback port.
struct Dovecot {
    dir: PathBuf,
    port: u16,
}

impl Dovecot {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("commlog-dovecot-{}", Uuid::new_v4().simple()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dirs");
        }
        let d = dir.display();
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\nmail_location = maildir:~/Maildir\n\
             first_valid_uid = 1\npassdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = username_format=%u {d}/users\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             protocol imap {{\n  mail_max_userip_connections = 200\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), conf).expect("conf");
        std::fs::write(
            dir.join("users"),
            format!("{USER}:{{PLAIN}}{PASSWORD}:65534:65534::{d}/mail/{USER}::\n"),
        )
        .expect("users");
        let status = std::process::Command::new("chown")
            .args(["65534:65534", &format!("{d}/mail")])
            .status()
            .expect("chown");
        assert!(status.success());
        let dovecot = Self { dir, port };
        dovecot.up();
        dovecot
    }

    fn up(&self) {
        let status = std::process::Command::new("dovecot")
            .args(["-c", &self.dir.join("dovecot.conf").display().to_string()])
            .status()
            .expect("dovecot must be installed (Debian package dovecot-imapd)");
        assert!(status.success(), "dovecot did not start");
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "dovecot is not listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (its master and every process under it).
    fn kill(&self) {
        let pid_file = self.dir.join("run/master.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = std::process::Command::new("kill")
                .args(["-9", pid.trim()])
                .status();
            let _ = std::process::Command::new("pkill")
                .args(["-9", "-f", &self.dir.display().to_string()])
                .status();
            let _ = std::fs::remove_file(pid_file);
        }
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && t.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .expect("greeting")
            .expect("greeting");
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("login")
    }

    async fn append(&self, folder: &str, messages: &[String]) {
        let mut s = self.session().await;
        let _ = s.create(folder).await;
        for m in messages {
            s.append(folder, None, None, m.as_bytes())
                .await
                .expect("append");
        }
        let _ = s.logout().await;
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mail(n: usize) -> String {
    format!(
        "Message-ID: <imap-{n}@globex.test>\r\nFrom: Ann <ann@globex.test>\r\nTo: sales@acme.test\r\n\
         Subject: Order {n}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nPlease confirm order {n}.\r\n"
    )
}

async fn connect_account(app: &TestApp, c: &Company, port: u16, password: &str) -> Value {
    let r = app
        .post(
            "/api/mail-accounts/",
            &c.admin,
            json!({"host": "127.0.0.1", "port": port, "security": "plain", "username": USER,
                   "password": password, "folders": ["INBOX", "Sent"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(
        !r.body.to_string().contains(password),
        "the password is never shown"
    );
    r.body
}

async fn mail_count(app: &TestApp, c: &Company) -> i64 {
    let r = app
        .get(
            "/api/communication-logs/?communication_type=email&count=exact&page_size=1",
            &c.admin,
        )
        .await;
    r.body["count"].as_i64().expect("count")
}

async fn backfill_resumes_from_checkpoints_and_survives_a_uidvalidity_change(app: &TestApp) {
    let dovecot = Dovecot::start();
    let c = app.company("Acme").await;
    dovecot.append("INBOX", &[mail(1), mail(2), mail(3)]).await;
    dovecot.append("Sent", &[mail(4)]).await;
    let bad = app
        .post(
            "/api/mail-accounts/",
            &c.admin,
            json!({"host": "127.0.0.1", "username": USER}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a password is required"
    );
    let account = connect_account(app, &c, dovecot.port, PASSWORD).await;
    let id = id(&account);
    assert_eq!(account["status"], "pending");

    let first = sync_once(&app.state, c.id, id).await.expect("sync");
    assert_eq!((first.fetched, first.imported), (4, 4));
    assert_eq!(mail_count(app, &c).await, 4);
    let shown = app
        .get(&format!("/api/mail-accounts/{id}/"), &c.admin)
        .await
        .body;
    assert_eq!(shown["status"], "idle");
    let states: Vec<(Value, Value)> = shown["folder_states"]
        .as_array()
        .expect("states")
        .iter()
        .map(|s| (s["folder"].clone(), s["last_uid"].clone()))
        .collect();
    assert_eq!(
        states,
        [(json!("INBOX"), json!(3)), (json!("Sent"), json!(1))]
    );

    // Only what is new is fetched next time.
    dovecot.append("INBOX", &[mail(5)]).await;
    let second = sync_once(&app.state, c.id, id).await.expect("sync");
    assert_eq!((second.fetched, second.imported), (1, 1));
    assert_eq!(
        sync_once(&app.state, c.id, id).await.expect("sync").fetched,
        0
    );

    // The folder is recreated: a new UIDVALIDITY. It is read again, and nothing doubles.
    let mut s = dovecot.session().await;
    s.delete("Sent").await.expect("delete");
    let _ = s.logout().await;
    dovecot.append("Sent", &[mail(4), mail(6)]).await;
    let third = sync_once(&app.state, c.id, id).await.expect("sync");
    assert_eq!(third.resynced_folders, ["Sent"]);
    assert_eq!((third.imported, third.duplicates), (1, 1));
    assert_eq!(mail_count(app, &c).await, 6);

    // A wrong password: the account says so.
    let wrong = connect_account(app, &c, dovecot.port, "not-the-password").await;
    assert!(
        sync_once(&app.state, c.id, crate::helpers::id(&wrong))
            .await
            .is_err()
    );
    let shown = app
        .get(
            &format!("/api/mail-accounts/{}/", crate::helpers::id(&wrong)),
            &c.admin,
        )
        .await
        .body;
    assert_eq!(shown["status"], "error");
    assert!(
        shown["last_error"]
            .as_str()
            .expect("error")
            .contains("sign-in refused"),
        "{shown:?}"
    );
}

both!(backfill_resumes_from_checkpoints_and_survives_a_uidvalidity_change);

async fn wait_for(app: &TestApp, c: &Company, count: i64, within: Duration) -> i64 {
    let t = Instant::now();
    loop {
        let n = mail_count(app, c).await;
        if n >= count || t.elapsed() > within {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn idle_pushes_new_mail_and_a_killed_server_loses_nothing(app: &TestApp) {
    let dovecot = Dovecot::start();
    let c = app.company("Acme").await;
    dovecot.append("INBOX", &[mail(1)]).await;
    let account = connect_account(app, &c, dovecot.port, PASSWORD).await;
    let task = tokio::spawn(run_account(
        app.state.clone(),
        c.id,
        id(&account),
        Duration::from_secs(60),
        Duration::from_secs(1),
    ));
    assert_eq!(wait_for(app, &c, 1, Duration::from_secs(20)).await, 1);
    // Arrives while the task waits in IDLE: pushed, not polled (IDLE lasts 60 s here).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    dovecot.append("INBOX", &[mail(2)]).await;
    assert_eq!(wait_for(app, &c, 2, Duration::from_secs(20)).await, 2);
    assert!(t.elapsed() < Duration::from_secs(20));

    // Many messages, and the server killed while they are being synced, then restarted.
    let batch: Vec<String> = (100..180).map(mail).collect();
    dovecot.append("INBOX", &batch).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    dovecot.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    dovecot.up();
    let total = wait_for(app, &c, 82, Duration::from_secs(60)).await;
    task.abort();
    assert_eq!(total, 82, "every message exactly once");
    let logs = app
        .get(
            "/api/communication-logs/?communication_type=email&page_size=100",
            &c.admin,
        )
        .await;
    let mut ids: Vec<String> = logs.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|l| l["external_id"].as_str().unwrap_or("").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 82, "no duplicates");
}

both!(idle_pushes_new_mail_and_a_killed_server_loses_nothing);
