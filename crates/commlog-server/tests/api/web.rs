//! The web app through its HTTP surface, as a browser uses it (cookies, forms): sign-in with
//! CSRF tokens, pages that escape what users typed, another company's log not found, forms
//! refused without their token, quick log, assignment and bulk changes, an expired access
//! cookie renewed from the refresh cookie, and the security headers of pages.

use crate::both;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A browser's cookie jar over the router.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: String,
    html: String,
    headers: axum::http::HeaderMap,
}

impl Browser {
    fn absorb(&mut self, r: &Response) {
        for v in r.headers.get_all(header::SET_COOKIE) {
            let text = v.to_str().unwrap_or("");
            let Some((pair, attrs)) = text.split_once(';').or(Some((text, ""))) else {
                continue;
            };
            if let Some((k, val)) = pair.split_once('=') {
                if attrs.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
    }

    async fn send(
        &mut self,
        app: &TestApp,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, cookie);
        let body = match form {
            Some(pairs) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs {
                    s.append_pair(k, v);
                }
                Body::from(s.finish())
            }
            None => Body::empty(),
        };
        let r = app.send(req.body(body).expect("request")).await;
        self.absorb(&r);
        Page {
            status: r.status,
            location: r
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            html: String::from_utf8_lossy(&r.bytes).into_owned(),
            headers: r.headers.clone(),
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> Page {
        self.send(app, Method::GET, path, None).await
    }

    async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(app, Method::POST, path, Some(form)).await
    }

    fn csrf(&self) -> String {
        self.cookies
            .get("commlog_csrf")
            .cloned()
            .unwrap_or_default()
    }

    /// Signs in through the form, as a person would.
    async fn sign_in(app: &TestApp, email: &str) -> Browser {
        let mut b = Browser::default();
        let login = b.get(app, "/login").await;
        assert_eq!(login.status, StatusCode::OK);
        let csrf = b.csrf();
        assert!(
            login
                .html
                .contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
            "the first visit's form carries its token"
        );
        let r = b
            .post(
                app,
                "/login",
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                    ("next", "/calls"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
        assert_eq!(r.location, "/calls");
        b
    }
}

async fn admin_email(app: &TestApp, c: &Company) -> String {
    app.get("/api/auth/me", &c.admin).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned()
}

async fn pages_sign_in_escape_and_stay_in_the_company(app: &TestApp) {
    let a = app.company("Alpha").await;
    let b_company = app.company("Beta").await;
    // What a user typed is shown as text, never as markup.
    let hostile = "<script>alert('x')</script> Renewal";
    let log = app
        .log(
            &a.admin,
            json!({"subject": hostile, "content": "<img src=x onerror=alert(1)> quote"}),
        )
        .await;
    let theirs = app
        .log(&b_company.admin, json!({"subject": "Beta's secret"}))
        .await;

    let mut anon = Browser::default();
    let r = anon.get(app, "/calls").await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/login?next=%2Fcalls")
    );
    let r = anon
        .post(
            app,
            "/login",
            &[
                ("email", "nobody@x.example"),
                ("password", "wrong"),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a form without its token is refused"
    );

    let email = admin_email(app, &a).await;
    let mut wrong = Browser::default();
    wrong.get(app, "/login").await;
    let csrf = wrong.csrf();
    let r = wrong
        .post(
            app,
            "/login",
            &[("email", &email), ("password", "not it"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.html.contains("email or password is wrong"), "{}", r.html);

    let mut me = Browser::sign_in(app, &email).await;
    for c in ["commlog_access", "commlog_refresh"] {
        assert!(me.cookies.contains_key(c), "{c} set");
    }
    let calls = me.get(app, "/calls").await;
    assert_eq!(calls.status, StatusCode::OK);
    let csp = calls
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        calls.html.contains("&#60;script&#62;") || calls.html.contains("&lt;script&gt;"),
        "escaped: {}",
        &calls.html[calls.html.find("<tbody").unwrap_or(0)..]
    );
    assert!(!calls.html.contains("<script>alert"), "never raw");
    assert!(!calls.html.contains("Beta's secret"));
    let detail = me.get(app, &format!("/logs/{log}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail
            .html
            .contains("&#60;img src=x onerror=alert(1)&#62; quote")
    );
    assert!(!detail.html.contains("<img src=x"));
    let r = me.get(app, &format!("/logs/{theirs}")).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another company's log does not exist here"
    );
    let r = me.get(app, &format!("/logs/{}", Uuid::new_v4())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for page in ["/", "/emails", "/messages", "/analytics", "/log/new"] {
        let r = me.get(app, page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert!(r.html.contains("<main id=\"main\""), "{page}");
    }
    let search = me.get(app, "/calls?q=Renewal&status=logged").await;
    assert!(search.html.contains(&log.to_string()), "search finds it");
    let none = me.get(app, "/calls?from=not-a-date").await;
    assert!(none.html.contains("role=\"alert\""), "a bad filter says so");

    // Signing out ends the session: the cookies no longer open pages.
    let csrf = me.csrf();
    let r = me.post(app, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let r = me.get(app, "/calls").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

async fn forms_log_assign_and_change_in_bulk(app: &TestApp) {
    let a = app.company("Alpha").await;
    let (rep, _) = app.user(&a, commlog_domain::Role::SalesRep, None, 50).await;
    let email = admin_email(app, &a).await;
    let mut me = Browser::sign_in(app, &email).await;
    let csrf = me.csrf();

    // Quick log: a call of 12 minutes with a follow-up; an empty note is refused with reasons.
    let r = me
        .post(
            app,
            "/log/new",
            &[
                ("csrf", &csrf),
                ("communication_type", "call"),
                ("direction", "outbound"),
                ("channel", "phone"),
                ("start", "2026-11-20T09:30"),
                ("minutes", "abc"),
                ("content", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("Duration"), "{}", r.html);
    let r = me
        .post(
            app,
            "/log/new",
            &[
                ("csrf", &csrf),
                ("communication_type", "call"),
                ("direction", "outbound"),
                ("channel", "phone"),
                ("start", "2026-11-20T09:30"),
                ("minutes", "12"),
                ("subject", "Renewal call"),
                ("content", "Talked about the renewal."),
                ("follow_up", "2026-11-27"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id: Uuid = r
        .location
        .trim_start_matches("/logs/")
        .parse()
        .expect("detail location");
    let log = app
        .get(&format!("/api/communication-logs/{id}/"), &a.admin)
        .await
        .body;
    assert_eq!(log["duration_seconds"], 720);
    assert_eq!(log["requires_follow_up"], true);
    assert_eq!(
        log["start_time"], "2026-11-20T09:30:00Z",
        "the company's zone is UTC"
    );
    let detail = me.get(app, &r.location).await;
    assert!(detail.html.contains("Logged."), "the one-shot notice shows");

    // Without the form's token nothing changes.
    let r = me
        .post(
            app,
            &format!("/logs/{id}/assign"),
            &[("user_id", &rep.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = me
        .post(
            app,
            &format!("/logs/{id}/assign"),
            &[("csrf", &csrf), ("user_id", &rep.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let log = app
        .get(&format!("/api/communication-logs/{id}/"), &a.admin)
        .await
        .body;
    assert_eq!(log["assigned_to_user_id"], rep.to_string());
    let r = me
        .post(
            app,
            &format!("/logs/{id}/status"),
            &[("csrf", &csrf), ("status", "no_such_status")],
        )
        .await;
    let page = me.get(app, &r.location).await;
    assert!(
        page.html.contains("role=\"alert\""),
        "a refused change says why"
    );

    let other = app.log(&a.admin, json!({})).await;
    let r = me
        .post(
            app,
            "/logs/bulk",
            &[
                ("csrf", &csrf),
                ("action", "status"),
                ("status", "in_progress"),
                ("ids", &id.to_string()),
                ("ids", &other.to_string()),
                ("back", "/calls"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/calls")
    );
    let list = me.get(app, "/calls").await;
    assert!(list.html.contains("Updated 2 of 2."), "{}", list.html);
    for log in [id, other] {
        assert_eq!(
            app.get(&format!("/api/communication-logs/{log}/"), &a.admin)
                .await
                .body["status"],
            "in_progress"
        );
    }
    let r = me
        .post(
            app,
            "/logs/bulk",
            &[
                ("csrf", &csrf),
                ("action", "tag"),
                ("tag", "vip"),
                ("ids", &other.to_string()),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location, "/", "never redirected off the site");
    assert_eq!(
        app.get(&format!("/api/communication-logs/{other}/"), &a.admin)
            .await
            .body["tags"],
        json!(["vip"])
    );
}

/// Settings: administrators add teams and users through the API's rules; reps do not see it.
async fn settings_for_administrators(app: &TestApp) {
    let a = app.company("Alpha").await;
    let email = admin_email(app, &a).await;
    let mut me = Browser::sign_in(app, &email).await;
    let csrf = me.csrf();
    assert_eq!(me.get(app, "/settings").await.status, StatusCode::OK);
    let r = me
        .post(
            app,
            "/settings/teams",
            &[("csrf", &csrf), ("name", "Renewals")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = me
        .post(
            app,
            "/settings/users",
            &[
                ("csrf", &csrf),
                ("full_name", "Ann Rep"),
                ("email", "ann@alpha.example"),
                ("role", "sales_rep"),
                ("password", "short"),
            ],
        )
        .await;
    let page = me.get(app, &r.location).await;
    assert!(
        page.html.contains("role=\"alert\""),
        "the password policy applies: {}",
        page.html
    );
    let r = me
        .post(
            app,
            "/settings/users",
            &[
                ("csrf", &csrf),
                ("full_name", "Ann Rep"),
                ("email", "ann@alpha.example"),
                ("role", "sales_rep"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let page = me.get(app, &r.location).await;
    assert!(
        page.html.contains("User added.")
            && page.html.contains("Renewals")
            && page.html.contains("ann@alpha.example")
    );
    let rep = Browser::sign_in(app, "ann@alpha.example").await;
    let mut rep = rep;
    assert_eq!(
        rep.get(app, "/settings").await.status,
        StatusCode::NOT_FOUND
    );

    // Changing a user: role, team and whether they may sign in, with the API's rules.
    let admin_scope = commlog_store::Scope::admin(a.id, a.admin_id);
    let ann = app
        .store
        .list_users(&admin_scope, &Default::default())
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.email == "ann@alpha.example")
        .expect("ann");
    let rep_csrf = rep.csrf();
    let path = format!("/settings/users/{}", ann.id);
    let r = rep
        .post(
            app,
            &path,
            &[("csrf", &rep_csrf), ("role", "admin"), ("active", "yes")],
        )
        .await;
    let page = rep.get(app, &r.location).await;
    assert_ne!(
        page.status,
        StatusCode::OK,
        "a rep cannot reach settings to promote themselves"
    );
    let r = me
        .post(
            app,
            &path,
            &[("csrf", &csrf), ("role", "team_lead"), ("team_id", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = me.get(app, &r.location).await;
    assert!(page.html.contains("User changed."), "{}", page.html);
    let changed = app.store.get_user(&admin_scope, ann.id).await.expect("ann");
    assert_eq!(
        (changed.role, changed.is_active),
        (commlog_domain::Role::TeamLead, false)
    );
    let r = me
        .post(app, &path, &[("csrf", "forged"), ("role", "admin")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "CSRF is checked");

    // Channels: switched off and on, transcription and call recording with them.
    let sms = app
        .store
        .list_channels(&admin_scope, &Default::default())
        .await
        .expect("channels")
        .into_iter()
        .find(|c| c.channel_code == "sms")
        .expect("sms channel");
    let path = format!("/settings/channels/{}", sms.id);
    let r = me
        .post(
            app,
            &path,
            &[("csrf", &csrf), ("transcribes", "yes"), ("records", "yes")],
        )
        .await;
    let page = me.get(app, &r.location).await;
    assert!(page.html.contains("Channel changed."), "{}", page.html);
    let changed = app
        .store
        .get_channel(&admin_scope, sms.id)
        .await
        .expect("sms");
    assert_eq!(
        (
            changed.is_active,
            changed.auto_transcription,
            changed.record_calls
        ),
        (false, true, true)
    );
}

/// A customer's history on one screen, and only one's own customers.
async fn customer_timelines(app: &TestApp) {
    let a = app.company("Alpha").await;
    let b = app.company("Beta").await;
    let globex = id(&app
        .post("/api/customers/", &a.admin, json!({"name": "Globex"}))
        .await
        .body);
    let initech = id(&app
        .post("/api/customers/", &b.admin, json!({"name": "Initech"}))
        .await
        .body);
    app.log(
        &a.admin,
        json!({"customer_id": globex, "subject": "Globex renewal call"}),
    )
    .await;
    app.log(&a.admin, json!({"subject": "Someone else"})).await;
    let email = admin_email(app, &a).await;
    let mut me = Browser::sign_in(app, &email).await;
    let page = me.get(app, &format!("/customers/{globex}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Globex renewal call") && !page.html.contains("Someone else"));
    assert_eq!(
        me.get(app, &format!("/customers/{initech}")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn an_expired_access_cookie_is_renewed(app: &TestApp) {
    let a = app.company("Alpha").await;
    let email = admin_email(app, &a).await;
    let mut me = Browser::sign_in(app, &email).await;
    let old_refresh = me.cookies.get("commlog_refresh").cloned().expect("refresh");
    me.cookies.remove("commlog_access");
    let r = me.get(app, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        me.cookies.contains_key("commlog_access"),
        "a new access cookie"
    );
    assert_ne!(
        me.cookies.get("commlog_refresh"),
        Some(&old_refresh),
        "the refresh token rotated"
    );
    // The old refresh token was used once: presented again, it ends the session.
    let mut thief = Browser::default();
    thief.cookies.insert("commlog_refresh".into(), old_refresh);
    let r = thief.get(app, "/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    me.cookies.remove("commlog_access");
    let r = me.get(app, "/").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the replay revoked the session"
    );
    // Script requests carry the token in a header.
    let mut fresh = Browser::sign_in(app, &email).await;
    let r = fresh.post(app, "/web/ws-ticket", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF header");
    let asset = fresh.get(app, "/assets/app.js").await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.headers.get(header::ETAG).is_some());
}

async fn notes_join_the_conversation(app: &TestApp) {
    let a = app.company("Alpha").await;
    let b = app.company("Beta").await;
    let log = app.log(&a.admin, json!({"subject": "Renewal call"})).await;
    let mut me = Browser::sign_in(app, &admin_email(app, &a).await).await;
    let csrf = me.csrf();
    let page = me.get(app, &format!("/logs/{log}")).await;
    assert!(page.html.contains("Conversation and notes") && page.html.contains("A note starts it"));

    let path = format!("/logs/{log}/notes");
    let r = me.post(app, &path, &[("note", "No token")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = me
        .post(app, &path, &[("csrf", &csrf), ("note", "  ")])
        .await;
    let page = me.get(app, &r.location).await;
    assert!(
        page.html.contains("role=\"alert\""),
        "an empty note is refused, saying why"
    );
    let r = me
        .post(
            app,
            &path,
            &[("csrf", &csrf), ("note", "<b>Call back Friday</b>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = me.get(app, &format!("/logs/{log}")).await;
    assert!(
        page.html
            .contains("<p class=\"note\">&#60;b&#62;Call back Friday&#60;/b&#62;</p>"),
        "the note, escaped: {}",
        page.html
            .split("Conversation and notes")
            .nth(1)
            .unwrap_or(&page.html)
    );
    assert!(page.html.contains("(this one)"));

    // The note is an internal log in the log's conversation, which it started.
    let thread = app
        .get(&format!("/api/communication-logs/{log}/"), &a.admin)
        .await
        .body["thread_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!thread.is_empty(), "the log now has a conversation");
    let listed = app
        .get(
            &format!("/api/communication-logs/?thread_id={thread}"),
            &a.admin,
        )
        .await;
    assert_eq!(listed.body["count"], 2, "{}", listed.body);
    let note = listed.body["results"]
        .as_array()
        .and_then(|r| r.iter().find(|l| l["communication_type"] == "note"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(note["content"], "<b>Call back Friday</b>");
    assert_eq!(note["is_internal"], true);

    // Another company's user cannot add to it, nor see that it exists.
    let mut other = Browser::sign_in(app, &admin_email(app, &b).await).await;
    let other_csrf = other.csrf();
    let r = other
        .post(app, &path, &[("csrf", &other_csrf), ("note", "Hello")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = app
        .get(
            &format!("/api/communication-logs/?thread_id={thread}"),
            &a.admin,
        )
        .await;
    assert_eq!(listed.body["count"], 2, "nothing was added");
}

both!(
    notes_join_the_conversation,
    settings_for_administrators,
    customer_timelines,
    pages_sign_in_escape_and_stay_in_the_company,
    forms_log_assign_and_change_in_bulk,
    an_expired_access_cookie_is_renewed,
);
