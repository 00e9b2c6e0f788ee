//! E-mail capture: uploaded messages and mboxes become logs that are threaded (headers first,
//! then subject with the same outside party), matched (contact by address, customer by domain),
//! deduplicated, with attachments and the original kept; what cannot be captured is
//! quarantined with its reason and can be retried.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

pub(crate) fn upload(token: &str, name: &str, data: &[u8]) -> Request<Body> {
    let boundary = "commlogmailboundary42";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: message/rfc822\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri("/api/email-imports/")
        .header("authorization", format!("Bearer {token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}

pub(crate) fn message(headers: &[(&str, &str)], body: &str) -> String {
    let mut m = String::new();
    for (k, v) in headers {
        m.push_str(&format!("{k}: {v}\r\n"));
    }
    m.push_str("\r\n");
    m.push_str(body);
    m
}

async fn import(app: &TestApp, c: &Company, name: &str, data: &str) -> Value {
    let r = app.send(upload(&c.admin, name, data.as_bytes())).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

async fn email_logs(app: &TestApp, c: &Company) -> Vec<Value> {
    let r = app
        .get(
            "/api/communication-logs/?communication_type=email&page_size=100&ordering=start_time",
            &c.admin,
        )
        .await;
    r.body["results"].as_array().expect("results").clone()
}

fn by_id<'a>(logs: &'a [Value], external_id: &str) -> &'a Value {
    logs.iter()
        .find(|l| l["external_id"] == external_id)
        .unwrap_or_else(|| panic!("no log {external_id}: {logs:?}"))
}

async fn mail_becomes_threaded_matched_logs(app: &TestApp) {
    let c = app.company("Acme").await;
    let me = app.get("/api/auth/me", &c.admin).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let globex = id(&app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Globex", "email_domain": "globex.test"}),
        )
        .await
        .body);
    let initech = id(&app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Initech", "email_domain": "initech.test"}),
        )
        .await
        .body);
    let ann = id(&app
        .post(
            "/api/contacts/",
            &c.admin,
            json!({"full_name": "Ann", "customer_id": globex, "emails": ["ann@globex.test"]}),
        )
        .await
        .body);

    let first = message(
        &[
            ("Message-ID", "<m1@globex.test>"),
            ("From", "Ann <ANN@globex.test>"),
            ("To", &me),
            ("Subject", "Quote for Q4"),
            ("Date", "Tue, 24 Nov 2026 09:00:00 +0000"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/mixed; boundary=\"b\""),
        ],
        "--b\r\nContent-Type: text/plain\r\n\r\nCould you send the quote for Q4?\r\n--b\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"rfq.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
    );
    let r = import(app, &c, "m1.eml", &first).await;
    assert_eq!(
        (r["imported"].clone(), r["duplicates"].clone()),
        (json!(1), json!(0)),
        "{r:?}"
    );
    let again = import(app, &c, "m1-copy.eml", &first).await;
    assert_eq!(again["duplicates"], 1, "the same Message-ID is one log");

    let reply = message(
        &[
            ("Message-ID", "<m2@acme.example.com>"),
            ("In-Reply-To", "<m1@globex.test>"),
            ("References", "<m1@globex.test>"),
            ("From", &me),
            ("To", "ann@globex.test"),
            ("Subject", "Re: Quote for Q4"),
            ("Date", "Tue, 24 Nov 2026 10:00:00 +0000"),
        ],
        "Here it is: 12,000 EUR.\r\n\r\nOn Tue, 24 Nov 2026, Ann <ann@globex.test> wrote:\r\n> Could you send the quote for Q4?\r\n",
    );
    // A client that dropped the threading headers: found by subject and the same person.
    let headerless = message(
        &[
            ("Message-ID", "<m3@globex.test>"),
            ("From", "ann@globex.test"),
            ("To", &me),
            ("Subject", "RE: quote for Q4"),
            ("Date", "Tue, 24 Nov 2026 11:00:00 +0000"),
        ],
        "Thanks, accepted.\r\n-- \r\nAnn, Globex\r\n",
    );
    // Another company's person with the same subject: another conversation.
    let stranger = message(
        &[
            ("Message-ID", "<x1@initech.test>"),
            ("From", "bob@initech.test"),
            ("To", &me),
            ("Subject", "Quote for Q4"),
            ("Date", "Tue, 24 Nov 2026 12:00:00 +0000"),
        ],
        "Please quote us as well.\r\n",
    );
    let auto = message(
        &[
            ("From", "ann@globex.test"),
            ("To", &me),
            ("Subject", "Out of office"),
            ("Auto-Submitted", "auto-replied"),
        ],
        "I am away until Monday.\r\n",
    );
    for (name, m) in [
        ("m2.eml", &reply),
        ("m3.eml", &headerless),
        ("x1.eml", &stranger),
        ("auto.eml", &auto),
    ] {
        let r = import(app, &c, name, m).await;
        assert_eq!(r["imported"], 1, "{name}: {r:?}");
    }

    let logs = email_logs(app, &c).await;
    assert_eq!(logs.len(), 5);
    let (m1, m2, m3, x1) = (
        by_id(&logs, "m1@globex.test"),
        by_id(&logs, "m2@acme.example.com"),
        by_id(&logs, "m3@globex.test"),
        by_id(&logs, "x1@initech.test"),
    );
    assert_eq!(m1["direction"], "inbound");
    assert_eq!(
        (m1["contact_id"].clone(), m1["customer_id"].clone()),
        (json!(ann), json!(globex))
    );
    assert_eq!(m1["start_time"], "2026-11-24T09:00:00Z");
    assert_eq!(m1["subject"], "Quote for Q4");
    assert_eq!(m2["direction"], "outbound");
    assert_eq!(
        m2["content"], "Here it is: 12,000 EUR.",
        "the quote is cut from the content"
    );
    assert_eq!(m3["content"], "Thanks, accepted.", "and the signature");
    assert_eq!(m1["thread_id"], m2["thread_id"], "threaded by headers");
    assert_eq!(
        m1["thread_id"], m3["thread_id"],
        "threaded by subject and sender"
    );
    assert_ne!(
        m1["thread_id"], x1["thread_id"],
        "another sender is another conversation"
    );
    assert_eq!(
        (x1["customer_id"].clone(), x1["contact_id"].clone()),
        (json!(initech), json!(null)),
        "customer by domain"
    );
    let automated = logs
        .iter()
        .find(|l| l["subject"] == "Out of office")
        .expect("auto-reply");
    assert_eq!(automated["tags"], json!(["automated"]));
    assert!(
        automated["external_id"]
            .as_str()
            .expect("id")
            .starts_with("sha256:"),
        "no Message-ID: the content hash"
    );

    let files = app
        .get(
            &format!(
                "/api/communication-attachments/?communication_log_id={}",
                id(m1)
            ),
            &c.admin,
        )
        .await;
    let mut names: Vec<String> = files
        .body
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["file_name"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["message.eml", "rfq.pdf"],
        "the original and its attachment"
    );
    let sightings = app
        .store
        .email_sightings(&commlog_store::Scope::admin(c.id, c.admin_id), id(m1))
        .await
        .expect("sightings");
    assert_eq!(sightings, ["upload:m1.eml", "upload:m1-copy.eml"]);
    let shown = app
        .get(
            &format!("/api/communication-logs/{}/mailboxes/", id(m1)),
            &c.admin,
        )
        .await;
    assert_eq!(shown.body, json!(["upload:m1.eml", "upload:m1-copy.eml"]));
}

