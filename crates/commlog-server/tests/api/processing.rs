//! Automatic processing through the API: a log is analysed by the job its creation queued
//! (language, PII, sentiment, topics, follow-up, escalation), each step is on record with its
//! engine, re-processing is one call, settings and rules are checked, categories are chosen
//! from examples, overdue follow-ups are swept, and recordings are transcribed locally.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// The newest record of `step` on a log.
async fn latest_run(app: &TestApp, token: &str, log: Uuid, step: &str) -> Value {
    let p = app
        .get(&format!("/api/communication-logs/{log}/processing/"), token)
        .await;
    p.body["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["step"] == step)
        .cloned()
        .unwrap_or_else(|| panic!("no {step} run in {}", p.body))
}

async fn set_processing(app: &TestApp, token: &str, settings: Value) -> Response {
    app.call(
        Method::PUT,
        "/api/company/processing-settings/",
        Some(token),
        Some(settings),
    )
    .await
}

/// Keeps `data` as an audio attachment of `log`, through the one path every attachment takes
/// (the test server's upload limit is small).
async fn attach_audio(app: &TestApp, a: &Company, log: Uuid, data: Vec<u8>) {
    let scope = commlog_store::Scope::admin(a.id, a.admin_id);
    let file = commlog_server::attach::NewFile {
        log_id: log,
        name: "voicemail.wav".into(),
        file_type: "audio/wav",
        data: data.into(),
        is_internal: false,
    };
    commlog_server::attach::attach(&app.state.store, app.state.blobs.as_ref(), &scope, file)
        .await
        .expect("attached");
}

/// Turns on transcription for the company's phone channel.
async fn phone_channel_transcribes(app: &TestApp, a: &Company) {
    let channels = app.get("/api/channel-configurations/", &a.admin).await;
    let phone = channels
        .body
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["channel_code"] == "phone"))
        .map(id)
        .expect("every company has a phone channel");
    let r = app
        .patch(
            &format!("/api/channel-configurations/{phone}/"),
            &a.admin,
            json!({"auto_transcription": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn soon() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

fn steps(r: &Response) -> Vec<String> {
    r.body["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["step"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn a_new_log_is_analysed_in_the_background(app: &TestApp) {
    let a = app.company("Acme").await;
    let log = app
        .log(
            &a.admin,
            json!({"start_time": soon(), "end_time": null, "priority": "high",
                "content": "The customer is furious: the delivery was late again and the invoice is wrong. \
                            This is terrible service and they want to cancel the contract. \
                            Call me back tomorrow at jane.doe@example.com or +1 415 555 0132."}),
        )
        .await;
    let before = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert!(
        before.body["sentiment"].is_null(),
        "analysed only by the job"
    );
    assert!(app.run_jobs().await >= 1);

    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert_eq!(r.body["sentiment"], "negative", "{}", r.body);
    assert!(r.body["sentiment_score"].as_f64().expect("score") < -0.05);
    assert_eq!(r.body["language"], "en");
    assert!(!r.body["key_topics"].as_array().expect("topics").is_empty());
    let pii = &r.body["analysis"]["pii"]["content"];
    let kinds: Vec<&str> = pii
        .as_array()
        .expect("spans")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(kinds.len() >= 2, "email and phone found: {pii}");
    assert!(r.body["analysis"]["sentiment_detail"]["most_negative"]["text"].is_string());
    assert_eq!(r.body["requires_follow_up"], true, "a promised call back");
    assert_eq!(r.body["follow_up_status"], "pending");
    assert_eq!(
        r.body["status"], "escalated",
        "cancellation on a high-priority log"
    );
    assert_eq!(r.body["priority"], "urgent");

    let p = app
        .get(
            &format!("/api/communication-logs/{log}/processing/"),
            &a.admin,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let ran = steps(&p);
    for step in [
        "language",
        "pii",
        "sentiment",
        "key_topics",
        "follow_up",
        "escalation",
    ] {
        assert!(ran.iter().any(|s| s == step), "{step} ran: {ran:?}");
    }
    let sentiment = latest_run(app, &a.admin, log, "sentiment").await;
    assert_eq!(sentiment["engine"], "vader");
    assert!(
        !sentiment["engine_version"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    assert_eq!(p.body["jobs"][0]["status"], "done");

    // Re-processing is one call; only the steps named run.
    let again = app
        .post(
            &format!("/api/communication-logs/{log}/reprocess/"),
            &a.admin,
            json!({"steps": ["key_topics", "sentiment"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["steps"], json!(["sentiment", "key_topics"]));
    app.run_jobs().await;
    let p = app
        .get(
            &format!("/api/communication-logs/{log}/processing/"),
            &a.admin,
        )
        .await;
    assert_eq!(steps(&p).iter().filter(|s| *s == "sentiment").count(), 2);
    assert_eq!(steps(&p).iter().filter(|s| *s == "pii").count(), 1);
    let bad = app
        .post(
            &format!("/api/communication-logs/{log}/reprocess/"),
            &a.admin,
            json!({"steps": ["magic"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&bad), "steps[0]");

    // Roles the company chose see PII masked, with the stored spans.
    let (rep_id, rep) = app.user(&a, commlog_domain::Role::SalesRep, None, 10).await;
    app.patch(
        &format!("/api/communication-logs/{log}/"),
        &a.admin,
        json!({"watcher_ids": [rep_id]}),
    )
    .await;
    set_processing(app, &a.admin, json!({"mask_pii_for_roles": ["sales_rep"]})).await;
    let masked = app
        .get(&format!("/api/communication-logs/{log}/"), &rep)
        .await;
    let content = masked.body["content"].as_str().unwrap_or("");
    assert!(
        content.contains("[EMAIL]") && content.contains("[PHONE]"),
        "{content}"
    );
    assert!(!content.contains("jane.doe@example.com"));
    let plain = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert!(
        plain.body["content"]
            .as_str()
            .unwrap_or("")
            .contains("jane.doe@example.com")
    );

    // The process ran as the system: the audit entry has no acting user.
    let history = app
        .get(&format!("/api/communication-logs/{log}/history/"), &a.admin)
        .await;
    let process = history
        .body
        .as_array()
        .expect("history")
        .iter()
        .find(|e| e["action"] == "process")
        .expect("audited");
    assert!(process["actor_user_id"].is_null());
}

async fn a_job_that_runs_twice_stores_its_result_once(app: &TestApp) {
    let a = app.company("Acme").await;
    let log = app
        .log(
            &a.admin,
            json!({"content": "Great call, the customer is very happy with the upgrade."}),
        )
        .await;
    app.run_jobs().await;
    let first = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    // A runner that died after storing, before marking the job done: the job runs again.
    app.raw_sql("UPDATE jobs SET status = 'queued', run_at = '2000-01-01T00:00:00Z' WHERE kind = 'process_log'").await;
    app.run_jobs().await;
    let second = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    for field in [
        "sentiment",
        "sentiment_score",
        "key_topics",
        "language",
        "status",
        "priority",
        "categories",
    ] {
        assert_eq!(first.body[field], second.body[field], "{field}");
    }
    assert_eq!(second.body["sentiment"], "positive");
}

async fn settings_and_rules_are_checked(app: &TestApp) {
    let a = app.company("Acme").await;
    let s = app.get("/api/company/processing-settings/", &a.admin).await;
    assert_eq!(s.body["transcription"]["engine"], "local");
    assert_eq!(s.body["sentiment_engine"], "vader");
    let put = |body: Value| set_processing(app, &a.admin, body);
    let r = put(json!({"transcription": {"engine": "http"}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "transcription.url");
    let r = put(json!({"sentiment_engine": "magic"})).await;
    assert_eq!(error_field(&r), "sentiment_engine");
    let r = put(json!({"pii_region": "usa"})).await;
    assert_eq!(error_field(&r), "pii_region");
    let r = put(json!({"transcription": {"engine": "http", "url": "https://whisper.example.com", "api_key": "sk-secret"}, "pii_region": "gb"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["pii_region"], "GB");
    assert_eq!(r.body["transcription"]["api_key_set"], true);
    assert!(
        !r.body.to_string().contains("sk-secret"),
        "the key is never shown"
    );

    let rule = |body: Value| app.post("/api/escalation-rules/", &a.admin, body);
    let r = rule(json!({"name": "empty", "rule": {}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = rule(json!({"name": "bad", "rule": {"sentiment_below": 3}})).await;
    assert_eq!(error_field(&r), "rule.sentiment_below");
    let r = rule(json!({"name": "bad", "rule": {"colour": "red"}})).await;
    assert_eq!(error_field(&r), "rule");
    let r = rule(json!({"name": "VIP unhappy", "rule": {"keywords": ["disappointed"]}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rule_id = id(&r.body);
    assert_eq!(
        rule(json!({"name": "VIP unhappy", "rule": {"keywords": ["x"]}}))
            .await
            .status,
        StatusCode::CONFLICT
    );

    // The company's own rules replace the built-in ones.
    let log = app
        .log(
            &a.admin,
            json!({"content": "We are disappointed by the delays on the project."}),
        )
        .await;
    let cancel = app
        .log(
            &a.admin,
            json!({"content": "They asked how to cancel the order, nothing more."}),
        )
        .await;
    app.run_jobs().await;
    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert_eq!(r.body["status"], "escalated", "{}", r.body);
    let r = app
        .get(&format!("/api/communication-logs/{cancel}/"), &a.admin)
        .await;
    assert_eq!(r.body["status"], "logged");

    let r = app
        .call(
            Method::DELETE,
            &format!("/api/escalation-rules/{rule_id}/"),
            Some(&a.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A sales rep may not change rules or settings.
    let (_, rep) = app.user(&a, commlog_domain::Role::SalesRep, None, 10).await;
    assert_eq!(
        app.get("/api/escalation-rules/", &rep).await.status,
        StatusCode::FORBIDDEN
    );
    let r = set_processing(app, &rep, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn categories_are_chosen_from_examples_and_corrections_are_kept(app: &TestApp) {
    let a = app.company("Acme").await;
    let category = |name: &str, code: &str| {
        app.post("/api/communication-categories/", &a.admin, json!({"category_name": name, "category_code": code, "auto_categorization": true, "default_priority": "high"}))
    };
    let billing = id(&category("Invoices", "auto-invoices").await.body);
    let support = id(&category("App problems", "auto-app").await.body);
    for text in [
        "The invoice amount is wrong",
        "Please refund the double charge on my invoice",
        "Why was I charged twice this month",
        "Invoice shows the wrong VAT amount",
    ] {
        let r = app
            .post(
                &format!("/api/communication-categories/{billing}/examples/"),
                &a.admin,
                json!({"text": text}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for text in [
        "The app crashes when I log in",
        "Login fails with an error after the update",
        "The app keeps crashing on my phone",
        "Error message when I open the dashboard",
    ] {
        app.post(
            &format!("/api/communication-categories/{support}/examples/"),
            &a.admin,
            json!({"text": text}),
        )
        .await;
    }
    let r = app
        .post(
            &format!("/api/communication-categories/{support}/examples/"),
            &a.admin,
            json!({"text": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    set_processing(app, &a.admin, json!({"escalation": false})).await;
    let log = app.log(&a.admin, json!({"content": "Customer says the invoice was charged twice and wants the wrong amount fixed."})).await;
    app.run_jobs().await;
    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    let cats = r.body["categories"].as_array().expect("categories");
    assert_eq!(cats.len(), 1, "{}", r.body);
    assert_eq!(cats[0]["id"], billing.to_string());
    assert!(cats[0]["confidence"].as_f64().expect("confidence") > 0.0);
    assert_eq!(
        r.body["priority"], "high",
        "the category's default priority"
    );

    // A person corrects it: the correction becomes an example of the category they chose.
    let r = app
        .patch(
            &format!("/api/communication-logs/{log}/"),
            &a.admin,
            json!({"category_ids": [support]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["categories"][0]["confidence"].is_null());
    let examples = app
        .get(
            &format!("/api/communication-categories/{support}/examples/"),
            &a.admin,
        )
        .await;
    assert!(
        examples
            .body
            .as_array()
            .expect("examples")
            .iter()
            .any(|e| e["origin"] == "correction" && e["communication_log_id"] == log.to_string())
    );
    // …and processing no longer overrides a person's choice.
    app.post(
        &format!("/api/communication-logs/{log}/reprocess/"),
        &a.admin,
        json!({"steps": ["categorization"]}),
    )
    .await;
    app.run_jobs().await;
    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert_eq!(r.body["categories"][0]["id"], support.to_string());
}

async fn overdue_follow_ups_are_marked(app: &TestApp) {
    let a = app.company("Acme").await;
    let due = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let due = due
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let log = app
        .log(&a.admin, json!({"requires_follow_up": true, "follow_up_date": due, "follow_up_status": "pending", "follow_up_assigned_to": a.admin_id}))
        .await;
    let marked = commlog_server::processing::sweep_follow_ups(&app.state)
        .await
        .expect("sweep");
    assert_eq!(marked, 1);
    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert_eq!(r.body["follow_up_status"], "overdue");
    assert_eq!(
        commlog_server::processing::sweep_follow_ups(&app.state)
            .await
            .expect("sweep"),
        0
    );
}

/// The speech corpus's first clip, when the corpus is here.
fn jfk_wav() -> Option<Vec<u8>> {
    let root = std::env::var_os("COMMLOG_CORPORA")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|p| p.join("shared/corpora"))
                .find(|p| p.is_dir())
        })?;
    std::fs::read(root.join("speech/wav16/jfk.wav")).ok()
}

async fn recordings_are_transcribed_on_this_machine(app: &TestApp) {
    let a = app.company("Acme").await;
    let Some(wav) = jfk_wav() else {
        eprintln!("skipped: the speech corpus is not here");
        return;
    };
    phone_channel_transcribes(app, &a).await;
    let log = app
        .log(&a.admin, json!({"content": "Voicemail from the customer."}))
        .await;
    attach_audio(app, &a, log, wav).await;
    app.run_jobs().await;
    let run = latest_run(app, &a.admin, log, "transcription").await;
    let models = std::env::var_os("COMMLOG_MODELS_DIR").map(std::path::PathBuf::from);
    if models.is_none_or(|d| !d.join("whisper-tiny.en/model.bin").is_file()) {
        assert_eq!(run["status"], "skipped");
        assert!(
            run["detail"]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("not installed"),
            "{run}"
        );
        eprintln!("whisper-tiny.en is not installed: checked that transcription says so");
        return;
    }
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["engine"], "whisper");
    let r = app
        .get(
            &format!("/api/communication-logs/{log}/?include_transcript=true"),
            &a.admin,
        )
        .await;
    let text = r.body["transcription"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
    assert!(
        text.starts_with("[00:0"),
        "segments carry their time: {text}"
    );
    assert!(
        r.body["analysis"]["transcript"]["segments"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );

    // No engine: the step says transcription is not configured.
    set_processing(app, &a.admin, json!({"transcription": {"engine": "none"}})).await;
    app.post(
        &format!("/api/communication-logs/{log}/reprocess/"),
        &a.admin,
        json!({"steps": ["transcription"]}),
    )
    .await;
    app.run_jobs().await;
    let latest = latest_run(app, &a.admin, log, "transcription").await;
    assert_eq!(latest["status"], "skipped");
    assert_eq!(
        latest["detail"]["reason"],
        "transcription is not configured"
    );
}

async fn a_broken_recording_fails_its_step_and_the_rest_still_runs(app: &TestApp) {
    let a = app.company("Acme").await;
    phone_channel_transcribes(app, &a).await;
    let log = app
        .log(
            &a.admin,
            json!({"content": "The customer was very happy with the new plan."}),
        )
        .await;
    let mut garbage = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    garbage.extend(std::iter::repeat_n(0xA5u8, 4000));
    attach_audio(app, &a, log, garbage).await;
    app.run_jobs().await;
    let run = latest_run(app, &a.admin, log, "transcription").await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["detail"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("voicemail.wav")),
        "{run}"
    );
    let r = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await;
    assert_eq!(
        r.body["sentiment"], "positive",
        "the text was analysed all the same"
    );
    let p = app
        .get(
            &format!("/api/communication-logs/{log}/processing/"),
            &a.admin,
        )
        .await;
    assert!(
        p.body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["status"] == "done"),
        "{}",
        p.body
    );
}

async fn key_topics_of_a_period_are_counted_for_what_the_caller_may_see(app: &TestApp) {
    let a = app.company("Acme").await;
    let b = app.company("Beta").await;
    let (_, rep) = app.user(&a, commlog_domain::Role::SalesRep, None, 10).await;
    for content in [
        "The invoice shows the wrong amount and the invoice date is wrong too.",
        "Question about the invoices for March, the amounts look wrong.",
        "The delivery of the pallets was late again this week.",
    ] {
        app.log(
            &a.admin,
            json!({"start_time": soon(), "end_time": null, "content": content}),
        )
        .await;
    }
    app.log(&rep, json!({"start_time": soon(), "end_time": null, "content": "The pallets delivery was late, the driver got lost."}))
        .await;
    app.log(
        &b.admin,
        json!({"start_time": soon(), "end_time": null, "content": "Secret merger negotiations with the board."}),
    )
    .await;
    app.run_jobs().await;

    let r = app.get("/api/key-topics/", &a.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["logs_counted"], 4);
    let topics = r.body["topics"].as_array().expect("topics");
    let invoice = topics
        .iter()
        .find(|t| {
            t["topic"]
                .as_str()
                .is_some_and(|t| t.starts_with("invoice"))
        })
        .expect("invoice");
    assert_eq!(
        invoice["logs"], 2,
        "singular and plural counted together, once per log: {topics:?}"
    );
    assert!(
        !r.body.to_string().contains("merger"),
        "another company's topics never show"
    );
    // A rep counts only the logs they may see.
    let mine = app.get("/api/key-topics/", &rep).await;
    assert_eq!(mine.body["logs_counted"], 1);
    // An empty period, a reversed one and an out-of-range limit.
    let old = app
        .get(
            "/api/key-topics/?since=2001-01-01T00:00:00Z&until=2001-02-01T00:00:00Z",
            &a.admin,
        )
        .await;
    assert_eq!(old.body["logs_counted"], 0);
    let r = app
        .get(
            "/api/key-topics/?since=2030-01-01T00:00:00Z&until=2001-02-01T00:00:00Z",
            &a.admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&r), "since");
    let r = app.get("/api/key-topics/?limit=0", &a.admin).await;
    assert_eq!(error_field(&r), "limit");
    // An unreadable query string is a bad request, as on every list.
    let r = app.get("/api/key-topics/?since=yesterday", &a.admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error_code"], "invalid_query");
}

both!(
    key_topics_of_a_period_are_counted_for_what_the_caller_may_see,
    a_broken_recording_fails_its_step_and_the_rest_still_runs,
    a_new_log_is_analysed_in_the_background,
    a_job_that_runs_twice_stores_its_result_once,
    settings_and_rules_are_checked,
    categories_are_chosen_from_examples_and_corrections_are_kept,
    overdue_follow_ups_are_marked,
    recordings_are_transcribed_on_this_machine,
);
