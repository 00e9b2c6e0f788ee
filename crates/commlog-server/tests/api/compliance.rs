//! Compliance over the API: a subject access export holds everything about the person with a
//! manifest of hashes; an erasure refused under legal hold, then carried out by the job runner,
//! leaves none of the person's markers in a full database dump or in any blob; retention's dry
//! run equals its run; archived logs are for compliance eyes only.

use crate::both;
use crate::helpers::*;
use crate::tenancy::upload;
use axum::http::StatusCode;
use commlog_domain::Role;
use commlog_domain::records::UserPatch;
use commlog_store::Scope;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;
use uuid::Uuid;

const MARKER: &str = "qzvk4482";
const PHONE: &str = "+14155550177";

/// A manager with the compliance capability.
pub async fn compliance_officer(app: &TestApp, c: &Company) -> String {
    let (id, _) = app.user(c, Role::Manager, None, 10).await;
    let patch = UserPatch {
        is_compliance: Some(true),
        ..UserPatch::default()
    };
    app.store
        .update_user(&Scope::admin(c.id, c.admin_id), id, &patch)
        .await
        .expect("compliance capability");
    app.token(c.id, id).await
}

/// Reads files of a ZIP answer by name (panicking on a missing one).
fn unzip(bytes: Vec<u8>) -> impl FnMut(&str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    move |name: &str| {
        let mut f = zip
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} in the export"));
        let mut out = Vec::new();
        f.read_to_end(&mut out).expect("read");
        out
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let hay = haystack.to_ascii_lowercase();
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The subject's data in every form: contact, a call with a transcript and a recording, an e-mail they sent, a
/// text from their number with an attachment, all processed (topics, PII spans, sentiment).
async fn subject(app: &TestApp, c: &Company) -> (Uuid, Vec<Uuid>, Uuid) {
    let contact = app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": format!("Bea {MARKER}"), "emails": [format!("bea.{MARKER}@example.org")], "phones": [PHONE]}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{:?}", contact.body);
    let contact = id(&contact.body);
    let call = app
        .log(
            &c.admin,
            json!({"contact_id": contact, "subject": format!("Renewal {MARKER}"),
                   "content": format!("Bea asked about the {MARKER} renewal and the {MARKER} invoice."),
                   "transcription": format!("Agent: Hello. Customer: my reference is {MARKER}.")}),
        )
        .await;
    let mail = app
        .log(
            &c.admin,
            json!({"communication_type": "email", "channel": "email", "direction": "inbound",
                   "subject": "Order question", "content": format!("Hello, the code {MARKER} does not work."),
                   "participants": [{"role": "from", "email": format!("bea.{MARKER}@example.org"), "name": "Bea"}]}),
        )
        .await;
    let text = app
        .log(
            &c.admin,
            json!({"communication_type": "sms", "channel": "sms", "direction": "inbound",
                   "content": format!("Please call me back about {MARKER} tomorrow"),
                   "participants": [{"role": "from", "phone": PHONE}]}),
        )
        .await;
    let file = format!("scan of {MARKER} contract\n");
    upload(app, &c.admin, text, file.as_bytes()).await;
    // The call's recording: audio bytes with the marker in them.
    let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    wav.extend_from_slice(format!("recording of {MARKER}").as_bytes());
    let r = app
        .send(crate::tenancy::multipart(
            &c.admin,
            &call.to_string(),
            "call-recording.wav",
            "audio/x-wav",
            &wav,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let other = app
        .log(
            &c.admin,
            json!({"content": "A different customer called about invoices."}),
        )
        .await;
    app.run_jobs().await;
    (contact, vec![call, mail, text], other)
}

async fn export_then_erase_leaves_nothing_behind(app: &TestApp) {
    let c = app.company("Acme").await;
    let officer = compliance_officer(app, &c).await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 10).await;
    let (contact, logs, other) = subject(app, &c).await;
    assert!(
        contains(&app.database_dump().await, MARKER),
        "the marker is stored"
    );

    // Only compliance officers handle subject requests.
    for token in [&rep, &c.admin] {
        let r = app
            .post(
                "/api/subject-requests/export/",
                token,
                json!({"contact_id": contact}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    }
    let r = app
        .post(
            "/api/subject-requests/export/",
            &officer,
            json!({"contact_id": contact, "email": "x@y.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The export: every log, the transcript, the file, and a manifest whose hashes hold.
    let r = app
        .post(
            "/api/subject-requests/export/",
            &officer,
            json!({"phone": "+1 415 555 0177"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/zip");
    let mut read = unzip(r.bytes);
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).expect("manifest");
    assert_eq!(manifest["counts"]["logs"], 3);
    assert_eq!(
        manifest["counts"]["files"], 2,
        "the attachment and the recording"
    );
    let files = manifest["files"].as_array().expect("files");
    for f in files {
        let bytes = read(f["path"].as_str().expect("path"));
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(&bytes)), "{f}");
    }
    for l in &logs {
        let log: Value = serde_json::from_slice(&read(&format!("logs/{l}.json"))).expect("log");
        assert_eq!(log["id"], l.to_string());
    }
    assert!(contains(
        &read(&format!("logs/{}/transcript.txt", logs[0])),
        MARKER
    ));
    assert!(
        files
            .iter()
            .any(|f| f["path"].as_str().is_some_and(|p| p.contains("/files/")))
    );
    let subject: Value = serde_json::from_slice(&read("subject.json")).expect("subject");
    assert_eq!(subject["contacts"][0]["id"], contact.to_string());
    assert!(!files.iter().any(|f| {
        f["path"]
            .as_str()
            .is_some_and(|p| p.contains(&other.to_string()))
    }));

    // A legal hold on one of the logs refuses the erasure and names itself.
    let hold = app
        .post(
            "/api/legal-holds/",
            &officer,
            json!({"target_type": "log", "target_id": logs[1], "reason": "Dispute 7"}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{:?}", hold.body);
    let hold_id = id(&hold.body);
    let erase = json!({"contact_id": contact, "reason": "Art. 17 request 2026-31"});
    let r = app
        .post("/api/subject-requests/erasures/", &officer, erase.clone())
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.body["error_code"], "legal_hold");
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&hold_id.to_string()) && m.contains("Dispute 7"))
    );
    let r = app
        .post(
            &format!("/api/legal-holds/{hold_id}/release/"),
            &officer,
            json!({"reason": "Settled"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["released_at"].is_string());

    // Accepted, then carried out by the job runner.
    let r = app
        .post("/api/subject-requests/erasures/", &officer, erase)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["logs_total"], 3);
    let request = id(&r.body);
    app.run_jobs().await;
    let done = app
        .get(
            &format!("/api/subject-requests/erasures/{request}/"),
            &officer,
        )
        .await;
    assert_eq!(done.body["status"], "completed", "{:?}", done.body);
    assert_eq!(done.body["logs_done"], 3);
    assert_eq!(done.body["receipt"]["contacts"], 1);
    assert_eq!(done.body["receipt"]["files"], 2);

    // Nothing of the person is left: not in a full dump, not in any blob.
    let dump = app.database_dump().await;
    assert!(
        !contains(&dump, MARKER),
        "the marker survives in the database dump"
    );
    assert!(
        !contains(&dump, "4155550177"),
        "the number survives in the database dump"
    );
    for (path, bytes) in app.blob_files() {
        assert!(
            !contains(&bytes, MARKER),
            "the marker survives in {}",
            path.display()
        );
    }
    assert_eq!(
        app.get(&format!("/api/contacts/{contact}/"), &officer)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for l in &logs {
        assert_eq!(
            app.get(&format!("/api/communication-logs/{l}/"), &officer)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.get(&format!("/api/communication-logs/{other}/"), &officer)
            .await
            .status,
        StatusCode::OK
    );
    // Searching for the person finds nothing any more.
    let r = app
        .get(
            &format!("/api/communication-logs/?search={MARKER}&archived=include"),
            &officer,
        )
        .await;
    assert_eq!(r.body["count"], 0, "{:?}", r.body);
    // The receipt is in the audit trail, without the erased data.
    let audit = app.get("/api/audit/?action=erase", &officer).await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.body);
    let entries = audit.body.get("results").unwrap_or(&audit.body).clone();
    assert!(entries.to_string().contains(&request.to_string()));
    assert!(!entries.to_string().contains(MARKER));
}

async fn retention_over_the_api(app: &TestApp) {
    let c = app.company("Acme").await;
    let officer = compliance_officer(app, &c).await;
    let (_, rep) = app.user(&c, Role::SalesRep, None, 10).await;
    let old = app
        .log(
            &c.admin,
            json!({"start_time": "2024-01-10T10:00:00Z", "end_time": "2024-01-10T10:05:00Z"}),
        )
        .await;
    let recent = app
        .log(
            &c.admin,
            json!({"start_time": "2026-01-10T10:00:00Z", "end_time": "2026-01-10T10:05:00Z"}),
        )
        .await;
    let r = app
        .post(
            "/api/retention-policies/",
            &officer,
            json!({"name": "Calls", "archive_after_days": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "archive_after_days");
    let r = app
        .post(
            "/api/retention-policies/",
            &rep,
            json!({"name": "Calls", "archive_after_days": 30}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Archive everything older than 30 days, purge after ten years: `old` and `recent` archive.
    let r = app
        .post("/api/retention-policies/", &officer, json!({"name": "Calls", "communication_type": "call", "archive_after_days": 30, "delete_after_days": 3650}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let dry = app
        .post("/api/retention/run/", &officer, json!({"dry_run": true}))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    let mut expected = vec![old.to_string(), recent.to_string()];
    expected.sort();
    let mut archived: Vec<String> = dry.body["archived"]
        .as_array()
        .expect("archived")
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_owned())
        .collect();
    archived.sort();
    assert_eq!(archived, expected);
    assert_eq!(
        app.get("/api/communication-logs/", &c.admin).await.body["count"],
        2,
        "a dry run changes nothing"
    );
    let real = app.post("/api/retention/run/", &officer, json!({})).await;
    assert_eq!(real.body["archived"].as_array().map(Vec::len), Some(2));
    assert_eq!(real.body["dry_run"], false);
    assert_eq!(
        app.get("/api/communication-logs/", &c.admin).await.body["count"],
        0
    );
    let r = app
        .get("/api/communication-logs/?archived=only", &rep)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get("/api/communication-logs/?archived=only", &officer)
        .await;
    assert_eq!(r.body["count"], 2);
    let r = app
        .get("/api/communication-logs/?archived=sometimes", &officer)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // An archived log is still there for whoever may see it.
    assert_eq!(
        app.get(&format!("/api/communication-logs/{old}/"), &c.admin)
            .await
            .status,
        StatusCode::OK
    );
    let audit = app
        .get("/api/audit/?action=retention_archive", &officer)
        .await;
    let entries = audit
        .body
        .get("results")
        .unwrap_or(&audit.body)
        .as_array()
        .map(Vec::len);
    assert_eq!(entries, Some(2));
}

/// A regulator export of a period: every log of it (a deleted one too) and its files, the
/// audit trail, and a manifest whose hashes hold and whose signature verifies with the published
/// key — and stops verifying when the manifest is changed.
async fn regulator_export_is_signed_and_complete(app: &TestApp) {
    let c = app.company("Acme").await;
    let officer = compliance_officer(app, &c).await;
    let in_period = app
        .log(
            &c.admin,
            json!({"start_time": "2026-02-10T10:00:00Z", "end_time": "2026-02-10T10:05:00Z"}),
        )
        .await;
    let deleted = app
        .log(
            &c.admin,
            json!({"start_time": "2026-02-11T10:00:00Z", "end_time": "2026-02-11T10:05:00Z"}),
        )
        .await;
    upload(app, &c.admin, in_period, b"recording bytes").await;
    let r = app
        .call(
            axum::http::Method::DELETE,
            &format!("/api/communication-logs/{deleted}/"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let outside = app
        .log(
            &c.admin,
            json!({"start_time": "2026-04-01T10:00:00Z", "end_time": "2026-04-01T10:05:00Z"}),
        )
        .await;
    app.store.seal_audit(1000).await.expect("seal");

    let period = json!({"since": "2026-02-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"});
    let r = app
        .post(
            "/api/compliance/regulator-export/",
            &c.admin,
            period.clone(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "administrators are not compliance officers"
    );
    let r = app
        .post(
            "/api/compliance/regulator-export/",
            &officer,
            json!({"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (r.status, error_field(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "until".to_owned())
    );
    let r = app
        .post("/api/compliance/regulator-export/", &officer, period)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut read = unzip(r.bytes);
    let manifest_bytes = read("manifest.json");
    let signature = read("manifest.sig");
    let manifest: Value = serde_json::from_slice(&manifest_bytes).expect("manifest");
    assert_eq!(manifest["counts"]["logs"], 2, "{manifest}");
    assert_eq!(manifest["counts"]["files"], 1);
    assert_eq!(manifest["audit_chain"]["intact"], true);
    for f in manifest["files"].as_array().expect("files") {
        let bytes = read(f["path"].as_str().expect("path"));
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(&bytes)), "{f}");
    }
    assert!(
        read(&format!("logs/{deleted}.json")).len() > 10,
        "deleted logs are communications too"
    );
    let audit: Value = serde_json::from_slice(&read("audit.json")).expect("audit");
    assert!(!audit.as_array().expect("entries").is_empty());
    let all: Vec<String> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_owned))
        .collect();
    assert!(!all.iter().any(|p| p.contains(&outside.to_string())));

    // The signature verifies with the published key, and fails on a changed manifest.
    let key = app.get("/api/compliance/signing-key/", &officer).await;
    assert_eq!(key.body["public_key"], manifest["signature"]["public_key"]);
    use base64::Engine as _;
    let public = base64::engine::general_purpose::STANDARD
        .decode(key.body["public_key"].as_str().expect("key"))
        .expect("b64");
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&signature)
        .expect("b64 signature");
    let verifier = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public);
    assert!(verifier.verify(&manifest_bytes, &sig).is_ok());
    let mut forged = manifest_bytes.clone();
    let at = forged.iter().position(|b| *b == b'2').expect("a digit");
    forged[at] = b'3';
    assert!(verifier.verify(&forged, &sig).is_err());
}

/// Consent to automatic processing: a refusal stops it (the run says why), an unknown answer
/// does not — until the company requires consent, when only a yes lets it run. Changes of
/// consent are in the audit trail with their values.
async fn processing_follows_the_contacts_consent(app: &TestApp) {
    let c = app.company("Acme").await;
    let admin: &str = &c.admin;
    let contact = |consent: Value| {
        let body = json!({"full_name": "Pat", "processing_consent": consent});
        async move {
            let r = app.post("/api/contacts/", admin, body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            assert_eq!(r.body["processing_consent"], consent);
            id(&r.body)
        }
    };
    let (refused, unknown, agreed) = (
        contact(json!(false)).await,
        contact(Value::Null).await,
        contact(json!(true)).await,
    );
    let content = "I am really unhappy, this is terrible service and I want a refund.";
    let processed = |log: Uuid| async move {
        let runs = app
            .get(&format!("/api/communication-logs/{log}/processing/"), admin)
            .await;
        let runs = runs.body["runs"].as_array().cloned().unwrap_or_default();
        let skipped = runs
            .iter()
            .any(|r| r["step"] == "consent" && r["status"] == "skipped");
        let sentiment = app
            .get(&format!("/api/communication-logs/{log}/"), admin)
            .await
            .body["sentiment"]
            .clone();
        (skipped, sentiment.is_null())
    };
    let logs: Vec<Uuid> = futures_util::future::join_all(
        [refused, unknown, agreed]
            .map(|who| app.log(admin, json!({"contact_id": who, "content": content}))),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        processed(logs[0]).await,
        (true, true),
        "a refusal stops processing"
    );
    assert_eq!(
        processed(logs[1]).await,
        (false, false),
        "no answer: the company's default (allowed)"
    );
    assert_eq!(processed(logs[2]).await, (false, false));

    let mut settings = app
        .get("/api/company/processing-settings/", admin)
        .await
        .body;
    settings["consent_required"] = json!(true);
    settings.as_object_mut().map(|o| o.remove("transcription"));
    let r = app
        .call(
            axum::http::Method::PUT,
            "/api/company/processing-settings/",
            Some(admin),
            Some(settings),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let later: Vec<Uuid> = futures_util::future::join_all(
        [unknown, agreed].map(|who| app.log(admin, json!({"contact_id": who, "content": content}))),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        processed(later[0]).await,
        (true, true),
        "consent required: no answer is no"
    );
    assert_eq!(processed(later[1]).await, (false, false));

    let r = app
        .patch(
            &format!("/api/contacts/{unknown}/"),
            admin,
            json!({"processing_consent": true}),
        )
        .await;
    assert_eq!(r.body["processing_consent"], true, "{:?}", r.body);
    let audit = app
        .get(
            &format!("/api/audit/?entity_id={unknown}&action=update"),
            admin,
        )
        .await;
    assert!(
        audit.body.to_string().contains("processing_consent"),
        "{:?}",
        audit.body
    );
}

/// Personal data is shown only with the `view_pii` permission: an API token scoped without it
/// reads addresses, numbers and names masked in the log, its participants and the analytics;
/// one with it, and a role the company does not mask, read them as they are.
async fn pii_needs_its_permission(app: &TestApp) {
    let c = app.company("Acme").await;
    let log = app
        .log(
            &c.admin,
            json!({"content": "Write to ann.pii@example.com or call +1 415 555 0111 about the refund, it was awful.",
                   "participants": [{"role": "to", "email": "ann.pii@example.com", "name": "Ann Pii"}]}),
        )
        .await;
    app.run_jobs().await;
    let admin: &str = &c.admin;
    let token = |permissions: Value| async move {
        let r = app
            .post(
                "/api/api-tokens/",
                admin,
                json!({"name": "t", "role": "manager", "permissions": permissions}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["token"].as_str().expect("token").to_owned()
    };
    let masked = token(json!(["read_logs", "read_company_analytics"])).await;
    let plain = token(json!(["read_logs", "read_company_analytics", "view_pii"])).await;
    let path = format!("/api/communication-logs/{log}/");
    let seen = app.get(&path, &masked).await.body;
    assert!(!seen.to_string().contains("ann.pii@example.com"), "{seen}");
    assert!(!seen.to_string().contains("555 0111"), "{seen}");
    assert!(
        seen["content"]
            .as_str()
            .is_some_and(|t| t.contains("[EMAIL]")),
        "{seen}"
    );
    assert_eq!(seen["participants"][0]["email"], "[EMAIL]");
    assert_eq!(seen["participants"][0]["name"], "[NAME]");
    let parts = app.get(&format!("{path}participants/"), &masked).await.body;
    assert!(!parts.to_string().contains("ann.pii"), "{parts}");
    let listed = app.get("/api/communication-logs/", &masked).await.body;
    assert!(
        !listed.to_string().contains("ann.pii@example.com"),
        "{listed}"
    );
    let report = app
        .get(
            "/api/analytics/sentiment/?since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z",
            &masked,
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{:?}", report.body);
    assert!(!report.body.to_string().contains("ann.pii@example.com"));
    let full = app.get(&path, &plain).await.body;
    assert!(
        full["content"]
            .as_str()
            .is_some_and(|t| t.contains("ann.pii@example.com")),
        "{full}"
    );
    assert_eq!(full["participants"][0]["email"], "ann.pii@example.com");
    assert!(
        app.get(&path, &c.admin)
            .await
            .body
            .to_string()
            .contains("ann.pii@example.com")
    );
}

/// Hostile and malformed input to every compliance endpoint gets a clear 4xx with an error
/// code, and changes nothing.
async fn compliance_endpoints_refuse_bad_input(app: &TestApp) {
    let c = app.company("Acme").await;
    let officer = compliance_officer(app, &c).await;
    let raw = |method: axum::http::Method, path: &str, body: &'static str| {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {officer}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .expect("request")
    };
    let unknown = Uuid::now_v7();
    let posts = [
        "/api/legal-holds/",
        "/api/retention-policies/",
        "/api/retention/run/",
        "/api/subject-requests/export/",
        "/api/subject-requests/erasures/",
        "/api/compliance/regulator-export/",
    ];
    for path in posts {
        for body in [
            "{not json",
            "[1,2]",
            "{\"nope\": 1}",
            "{\"reason\": 5, \"since\": \"yesterday\"}",
            r#""\u0000""#,
        ] {
            let r = app.send(raw(axum::http::Method::POST, path, body)).await;
            assert!(
                r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {body}: {} {:?}",
                r.status,
                r.body
            );
            assert!(
                r.body["error_code"].is_string(),
                "{path} {body}: {:?}",
                r.body
            );
        }
    }
    let r = app
        .send(raw(
            axum::http::Method::POST,
            &format!("/api/legal-holds/{unknown}/release/"),
            "{}",
        ))
        .await;
    assert!(r.status.is_client_error(), "{:?}", r.body);
    let r = app
        .send(raw(
            axum::http::Method::PUT,
            &format!("/api/retention-policies/{unknown}/"),
            "{\"name\": \"x\"}",
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a policy that neither archives nor deletes: {:?}",
        r.body
    );
    let r = app
        .get("/api/legal-holds/?include_released=perhaps", &officer)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    // Hostile values inside well-formed bodies.
    for body in [
        json!({"target_type": "log", "target_id": unknown, "reason": "x"}),
        json!({"target_type": "query", "query": {}, "reason": "x"}),
        json!({"target_type": "customer", "target_id": null, "reason": "x"}),
        json!({"target_type": "contact", "target_id": unknown, "reason": "x".repeat(3000)}),
    ] {
        let r = app.post("/api/legal-holds/", &officer, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
    }
    for body in [
        json!({"email": "not an address", "reason": "x"}),
        json!({"phone": "call me maybe", "reason": "x"}),
        json!({"email": "a@b.example", "phone": "+14155550100", "reason": "x"}),
    ] {
        let r = app
            .post("/api/subject-requests/erasures/", &officer, body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
    }
    let r = app
        .post(
            "/api/subject-requests/erasures/",
            &officer,
            json!({"contact_id": unknown, "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            "/api/compliance/regulator-export/",
            &officer,
            json!({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (r.status, error_field(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "until".to_owned())
    );
    // Nothing was made by any of it.
    for path in [
        "/api/legal-holds/?include_released=true",
        "/api/retention-policies/",
        "/api/subject-requests/erasures/",
    ] {
        let r = app.get(path, &officer).await;
        assert_eq!(
            r.body.as_array().map(Vec::len),
            Some(0),
            "{path}: {:?}",
            r.body
        );
    }
}

both!(
    compliance_endpoints_refuse_bad_input,
    pii_needs_its_permission,
    processing_follows_the_contacts_consent,
    export_then_erase_leaves_nothing_behind,
    retention_over_the_api,
    regulator_export_is_signed_and_complete
);
