//! Attachments: multipart upload with limits and checksum, listing, download, and deletion
//! with the log.

use crate::both;
use crate::helpers::*;
use crate::tenancy::{multipart, upload};
use axum::http::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

async fn upload_list_download(app: &TestApp) {
    let c = app.company("Acme").await;
    let log = app.log(&c.admin, json!({})).await;
    let data = b"minutes of the call\n";
    let att = upload(app, &c.admin, log, data).await;
    let meta = app
        .get(&format!("/api/communication-attachments/{att}/"), &c.admin)
        .await;
    assert_eq!(meta.body["file_name"], "notes.txt");
    assert_eq!(meta.body["file_type"], "text/plain");
    assert_eq!(meta.body["file_size"], data.len());
    assert_eq!(
        meta.body["checksum_sha256"],
        hex::encode(Sha256::digest(data))
    );
    let list = app
        .get(
            &format!("/api/communication-attachments/?communication_log_id={log}"),
            &c.admin,
        )
        .await;
    assert_eq!(list.body.as_array().expect("list").len(), 1);
    let dl = app
        .get(
            &format!("/api/communication-attachments/{att}/download/"),
            &c.admin,
        )
        .await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(dl.bytes, data);
    assert!(dl.headers.get("content-disposition").is_some());
    let meta = app
        .get(&format!("/api/communication-attachments/{att}/"), &c.admin)
        .await;
    assert_eq!(meta.body["download_count"], 1);

    // Files larger than the limit are refused and nothing is recorded.
    let big = vec![b'x'; 70 * 1024];
    let r = app
        .send(multipart(
            &c.admin,
            &log.to_string(),
            "big.bin",
            "application/octet-stream",
            &big,
        ))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    let r = app
        .send(multipart(
            &c.admin,
            "not-a-uuid",
            "a.txt",
            "text/plain",
            b"x",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/communication-attachments/", &c.admin)
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        1
    );

    // Deleting the log takes its attachments out of sight.
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/communication-logs/{log}/"),
            Some(&c.admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/communication-attachments/{att}/"), &c.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

both!(upload_list_download);