both!(mail_becomes_threaded_matched_logs);

async fn mboxes_import_and_broken_mail_is_quarantined(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep) = app.user(&c, commlog_domain::Role::SalesRep, None, 5).await;
    let one = message(
        &[
            ("Message-ID", "<a@x.test>"),
            ("From", "a@x.test"),
            ("To", "b@acme.test"),
            ("Subject", "One"),
        ],
        "First message.\n",
    );
    let two = message(
        &[
            ("Message-ID", "<b@x.test>"),
            ("From", "a@x.test"),
            ("To", "b@acme.test"),
            ("Subject", "Two"),
        ],
        "From the second message.\n",
    );
    let mbox = format!(
        "From a@x.test Tue Nov 24 10:00:00 2026\n{one}\nFrom a@x.test Tue Nov 24 10:05:00 2026\n{}\nFrom nobody Tue Nov 24 10:06:00 2026\nthis is not mail at all\n",
        two.replace("\nFrom the", "\n>From the")
    );
    let r = import(app, &c, "archive.mbox", &mbox).await;
    assert_eq!(
        (r["imported"].clone(), r["quarantined"].clone()),
        (json!(2), json!(1)),
        "{r:?}"
    );
    assert_eq!(r["quarantined_items"][0]["item"], "archive.mbox#3");
    let logs = email_logs(app, &c).await;
    assert_eq!(
        by_id(&logs, "b@x.test")["content"],
        "From the second message.",
        "mbox escaping undone"
    );

    let q = app.get("/api/email-quarantine/", &c.admin).await;
    let items = q.body.as_array().expect("quarantine").clone();
    assert_eq!(items.len(), 1);
    assert!(
        items[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("not an e-mail message"),
        "{items:?}"
    );
    assert_eq!(
        app.get("/api/email-quarantine/", &rep).await.status,
        StatusCode::FORBIDDEN
    );
    for path in [
        "/api/email-quarantine/?limit=0",
        "/api/jobs/?limit=5000",
        "/api/jobs/?limit=x",
    ] {
        let r = app.get(path, &c.admin).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        assert!(r.body["error_code"].is_string(), "{path}");
    }
    let retried = app
        .post(
            &format!("/api/email-quarantine/{}/retry/", id(&items[0])),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(
        retried.body["communication_log_id"],
        Value::Null,
        "still not mail"
    );
    assert!(retried.body["retried_at"].is_string());

    let empty = app.send(upload(&c.admin, "empty.eml", b"")).await;
    assert_eq!(empty.body["quarantined"], 1);
    let not_multipart = app.post("/api/email-imports/", &c.admin, json!({})).await;
    assert_eq!(not_multipart.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

both!(mboxes_import_and_broken_mail_is_quarantined);

const SMTP_CLIENT: &str = r#"
import json, smtplib, sys
port, good = int(sys.argv[1]), sys.argv[2]
msg = ("From: Ann <ann@globex.test>\r\nTo: sales@acme.test\r\nSubject: Forwarded\r\n"
       "Message-ID: <fw1@globex.test>\r\n\r\n.Leading dot line\r\nHello via BCC\r\n")
out = {}
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    out["ehlo"] = s.ehlo()[0]
    for key, rcpt, body in [("good", good, msg),
                            ("unknown", "capture-doesnotexist00000000@crm.example.com", msg),
                            ("big", good, "x" * (26 * 1024 * 1024))]:
        try:
            s.sendmail("ann@globex.test", [rcpt], body)
            out[key] = "accepted"
        except smtplib.SMTPRecipientsRefused as e:
            out[key] = list(e.recipients.values())[0][0]
        except smtplib.SMTPResponseException as e:
            out[key] = e.smtp_code
print(json.dumps(out))
"#;

/// Sends with Python's smtplib to the listener on `port`; returns what the client saw.
async fn smtp_client(port: u16, address: &str) -> Value {
    let address = address.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(["-c", SMTP_CLIENT, &port.to_string(), &address])
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

async fn the_forwarding_address_accepts_mail_over_smtp(app: &TestApp) {
    let c = app.company("Acme").await;
    let other = app.company("Other").await;
    let address = app
        .get("/api/company/capture-address/", &c.admin)
        .await
        .body["address"]
        .as_str()
        .expect("address")
        .to_owned();
    assert!(
        address.starts_with("capture-") && address.ends_with("@crm.example.com"),
        "{address}"
    );
    assert_eq!(
        app.get("/api/company/capture-address/", &c.admin)
            .await
            .body["address"],
        address.as_str(),
        "stable"
    );
    let theirs = app
        .get("/api/company/capture-address/", &other.admin)
        .await
        .body["address"]
        .clone();
    assert_ne!(theirs, json!(address));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(commlog_server::smtp::serve(listener, app.state.clone()));
    let seen = smtp_client(port, &address).await;
    assert_eq!(seen["ehlo"], 250);
    assert_eq!(seen["good"], "accepted");
    assert_eq!(seen["unknown"], 550);
    assert_eq!(seen["big"], 552);
    let logs = email_logs(app, &c).await;
    let log = by_id(&logs, "fw1@globex.test");
    assert_eq!(
        log["content"], ".Leading dot line\nHello via BCC",
        "dot-stuffing undone"
    );
    assert_eq!(email_logs(app, &other).await.len(), 0);
    let sightings = app
        .store
        .email_sightings(&commlog_store::Scope::admin(c.id, c.admin_id), id(log))
        .await
        .expect("sightings");
    assert_eq!(sightings, [format!("smtp:{address}")]);

    let rotated = app
        .post("/api/company/capture-address/rotate/", &c.admin, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_ne!(rotated.body["address"], json!(address));
    let after = smtp_client(port, &address).await;
    assert_eq!(after["good"], 550, "the old address no longer takes mail");
}

both!(the_forwarding_address_accepts_mail_over_smtp);

async fn the_company_policy_decides_what_is_captured(app: &TestApp) {
    let c = app.company("Acme").await;
    let (_, rep) = app.user(&c, commlog_domain::Role::SalesRep, None, 5).await;
    let me = app.get("/api/auth/me", &c.admin).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let initech = id(&app
        .post(
            "/api/customers/",
            &c.admin,
            json!({"name": "Initech", "email_domain": "initech.test"}),
        )
        .await
        .body);
    app.post(
        "/api/contacts/",
        &c.admin,
        json!({"full_name": "Ann", "emails": ["ann@globex.test"]}),
    )
    .await;
    let put = |token: &str, body: Value| {
        let token = token.to_owned();
        async move {
            app.call(
                Method::PUT,
                "/api/company/email-settings/",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        app.get("/api/company/email-settings/", &c.admin).await.body["unknown_senders"],
        "log"
    );
    assert_eq!(
        put(&rep, json!({"unknown_senders": "ignore"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(&c.admin, json!({"blocked": ["nodot"]})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = put(
        &c.admin,
        json!({"unknown_senders": "ignore", "blocked": ["@Spam.test", "Boss@Globex.test"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["blocked"], json!(["spam.test", "boss@globex.test"]));

    let mail = |id: &str, from: &str, to: &str| {
        message(
            &[
                ("Message-ID", &format!("<{id}>")),
                ("From", from),
                ("To", to),
                ("Subject", "Hello"),
            ],
            "Some text here.\r\n",
        )
    };
    for (name, m, outcome) in [
        ("internal", mail("p1@acme", &me, &me), "skipped"),
        (
            "blocked domain",
            mail("p2@spam", "offers@spam.test", &me),
            "skipped",
        ),
        (
            "blocked address",
            mail("p3@globex", "boss@globex.test", &me),
            "skipped",
        ),
        (
            "unknown sender",
            mail("p4@nowhere", "who@nowhere.test", &me),
            "skipped",
        ),
        (
            "known contact",
            mail("p5@globex", "ann@globex.test", &me),
            "imported",
        ),
    ] {
        let r = import(app, &c, "p.eml", &m).await;
        assert_eq!(r[outcome], 1, "{name}: {r:?}");
    }
    put(&c.admin, json!({"unknown_senders": "create_contact"})).await;
    let r = import(
        app,
        &c,
        "p6.eml",
        &mail("p6@initech", "New Person <new@initech.test>", &me),
    )
    .await;
    assert_eq!(r["imported"], 1, "{r:?}");
    let contacts = app
        .get("/api/contacts/?email=new@initech.test", &c.admin)
        .await;
    let made = &contacts.body.as_array().expect("contacts")[0];
    assert_eq!(
        (made["full_name"].clone(), made["customer_id"].clone()),
        (json!("New Person"), json!(initech))
    );
    let log = by_id(&email_logs(app, &c).await, "p6@initech").clone();
    assert_eq!(
        log["contact_id"], made["id"],
        "the new contact is on the log"
    );
}

both!(the_company_policy_decides_what_is_captured);

async fn threads_can_be_merged_and_split(app: &TestApp) {
    let c = app.company("Acme").await;
    let me = app.get("/api/auth/me", &c.admin).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let mail = |id: &str, subject: &str, reply_to: Option<&str>| {
        let mut h = vec![
            ("Message-ID".to_owned(), format!("<{id}>")),
            ("From".into(), "ann@globex.test".into()),
            ("To".into(), me.clone()),
            ("Subject".into(), subject.to_owned()),
        ];
        if let Some(r) = reply_to {
            h.push(("In-Reply-To".into(), format!("<{r}>")));
        }
        let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        message(&refs, "A message with some text.\r\n")
    };
    import(app, &c, "a.eml", &mail("a@g", "Invoice", None)).await;
    import(app, &c, "b.eml", &mail("b@g", "Delivery", None)).await;
    let logs = email_logs(app, &c).await;
    let (a, b) = (by_id(&logs, "a@g").clone(), by_id(&logs, "b@g").clone());
    assert_ne!(a["thread_id"], b["thread_id"]);

    let merged = app
        .post(
            &format!("/api/communication-logs/{}/merge-thread/", id(&b)),
            &c.admin,
            json!({"into_log_id": id(&a)}),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{:?}", merged.body);
    assert_eq!(merged.body["thread_id"], a["thread_id"]);
    // A reply to the merged message follows it into the merged conversation.
    import(app, &c, "c.eml", &mail("c@g", "Re: Delivery", Some("b@g"))).await;
    let logs = email_logs(app, &c).await;
    assert_eq!(by_id(&logs, "b@g")["thread_id"], a["thread_id"]);
    assert_eq!(by_id(&logs, "c@g")["thread_id"], a["thread_id"]);

    // Split at B: B and the later C start their own conversation; replies to B follow.
    let split = app
        .post(
            &format!("/api/communication-logs/{}/split-thread/", id(&b)),
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(split.status, StatusCode::OK, "{:?}", split.body);
    let fresh = split.body["thread_id"].clone();
    assert_eq!(split.body["moved"].as_array().expect("moved").len(), 2);
    import(app, &c, "d.eml", &mail("d@g", "Re: Delivery", Some("b@g"))).await;
    let logs = email_logs(app, &c).await;
    assert_eq!(by_id(&logs, "a@g")["thread_id"], a["thread_id"]);
    for moved in ["b@g", "c@g", "d@g"] {
        assert_eq!(by_id(&logs, moved)["thread_id"], fresh, "{moved}");
    }
    let unknown = app
        .post(
            &format!("/api/communication-logs/{}/merge-thread/", id(&a)),
            &c.admin,
            json!({"into_log_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
}

both!(threads_can_be_merged_and_split);
