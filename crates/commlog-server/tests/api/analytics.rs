//! Analytics through the API, on hand-built data whose figures are worked out here by hand:
//! local days across daylight-saving changes, edits, reassignment, deletion and late-arriving
//! logs moving the rollup, business-hours response times with SLA targets, role scoping, the
//! drill-down filter behind a figure, CSV export, and the rollup checked against the logs.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use commlog_domain::Role;
use commlog_domain::analytics::Period;
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

/// Creates a log of `kind` on `channel` starting at `start` (RFC 3339, UTC).
async fn log_at(
    app: &TestApp,
    token: &str,
    kind: &str,
    channel: &str,
    direction: &str,
    start: &str,
    extra: Value,
) -> Uuid {
    let start_t =
        time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339)
            .expect("time");
    let end = (start_t + time::Duration::minutes(5))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let mut body = json!({
        "communication_type": kind, "channel": channel, "direction": direction,
        "start_time": start, "end_time": if kind == "call" { Value::String(end) } else { Value::Null },
        "content": format!("A {kind} about the renewal."),
        "participants": [{"role": if direction == "inbound" { "from" } else { "to" }, "email": "ana@customer.example.com"}],
    });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let r = app.post("/api/communication-logs/", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id(&r.body)
}

fn rows<'a>(r: &'a Response, section: &str) -> Vec<&'a Value> {
    r.body["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows in {}", r.body))
        .iter()
        .filter(|row| row["section"] == section)
        .collect()
}

