//! The Analytics tab: the caller's figures of a period drawn server-side — a stacked SVG bar
//! chart of daily volume by channel (each bar a link to its logs), response times, sentiment,
//! follow-ups and workload — from the same reports as `/api/analytics/`.

use super::view::{Layout, Signed, render};
use crate::analytics::{self, Context, ReportKind, Row};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use commlog_domain::analytics::AnalyticsQuery;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Bar {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    series: usize,
    label: String,
    href: String,
}

pub struct Chart {
    width: f64,
    height: f64,
    bars: Vec<Bar>,
    legend: Vec<(usize, String)>,
    summary: String,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    layout: Layout,
    periods: Vec<(String, String)>,
    days: String,
    scope_text: String,
    period_text: String,
    export_href: String,
    volume: Chart,
    response: Vec<(String, String)>,
    sentiment: Vec<(String, String)>,
    follow_ups: Vec<(String, String)>,
    workload: Vec<(String, String, String, String, String)>,
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    days: String,
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.2}"),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// Seconds as the largest sensible unit.
fn duration(v: Option<&Value>) -> String {
    match v.and_then(Value::as_f64) {
        None => "—".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7_200.0 => format!("{:.0} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3_600.0),
    }
}

fn share(v: Option<&Value>) -> String {
    v.and_then(Value::as_f64)
        .map(|f| format!("{:.0}%", f * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn section<'a>(rows: &'a [Row], name: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r.get("section").and_then(Value::as_str) == Some(name))
        .collect()
}

/// The list tab a channel's logs are in.
fn tab_of_channel(code: &str) -> &'static str {
    match code {
        c if c.contains("email") || c.contains("mail") => "emails",
        "sms" | "chat" | "whatsapp" | "slack" | "teams" | "messaging" | "web" => "messages",
        _ => "calls",
    }
}

/// Stacks each day's counts by channel into bars scaled to the busiest day.
fn volume_chart(rows: &[Row]) -> Chart {
    let series = section(rows, "series");
    let mut channels: Vec<String> = series
        .iter()
        .filter_map(|r| r.get("channel").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    channels.sort();
    channels.dedup();
    let mut days: BTreeMap<String, Vec<(usize, i64)>> = BTreeMap::new();
    for r in &series {
        let day = r
            .get("bucket")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let ch = r.get("channel").and_then(Value::as_str).unwrap_or("");
        let n = r.get("count").and_then(Value::as_i64).unwrap_or(0);
        let idx = channels.iter().position(|c| c == ch).unwrap_or(0);
        days.entry(day).or_default().push((idx, n));
    }
    let max = days
        .values()
        .map(|v| v.iter().map(|x| x.1).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (height, slot) = (200.0, 24.0);
    let mut bars = Vec::new();
    let total: i64 = days.values().flatten().map(|x| x.1).sum();
    for (i, (day, parts)) in days.iter().enumerate() {
        let mut top = height;
        for (idx, n) in parts.iter().filter(|p| p.1 > 0) {
            let h = (*n as f64 / max) * (height - 10.0);
            top -= h;
            // The figure's logs, as the list page of its tab filters them.
            let channel = channels.get(*idx).cloned().unwrap_or_default();
            let list = format!(
                "/{}?from={day}&to={day}&channel={channel}",
                tab_of_channel(&channel)
            );
            bars.push(Bar {
                x: i as f64 * slot + 2.0,
                y: top,
                w: slot - 4.0,
                h,
                series: idx % 6,
                label: format!(
                    "{day}: {n} on {}",
                    channels.get(*idx).cloned().unwrap_or_default()
                ),
                href: list,
            });
        }
    }
    Chart {
        width: (days.len().max(1) as f64) * slot,
        height,
        legend: channels
            .iter()
            .enumerate()
            .map(|(i, c)| (i % 6, c.clone()))
            .collect(),
        summary: format!(
            "{total} communications over {} days; the busiest day had {max}.",
            days.len()
        ),
        bars,
    }
}

/// `GET /analytics`.
pub async fn page(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let days: i64 = match q.days.as_str() {
        "7" => 7,
        "90" => 90,
        _ => 30,
    };
    let now = commlog_domain::time_fmt::now();
    let query = AnalyticsQuery {
        since: None,
        until: None,
        ..Default::default()
    };
    let mut ctx = match Context::new(&app, &user.actor, query).await {
        Ok(c) => c,
        Err(_) => return super::not_found(&user, &headers),
    };
    // Whole local days up to today.
    let since = commlog_domain::buckets::bucket_start(
        now - time::Duration::days(days - 1),
        ctx.tz,
        ctx.bucket,
    );
    let Ok(starts) =
        commlog_domain::buckets::bucket_starts(since, ctx.period.until, ctx.tz, ctx.bucket, 1000)
            .ok_or(())
    else {
        return super::not_found(&user, &headers);
    };
    ctx.period.since = since;
    ctx.buckets = starts;
    let volume = analytics::report(&app, &ctx, ReportKind::Volume)
        .await
        .map(|made| made.report.rows.clone())
        .unwrap_or_default();
    let rt = analytics::report(&app, &ctx, ReportKind::ResponseTimes)
        .await
        .map(|made| made.report.rows.clone())
        .unwrap_or_default();
    let se = analytics::report(&app, &ctx, ReportKind::Sentiment)
        .await
        .map(|made| made.report.rows.clone())
        .unwrap_or_default();
    let fu = analytics::report(&app, &ctx, ReportKind::FollowUps)
        .await
        .map(|made| made.report.rows.clone())
        .unwrap_or_default();
    let pr = analytics::report(&app, &ctx, ReportKind::Productivity)
        .await
        .map(|made| made.report.rows.clone())
        .unwrap_or_default();
    let overall = |rows: &[Row]| {
        section(rows, "overall")
            .first()
            .map(|r| (*r).clone())
            .unwrap_or_default()
    };
    let o = overall(&rt);
    let response = vec![
        (
            "First response, median".into(),
            duration(o.get("first_response_p50_seconds")),
        ),
        (
            "First response, 90th percentile".into(),
            duration(o.get("first_response_p90_seconds")),
        ),
        (
            "Resolution, median".into(),
            duration(o.get("resolution_p50_seconds")),
        ),
        ("Met the SLA".into(), share(o.get("sla_share"))),
        ("Still waiting".into(), text(o.get("waiting"))),
        (
            "Measured in".into(),
            text(o.get("measured_in")).replace('_', " "),
        ),
    ];
    let s = overall(&se);
    let sentiment = vec![
        ("Positive".into(), text(s.get("positive"))),
        ("Neutral".into(), text(s.get("neutral"))),
        ("Negative".into(), text(s.get("negative"))),
        ("Average score".into(), text(s.get("average_score"))),
    ];
    let f = overall(&fu);
    let follow_ups = vec![
        ("Follow-ups".into(), text(f.get("follow_ups"))),
        ("Completed".into(), share(f.get("completion_rate"))),
        ("Overdue".into(), text(f.get("overdue"))),
        (
            "Time to complete, median".into(),
            duration(f.get("completion_p50_seconds")),
        ),
    ];
    let workload = section(&pr, "agent")
        .iter()
        .map(|r| {
            (
                text(r.get("full_name")),
                text(r.get("handled")),
                text(r.get("active")),
                text(r.get("capacity")),
                share(r.get("utilisation")),
            )
        })
        .collect();
    let scope_text = match ctx.scope {
        commlog_domain::analytics::AnalyticsScope::Company => "The whole company",
        commlog_domain::analytics::AnalyticsScope::Team(_) => "Your team",
        commlog_domain::analytics::AnalyticsScope::User(_) => "Your own work",
    };
    let since_text = crate::analytics::rfc3339(ctx.period.since);
    let until_text = crate::analytics::rfc3339(ctx.period.until);
    render(&AnalyticsPage {
        layout: Layout::new("Analytics", "analytics", Some(&user), &headers),
        periods: vec![
            ("7".into(), "Last 7 days".into()),
            ("30".into(), "Last 30 days".into()),
            ("90".into(), "Last 90 days".into()),
        ],
        days: days.to_string(),
        scope_text: scope_text.into(),
        period_text: format!("the last {days} days in {}", ctx.tz_name),
        export_href: format!(
            "/web/analytics/volume.csv?since={}&until={}",
            url::form_urlencoded::byte_serialize(since_text.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(until_text.as_bytes()).collect::<String>()
        ),
        volume: volume_chart(&volume),
        response,
        sentiment,
        follow_ups,
        workload,
    })
}

#[derive(Deserialize)]
pub struct ExportQuery {
    since: String,
    until: String,
}

/// `GET /web/analytics/volume.csv`: the chart's numbers as CSV (cookie-authenticated).
pub async fn export(
    State(app): State<AppState>,
    Signed(user): Signed,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Response {
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    let query = AnalyticsQuery {
        since: parse(&q.since),
        until: parse(&q.until),
        ..Default::default()
    };
    match Context::new(&app, &user.actor, query).await {
        Ok(ctx) => match analytics::report(&app, &ctx, ReportKind::Volume).await {
            Ok(made) => crate::analytics::export::csv_response(made.report),
            Err(_) => super::not_found(&user, &headers),
        },
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}
