//! Encryption at rest through the whole application: a marker written into a log and an
//! attachment, processed by the jobs, comes back through the API and search, and appears in
//! clear neither in a full database dump nor in the blob store; a changed byte of a file is an
//! error, never garbage; a master key rotation under concurrent writes and reads loses nothing
//! and leaves everything readable with the new key alone.

use crate::helpers::*;
use crate::tenancy::upload;
use axum::http::StatusCode;
use commlog_store::encryption::{Keyring, master_key_id};
use commlog_store::{ConnectOptions, Scope, Store};
use serde_json::json;
use std::sync::Arc;

const MARKER: &str = "wyrm5521";

fn contains(haystack: &[u8], needle: &str) -> bool {
    let hay = haystack.to_ascii_lowercase();
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn a_marker_never_rests_in_clear(app: &TestApp) {
    let c = app.company("Acme").await;
    let log = app
        .log(
            &c.admin,
            json!({"content": format!("The caller spelled {MARKER} and asked for the renewal."),
                   "participants": [{"role": "to", "phone": "+14155550166", "name": format!("Zed {MARKER}")}]}),
        )
        .await;
    let file = upload(
        app,
        &c.admin,
        log,
        format!("contract {MARKER} signed\n").as_bytes(),
    )
    .await;
    app.run_jobs().await;

    let got = app
        .get(&format!("/api/communication-logs/{log}/"), &c.admin)
        .await;
    assert!(
        got.body["content"]
            .as_str()
            .is_some_and(|t| t.contains(MARKER)),
        "{:?}",
        got.body
    );
    assert!(
        got.body["key_topics"].to_string().contains("renewal"),
        "processing ran on the plaintext: {:?}",
        got.body["key_topics"]
    );
    let found = app
        .get(
            &format!("/api/communication-logs/?search={MARKER}"),
            &c.admin,
        )
        .await;
    assert_eq!(found.body["count"], 1, "{:?}", found.body);
    let dl = app
        .get(
            &format!("/api/communication-attachments/{file}/download/"),
            &c.admin,
        )
        .await;
    assert_eq!(dl.status, StatusCode::OK);
    assert!(contains(&dl.bytes, MARKER));

    let dump = app.database_dump().await;
    assert!(
        !contains(&dump, MARKER),
        "the marker is in clear in the database"
    );
    assert!(
        !contains(&dump, "4155550166"),
        "the number is in clear in the database"
    );
    let files = app.blob_files();
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, MARKER),
            "the marker is in clear in {}",
            path.display()
        );
    }

    // A changed byte in the stored file is refused, not served as garbage.
    let (path, bytes) = &files[0];
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    std::fs::write(path, bad).expect("tamper");
    let dl = app
        .get(
            &format!("/api/communication-attachments/{file}/download/"),
            &c.admin,
        )
        .await;
    assert_eq!(
        dl.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:?}",
        dl.body
    );
    assert!(!contains(&dl.bytes, "contract"));
}

/// Rotates the master key while writers and readers keep going; afterwards a store and a blob
/// store holding only the new key read everything.
async fn rotation_under_load_loses_nothing(app: &TestApp) {
    let c = app.company("Acme").await;
    let ring = app.keys.clone().expect("encrypted app");
    let mut first = Vec::new();
    for i in 0..5 {
        // Each log under its own contact: several data keys to re-wrap.
        let contact = app
            .post(
                "/api/contacts/",
                &c.admin,
                json!({"full_name": format!("Person {i}")}),
            )
            .await;
        let log = app.log(&c.admin, json!({"contact_id": id(&contact.body), "content": format!("before rotation {i} {MARKER}")})).await;
        upload(app, &c.admin, log, format!("file {i}").as_bytes()).await;
        first.push(log);
    }
    let new_key = [0x7c; 32];
    let writer = {
        let admin = c.admin.clone();
        let app_ref: &TestApp = app;
        async move {
            let mut made = Vec::new();
            for i in 0..30 {
                made.push(
                    app_ref
                        .log(
                            &admin,
                            json!({"content": format!("during rotation {i} {MARKER}")}),
                        )
                        .await,
                );
                let r = app_ref
                    .get(
                        &format!("/api/communication-logs/?search={MARKER}&page_size=100"),
                        &admin,
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "reads keep working: {:?}", r.body);
            }
            made
        }
    };
    let rotate = async {
        tokio::task::yield_now().await;
        ring.set_current(new_key);
        let rewrapped = app.store.rewrap_data_keys(c.id).await.expect("rewrap");
        let files = commlog_server::blobs::rewrap_dir(&app.blobs_dir, &ring).expect("files");
        (rewrapped, files)
    };
    let (made, (rewrapped, files)) = tokio::join!(writer, rotate);
    assert!(rewrapped >= 5, "data keys re-wrapped: {rewrapped}");
    assert_eq!(files.1, 5, "every file re-wrapped");
    // Anything made between set_current and the end was wrapped with the new key already.
    let masters = app.store.data_key_masters(c.id).await.expect("masters");
    assert_eq!(
        masters,
        vec![(master_key_id(&new_key), masters.iter().map(|m| m.1).sum())]
    );

    // Only the new key: every log and file still opens.
    let only_new = Arc::new(Keyring::new(new_key, &[]));
    let opts = ConnectOptions {
        encryption: Some(only_new.clone()),
        ..ConnectOptions::default()
    };
    let store = Store::connect(&app.url, &opts).await.expect("connect");
    let scope = Scope::admin(c.id, c.admin_id);
    for log in first.iter().chain(&made) {
        let l = store
            .get_log(&scope, *log)
            .await
            .expect("opens with the new key");
        assert!(l.content.contains(MARKER));
    }
    let local: Arc<dyn commlog_server::blobs::BlobStore> = Arc::new(
        commlog_server::blobs::LocalBlobStore::new(app.blobs_dir.clone()),
    );
    let blobs = commlog_server::blobs::EncryptedBlobStore::new(local, only_new);
    let all = store
        .list_attachments(&scope, &Default::default())
        .await
        .expect("attachments");
    assert_eq!(all.len(), 5);
    for a in all {
        use commlog_server::blobs::BlobStore;
        assert!(
            blobs.get(&a.file_path).await.is_ok(),
            "{} opens with the new key",
            a.file_path
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marker_never_rests_in_clear_sqlite() {
    run(TestApp::sqlite_encrypted().await, |a| async move {
        a_marker_never_rests_in_clear(&a).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marker_never_rests_in_clear_postgres() {
    run(TestApp::postgres_encrypted().await, |a| async move {
        a_marker_never_rests_in_clear(&a).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_loses_nothing_sqlite() {
    run(TestApp::sqlite_encrypted().await, |a| async move {
        rotation_under_load_loses_nothing(&a).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_loses_nothing_postgres() {
    run(TestApp::postgres_encrypted().await, |a| async move {
        rotation_under_load_loses_nothing(&a).await
    })
    .await;
}