/// The series of a volume report as (bucket label, key, count), zero rows left out.
fn series(r: &Response, key: &str) -> Vec<(String, String, i64)> {
    rows(r, "series")
        .into_iter()
        .filter(|row| row["count"].as_i64() != Some(0))
        .map(|row| {
            (
                row["bucket"].as_str().unwrap_or("").to_owned(),
                row[key].as_str().unwrap_or("-").to_owned(),
                row["count"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The report's grand total.
fn total(r: &Response) -> i64 {
    rows(r, "overall")
        .first()
        .and_then(|row| row["count"].as_i64())
        .unwrap_or_else(|| panic!("no overall row in {}", r.body))
}

fn s(v: &str) -> (String, String, i64) {
    let mut p = v.split(' ');
    let (a, b, c) = (
        p.next().unwrap_or(""),
        p.next().unwrap_or(""),
        p.next().unwrap_or("0"),
    );
    (a.to_owned(), b.to_owned(), c.parse().unwrap_or(-1))
}

async fn rollup_matches_logs(app: &TestApp, company: Uuid) {
    let period = Period {
        since: datetime!(2000-01-01 0:00 UTC),
        until: datetime!(2100-01-01 0:00 UTC),
    };
    let mismatches = app
        .state
        .store
        .analytics_verify(company, period, false)
        .await
        .expect("verify");
    assert!(
        mismatches.is_empty(),
        "rollup differs from the logs: {mismatches:?}"
    );
}

/// Moves a company to Berlin time, as its administrator would.
async fn berlin(app: &TestApp, a: &Company) {
    let r = app
        .patch(
            "/api/company/",
            &a.admin,
            json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["timezone"], "Europe/Berlin");
    let r = app
        .patch(
            "/api/company/",
            &a.admin,
            json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(
        (r.status, error_field(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "timezone".to_owned())
    );
}

/// Local days of Europe/Berlin across both changes of 2026: the spring day has 23 hours, the
/// autumn day 25, and every log lands on its local day; the rollup and the logs agree, and a
/// figure's filter lists exactly the logs it counts.
async fn local_days_across_daylight_saving(app: &TestApp) {
    let a = app.company("Alpha").await;
    berlin(app, &a).await;
    let t = &a.admin;
    // Spring: 28 March 23:30 CET; 29 March 00:30 CET; 29 March 23:30 CEST; 30 March 00:30 CEST.
    log_at(
        app,
        t,
        "call",
        "phone",
        "outbound",
        "2026-03-28T22:30:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-03-28T23:30:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-03-29T21:30:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "call",
        "phone",
        "outbound",
        "2026-03-29T22:30:00Z",
        json!({}),
    )
    .await;
    // Autumn: 25 October 00:30 CEST; 25 October 23:30 CET; 26 October 00:30 CET.
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-10-24T22:30:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-10-25T22:30:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-10-25T23:30:00Z",
        json!({}),
    )
    .await;

    // 28 March 00:00 CET to 31 March 00:00 CEST.
    let spring =
        "/api/analytics/volume/?since=2026-03-27T23:00:00Z&until=2026-03-30T22:00:00Z&bucket=day";
    let r = app.get(spring, t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["source"], "rollup");
    assert_eq!(r.body["timezone"], "Europe/Berlin");
    assert_eq!(
        series(&r, "channel"),
        vec![
            s("2026-03-28 phone 1"),
            s("2026-03-29 email 2"),
            s("2026-03-30 phone 1")
        ]
    );
    let days: Vec<&str> = rows(&r, "series")
        .iter()
        .filter(|row| row["channel"] == "email")
        .map(|row| row["bucket_start"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        days,
        vec![
            "2026-03-27T23:00:00Z",
            "2026-03-28T23:00:00Z",
            "2026-03-29T22:00:00Z"
        ],
        "the 29th starts at 23:00 UTC and lasts 23 hours"
    );

    // The same period read from the logs (a start one second off the hour) counts the same.
    let from_logs = app.get("/api/analytics/volume/?since=2026-03-27T23:00:01Z&until=2026-03-30T22:00:00Z&bucket=day", t).await;
    assert_eq!(from_logs.body["source"], "logs");
    assert_eq!(series(&from_logs, "channel"), series(&r, "channel"));

    // Drill-down: the e-mails of the 29th are the two logs behind the figure.
    let row = rows(&r, "series")
        .into_iter()
        .find(|row| row["bucket"] == "2026-03-29" && row["channel"] == "email")
        .cloned()
        .expect("row");
    let listed = app
        .get(
            &format!("{}&count=exact", row["href"].as_str().expect("href")),
            t,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["count"], 2, "{}", row["href"]);

    let autumn = app.get("/api/analytics/volume/?since=2026-10-23T22:00:00Z&until=2026-10-26T23:00:00Z&bucket=day", t).await;
    assert_eq!(
        series(&autumn, "channel"),
        vec![s("2026-10-25 email 2"), s("2026-10-26 email 1")]
    );

    // Weeks start on Monday (23 March and 30 March), months on the 1st.
    let weeks = app.get("/api/analytics/volume/?since=2026-03-22T23:00:00Z&until=2026-04-05T22:00:00Z&bucket=week&group_by=communication_type", t).await;
    assert_eq!(
        series(&weeks, "communication_type"),
        vec![
            s("2026-03-23 call 1"),
            s("2026-03-23 email 2"),
            s("2026-03-30 call 1")
        ]
    );
    let months = app.get("/api/analytics/volume/?since=2025-12-31T23:00:00Z&until=2026-12-31T23:00:00Z&bucket=month", t).await;
    let by_month: i64 = rows(&months, "series")
        .iter()
        .map(|row| row["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(by_month, 7);
    rollup_matches_logs(app, a.id).await;
}

/// Edits move figures: a reassignment moves a log to its new agent, a deletion removes it, a
/// late-arriving log lands on its own (earlier) day, a status change moves it between
/// statuses. Role scoping: a rep sees their own figures, a team lead the team's, another
/// company nothing.
async fn edits_reassignment_deletion_and_scoping(app: &TestApp) {
    let a = app.company("Alpha").await;
    let team = app.team(&a, "Support").await;
    let (rep1, rep1_token) = app.user(&a, Role::SalesRep, Some(team), 50).await;
    let (rep2, _) = app.user(&a, Role::SalesRep, Some(team), 50).await;
    let (_, lead_token) = app.user(&a, Role::TeamLead, Some(team), 50).await;
    let (rep3, _) = app.user(&a, Role::SalesRep, None, 50).await;
    let t = &a.admin;
    let l1 = log_at(
        app,
        t,
        "call",
        "phone",
        "inbound",
        "2026-06-10T09:00:00Z",
        json!({"assigned_to_user_id": rep1, "call_outcome": "answered"}),
    )
    .await;
    let l2 = log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-06-10T10:00:00Z",
        json!({"assigned_to_user_id": rep1}),
    )
    .await;
    log_at(
        app,
        t,
        "call",
        "phone",
        "inbound",
        "2026-06-10T11:00:00Z",
        json!({"assigned_to_user_id": rep2, "call_outcome": "no_answer"}),
    )
    .await;
    let l4 = log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-06-10T12:00:00Z",
        json!({"assigned_to_user_id": rep3}),
    )
    .await;

    let r = app
        .patch(
            &format!("/api/communication-logs/{l2}/"),
            t,
            json!({"assigned_to_user_id": rep2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/communication-logs/{l4}/"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app
        .patch(
            &format!("/api/communication-logs/{l1}/"),
            t,
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Arrives last, dated the day before.
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-06-09T15:00:00Z",
        json!({"assigned_to_user_id": rep1}),
    )
    .await;

    let period = "since=2026-06-09T00:00:00Z&until=2026-06-11T00:00:00Z";
    let by_user = app
        .get(&format!("/api/analytics/volume/?{period}&group_by=user"), t)
        .await;
    assert_eq!(by_user.status, StatusCode::OK, "{}", by_user.body);
    let mut expected = vec![
        ("2026-06-09".to_owned(), rep1.to_string(), 1),
        ("2026-06-10".to_owned(), rep1.to_string(), 1),
        ("2026-06-10".to_owned(), rep2.to_string(), 2),
    ];
    expected.sort();
    let mut got = series(&by_user, "user_id");
    got.sort();
    assert_eq!(got, expected);
    let by_status = app
        .get(
            &format!("/api/analytics/volume/?{period}&group_by=status"),
            t,
        )
        .await;
    assert_eq!(
        series(&by_status, "status"),
        vec![
            s("2026-06-09 logged 1"),
            s("2026-06-10 logged 2"),
            s("2026-06-10 resolved 1")
        ]
    );

    // Calls: two inbound, one answered, one missed.
    let channels = app
        .get(&format!("/api/analytics/channels/?{period}"), t)
        .await;
    let phone = rows(&channels, "channel")
        .into_iter()
        .find(|row| row["channel"] == "phone")
        .cloned()
        .expect("phone row");
    assert_eq!(
        (
            phone["inbound_calls"].as_i64(),
            phone["answered"].as_i64(),
            phone["missed"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(phone["answer_rate"], 0.5);
    assert_eq!(phone["average_handle_seconds"], 300.0);

    // Another team's work: the company counts it, the Support lead does not.
    let other_team = app.team(&a, "Field").await;
    let (rep4, _) = app.user(&a, Role::SalesRep, Some(other_team), 50).await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-06-10T13:00:00Z",
        json!({"assigned_to_user_id": rep4}),
    )
    .await;
    let lead_agents = app
        .get(
            &format!("/api/analytics/productivity/?{period}"),
            &lead_token,
        )
        .await;
    let agents: Vec<&str> = rows(&lead_agents, "agent")
        .iter()
        .filter_map(|r| r["user_id"].as_str())
        .collect();
    assert!(
        agents.contains(&rep1.to_string().as_str()) && !agents.contains(&rep4.to_string().as_str()),
        "{agents:?}"
    );

    // Scoping: the rep's own two logs, the team lead's four, another company's none.
    let volume = |token: String| async move {
        app.get(&format!("/api/analytics/volume/?{period}"), &token)
            .await
    };
    let own = volume(rep1_token.clone()).await;
    assert_eq!(own.body["scope"], "user");
    assert_eq!(total(&own), 2, "{}", own.body);
    let team_figures = volume(lead_token.clone()).await;
    assert_eq!(team_figures.body["scope"], "team");
    assert_eq!(total(&team_figures), 4);
    assert_eq!(total(&volume(a.admin.clone()).await), 5);
    let b = app.company("Beta").await;
    let theirs = volume(b.admin.clone()).await;
    assert_eq!(total(&theirs), 0, "{}", theirs.body);
    // A rep asking for a colleague's figures gets none of them.
    let other = app
        .get(
            &format!("/api/analytics/volume/?{period}&user_id={rep2}"),
            &rep1_token,
        )
        .await;
    assert_eq!(total(&other), 0);
    let counters = app.get("/api/analytics/counters/", &rep1_token).await;
    assert_eq!(
        counters.body,
        json!({"open": 1, "awaiting_response": 0, "escalated": 0, "overdue_follow_ups": 0})
    );
    let counters = app.get("/api/analytics/counters/", &b.admin).await;
    assert_eq!(counters.body["open"], 0);

    // Satisfaction: recorded through its endpoint, averaged in the business report.
    for (log, score) in [(l1, 4), (l2, 5)] {
        let r = app
            .call(
                Method::PUT,
                &format!("/api/communication-logs/{log}/satisfaction/"),
                Some(t),
                Some(json!({"score": score})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["satisfaction_score"], score);
    }
    let r = app
        .call(
            Method::PUT,
            &format!("/api/communication-logs/{l1}/satisfaction/"),
            Some(t),
            Some(json!({"score": 6})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .call(
            Method::PUT,
            &format!("/api/communication-logs/{l1}/satisfaction/"),
            Some(&b.admin),
            Some(json!({"score": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let business = app
        .get(&format!("/api/analytics/business/?{period}"), t)
        .await;
    let overall = rows(&business, "satisfaction")
        .into_iter()
        .find(|row| row["user_id"].is_null())
        .cloned()
        .expect("overall");
    assert_eq!(
        (
            overall["rated"].as_i64(),
            overall["average_satisfaction"].as_f64()
        ),
        (Some(2), Some(4.5))
    );
    rollup_matches_logs(app, a.id).await;
}

/// Response times in business hours (Monday to Friday, 09:00–17:00 Berlin): a message at
/// 16:00 on Friday answered at 10:00 on Monday waited two working hours; one at 09:00 on
/// Monday answered at 15:00 waited six. Against a 4-hour e-mail target, one of two met it.
/// Without the calendar the first waited 66 wall-clock hours.
async fn response_times_in_business_hours(app: &TestApp) {
    let a = app.company("Alpha").await;
    berlin(app, &a).await;
    let t = &a.admin;
    let calendar = json!({"working_days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", "holidays": ["2026-12-25"]});
    let settings = json!({"calendar": calendar, "sla_targets": [{"channel": "email", "first_response_seconds": 14400}],
        "channel_costs": [{"channel": "email", "per_message": 0.5}]});
    let r = app
        .call(
            Method::PUT,
            "/api/analytics/settings/",
            Some(t),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-11-20T15:00:00Z",
        json!({"thread_id": x}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "outbound",
        "2026-11-23T09:00:00Z",
        json!({"thread_id": x}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-11-23T08:00:00Z",
        json!({"thread_id": y}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "outbound",
        "2026-11-23T14:00:00Z",
        json!({"thread_id": y}),
    )
    .await;

    let period = "since=2026-11-15T23:00:00Z&until=2026-11-29T23:00:00Z";
    let r = app
        .get(&format!("/api/analytics/response-times/?{period}"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let overall = rows(&r, "overall")[0].clone();
    assert_eq!(overall["measured_in"], "business_hours");
    assert_eq!(overall["first_response_count"], 2);
    assert_eq!(overall["first_response_p50_seconds"], 7_200);
    assert_eq!(overall["first_response_p90_seconds"], 21_600);
    assert_eq!(overall["first_response_average_seconds"], 14_400.0);
    assert_eq!(
        (
            overall["sla_met"].as_i64(),
            overall["sla_total"].as_i64(),
            overall["sla_share"].as_f64()
        ),
        (Some(1), Some(2), Some(0.5))
    );

    // Cost: four e-mails at 0.50.
    let business = app
        .get(&format!("/api/analytics/business/?{period}"), t)
        .await;
    let email = rows(&business, "cost")
        .into_iter()
        .find(|row| row["channel"] == "email")
        .cloned()
        .expect("email cost");
    assert_eq!(
        (
            email["cost"].as_f64(),
            email["cost_per_communication"].as_f64()
        ),
        (Some(2.0), Some(0.5))
    );

    let r = app
        .call(
            Method::PUT,
            "/api/analytics/settings/",
            Some(t),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .get(&format!("/api/analytics/response-times/?{period}"), t)
        .await;
    let overall = rows(&r, "overall")[0].clone();
    assert_eq!(overall["measured_in"], "wall_clock");
    assert_eq!(overall["first_response_p90_seconds"], 66 * 3_600);
}

/// Bad input is refused with the field at fault and changes nothing; only managers and
/// administrators change settings; the CSV export holds the same numbers as the JSON.
async fn checks_permissions_and_export(app: &TestApp) {
    let a = app.company("Alpha").await;
    let (_, rep) = app.user(&a, Role::SalesRep, None, 50).await;
    let t = &a.admin;
    for day in [
        "2026-05-04T10:00:00Z",
        "2026-05-05T10:00:00Z",
        "2026-05-05T11:00:00Z",
    ] {
        log_at(app, t, "email", "email", "inbound", day, json!({})).await;
    }
    let r = app
        .call(
            Method::PUT,
            "/api/analytics/settings/",
            Some(&rep),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = json!({"calendar": {"working_days": [1, 9], "start": "25:00", "end": "17:00"}});
    let r = app
        .call(Method::PUT, "/api/analytics/settings/", Some(t), Some(bad))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(error_field(&r).starts_with("calendar."), "{}", r.body);
    let r = app.call(Method::PUT, "/api/analytics/settings/", Some(t), Some(json!({"team_calendars": [{"team_id": Uuid::new_v4(), "calendar": {"working_days": [1], "start": "09:00", "end": "17:00"}}]}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        app.get("/api/analytics/settings/", t).await.body,
        json!({"calendar": null, "team_calendars": [], "sla_targets": [], "channel_costs": []})
    );

    assert_eq!(
        app.get("/api/analytics/volume/?bucket=fortnight", t)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .get(
            "/api/analytics/volume/?since=2026-05-06T00:00:00Z&until=2026-05-01T00:00:00Z",
            t,
        )
        .await;
    assert_eq!(
        (r.status, error_field(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "since".to_owned())
    );
    let r = app
        .get("/api/analytics/sentiment/?group_by=channel", t)
        .await;
    assert_eq!(
        (r.status, error_field(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "group_by".to_owned())
    );
    let r = app.get("/api/analytics/volume/?since=2000-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bucket=hour", t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    let period = "since=2026-05-04T00:00:00Z&until=2026-05-07T00:00:00Z";
    let json_report = app
        .get(&format!("/api/analytics/volume/?{period}"), t)
        .await;
    let csv = app
        .get(&format!("/api/analytics/volume/?{period}&format=csv"), t)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let text = String::from_utf8(csv.bytes.clone()).expect("utf-8");
    let mut reader = csv_rows(&text);
    let header = reader.remove(0);
    assert_eq!(
        header[..5],
        ["section", "bucket", "bucket_start", "channel", "count"]
    );
    let json_rows = json_report.body["rows"].as_array().expect("rows");
    assert_eq!(reader.len(), json_rows.len());
    for (line, row) in reader.iter().zip(json_rows) {
        assert_eq!(line[4], row["count"].to_string(), "{line:?} vs {row}");
    }
    let counts: Vec<&str> = reader
        .iter()
        .filter(|l| l[0] == "series")
        .map(|l| l[4].as_str())
        .collect();
    assert_eq!(counts, vec!["1", "2", "0"]);
}

/// Splits simple CSV (no quoted commas in these reports' first columns) into cells.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// Sentiment distribution, the most negative conversation, and follow-ups completed.
async fn sentiment_and_follow_ups(app: &TestApp) {
    let a = app.company("Alpha").await;
    let t = &a.admin;
    let angry = log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-04-01T10:00:00Z",
        json!({"sentiment": "negative", "sentiment_score": -0.6}),
    )
    .await;
    log_at(
        app,
        t,
        "email",
        "email",
        "inbound",
        "2026-04-02T10:00:00Z",
        json!({"sentiment": "positive", "sentiment_score": 0.5}),
    )
    .await;
    let promise = log_at(app, t, "call", "phone", "outbound", "2026-04-02T12:00:00Z",
        json!({"requires_follow_up": true, "follow_up_date": "2026-04-09T12:00:00Z", "follow_up_status": "pending"})).await;
    log_at(app, t, "call", "phone", "outbound", "2026-04-03T12:00:00Z",
        json!({"requires_follow_up": true, "follow_up_date": "2026-04-10T12:00:00Z", "follow_up_status": "pending"})).await;
    let r = app
        .patch(
            &format!("/api/communication-logs/{promise}/"),
            t,
            json!({"follow_up_status": "completed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let period = "since=2026-04-01T00:00:00Z&until=2026-04-05T00:00:00Z";
    let r = app
        .get(&format!("/api/analytics/sentiment/?{period}"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let overall = rows(&r, "overall")[0].clone();
    assert_eq!(
        (overall["positive"].as_i64(), overall["negative"].as_i64()),
        (Some(1), Some(1))
    );
    assert!((overall["average_score"].as_f64().unwrap_or(9.0) + 0.05).abs() < 1e-9);
    let worst = rows(&r, "most_negative");
    assert_eq!(worst.len(), 1);
    assert_eq!(worst[0]["log_id"], angry.to_string());

    let r = app
        .get(&format!("/api/analytics/follow-ups/?{period}"), t)
        .await;
    let overall = rows(&r, "overall")[0].clone();
    assert_eq!(
        (
            overall["follow_ups"].as_i64(),
            overall["completed"].as_i64(),
            overall["completion_rate"].as_f64()
        ),
        (Some(2), Some(1), Some(0.5))
    );
    assert_eq!(overall["completion_count"], 1);
    assert_eq!(overall["follow_up_rate"], 0.5);
    let r = app
        .get(&format!("/api/analytics/productivity/?{period}"), t)
        .await;
    let admin = rows(&r, "agent")
        .into_iter()
        .find(|row| row["user_id"] == a.admin_id.to_string())
        .cloned()
        .expect("admin row");
    assert_eq!(admin["handled"], 0, "nothing was assigned: {admin}");
    rollup_matches_logs(app, a.id).await;
}

/// Captured mail that arrives late counts on the day it was written, and a captured reply's
/// wait is a response time.
async fn late_captured_mail_counts_on_its_own_day(app: &TestApp) {
    let a = app.company("Alpha").await;
    let me = app.get("/api/auth/me", &a.admin).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let import = |name: &'static str, m: String| {
        let token = a.admin.clone();
        async move {
            let r = app
                .send(crate::email::upload(&token, name, m.as_bytes()))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    let question = crate::email::message(
        &[
            ("Message-ID", "<q1@globex.test>"),
            ("From", "Ann <ann@globex.test>"),
            ("To", &me),
            ("Subject", "Invoice"),
            ("Date", "Tue, 10 Nov 2026 09:00:00 +0000"),
        ],
        "Where is my invoice?\r\n",
    );
    let reply = crate::email::message(
        &[
            ("Message-ID", "<r1@us.test>"),
            ("In-Reply-To", "<q1@globex.test>"),
            ("From", &me),
            ("To", "ann@globex.test"),
            ("Subject", "Re: Invoice"),
            ("Date", "Tue, 10 Nov 2026 11:00:00 +0000"),
        ],
        "It is attached.\r\n",
    );
    import("q1.eml", question).await;
    import("r1.eml", reply).await;
    let late = crate::email::message(
        &[
            ("Message-ID", "<old@globex.test>"),
            ("From", "Ann <ann@globex.test>"),
            ("To", &me),
            ("Subject", "Last week"),
            ("Date", "Tue, 03 Nov 2026 15:00:00 +0000"),
        ],
        "Written last week, delivered today.\r\n",
    );
    import("old.eml", late).await;

    let period = "since=2026-11-01T00:00:00Z&until=2026-11-15T00:00:00Z";
    let r = app
        .get(
            &format!("/api/analytics/volume/?{period}&group_by=direction"),
            &a.admin,
        )
        .await;
    assert_eq!(r.body["source"], "rollup");
    assert_eq!(
        series(&r, "direction"),
        vec![
            s("2026-11-03 inbound 1"),
            s("2026-11-10 inbound 1"),
            s("2026-11-10 outbound 1")
        ]
    );
    let r = app
        .get(
            &format!("/api/analytics/response-times/?{period}"),
            &a.admin,
        )
        .await;
    let overall = rows(&r, "overall")[0].clone();
    assert_eq!(
        (
            overall["first_response_count"].as_i64(),
            overall["first_response_p50_seconds"].as_i64()
        ),
        (Some(1), Some(7_200))
    );
    assert_eq!(
        overall["waiting"], 1,
        "last week's message is still unanswered"
    );
    rollup_matches_logs(app, a.id).await;
}

/// India is five and a half hours ahead of UTC: an hour of the rollup would straddle its
/// midnight, so its days are counted from the logs, in quarter hours.
async fn half_hour_zones_are_counted_from_the_logs(app: &TestApp) {
    let a = app.company("Alpha").await;
    let r = app
        .patch(
            "/api/company/",
            &a.admin,
            json!({"timezone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let t = &a.admin;
    // 4 May 23:45 IST and 5 May 00:15 IST: half an hour apart, on two days.
    log_at(
        app,
        t,
        "call",
        "phone",
        "outbound",
        "2026-05-04T18:15:00Z",
        json!({}),
    )
    .await;
    log_at(
        app,
        t,
        "call",
        "phone",
        "outbound",
        "2026-05-04T18:45:00Z",
        json!({}),
    )
    .await;
    let r = app
        .get(
            "/api/analytics/volume/?since=2026-05-03T18:30:00Z&until=2026-05-05T18:30:00Z",
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["source"], "logs");
    assert_eq!(
        series(&r, "channel"),
        vec![s("2026-05-04 phone 1"), s("2026-05-05 phone 1")]
    );
    let days: Vec<&str> = rows(&r, "series")
        .iter()
        .map(|row| row["bucket_start"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(days, vec!["2026-05-03T18:30:00Z", "2026-05-04T18:30:00Z"]);
}

/// Reports are kept while the company's data is unchanged, and never outlive a change: a new
/// log (an event), new settings (part of what a report depends on), a purge by retention (no
/// event).
async fn reports_are_kept_until_the_data_changes(app: &TestApp) {
    let a = app.company("Kept").await;
    let t = &a.admin;
    log_at(
        app,
        t,
        "call",
        "phone",
        "inbound",
        "2024-03-04T10:00:00Z",
        json!({}),
    )
    .await;
    let path = "/api/analytics/volume/?since=2024-03-01T00:00:00Z&until=2024-04-01T00:00:00Z";
    let first = app.get(path, t).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(total(&first), 1);
    assert_eq!(
        app.get(path, t).await.body,
        first.body,
        "read again, the same"
    );
    let csv = app.get(&format!("{path}&format=csv"), t).await;
    assert_eq!(csv.status, StatusCode::OK);

    log_at(
        app,
        t,
        "call",
        "phone",
        "inbound",
        "2024-03-05T10:00:00Z",
        json!({}),
    )
    .await;
    assert_eq!(
        total(&app.get(path, t).await),
        2,
        "a new log counts at once"
    );

    let times =
        "/api/analytics/response-times/?since=2024-03-01T00:00:00Z&until=2024-04-01T00:00:00Z";
    let overall = |r: &Response| rows(r, "overall")[0]["measured_in"].clone();
    assert_eq!(overall(&app.get(times, t).await), "wall_clock");
    let calendar =
        json!({"working_days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", "holidays": []});
    let r = app
        .call(
            Method::PUT,
            "/api/analytics/settings/",
            Some(t),
            Some(json!({"calendar": calendar})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        overall(&app.get(times, t).await),
        "business_hours",
        "new settings, new figures"
    );

    let officer = crate::compliance::compliance_officer(app, &a).await;
    let r = app
        .post(
            "/api/retention-policies/",
            &officer,
            json!({"name": "Old calls", "delete_after_days": 30, "keep_tombstone": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.post("/api/retention/run/", &officer, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        total(&app.get(path, t).await),
        0,
        "purged logs count no more"
    );
    rollup_matches_logs(app, a.id).await;
}

both!(
    reports_are_kept_until_the_data_changes,
    half_hour_zones_are_counted_from_the_logs,
    late_captured_mail_counts_on_its_own_day,
    local_days_across_daylight_saving,
    edits_reassignment_deletion_and_scoping,
    response_times_in_business_hours,
    checks_permissions_and_export,
    sentiment_and_follow_ups,
);
