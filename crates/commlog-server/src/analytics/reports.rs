//! The reports of `/api/analytics/`: each turns measures (and, where the rollup cannot answer,
//! the logs of conversations) into rows.

use super::response::{self, Distribution};
use super::{Context, Report, Row, mean, ratio};
use crate::error::ApiResult;
use commlog_domain::analytics::{Dimension, Measures};
use commlog_store::Store;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

type Keyed = BTreeMap<Vec<Option<String>>, Measures>;

/// The row key name of a dimension.
fn key_name(d: Dimension) -> &'static str {
    d.column()
}

/// The log-list filter of one dimension value (none for "unassigned": the list has no filter
/// for a missing assignee).
fn key_filter(d: Dimension, v: &Option<String>) -> Vec<(&'static str, String)> {
    v.iter().map(|v| (d.list_filter(), v.clone())).collect()
}

/// `GET /api/analytics/volume/`: counts by a dimension per bucket, and totals.
pub async fn volume(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let dim = ctx.query.group_by.unwrap_or(Dimension::Channel);
    let by_bucket = ctx.measures(store, &[dim]).await?;
    let keys: BTreeSet<Option<String>> = by_bucket.keys().map(|(_, k)| k[0].clone()).collect();
    let mut rows = Vec::new();
    let mut totals: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for b in &ctx.buckets {
        for k in &keys {
            let n = by_bucket.get(&(*b, vec![k.clone()])).map_or(0, |m| m.logs);
            *totals.entry(k.clone()).or_default() += n;
            rows.push(ctx.row(
                "series",
                Some(*b),
                &[(key_name(dim), k.clone())],
                vec![("count", json!(n))],
                &key_filter(dim, k),
            ));
        }
    }
    let all: i64 = totals.values().sum();
    for (k, n) in &totals {
        rows.push(ctx.row(
            "total",
            None,
            &[(key_name(dim), k.clone())],
            vec![("count", json!(n)), ("share", ratio(*n, all))],
            &key_filter(dim, k),
        ));
    }
    rows.push(ctx.row("overall", None, &[], vec![("count", json!(all))], &[]));
    Ok(ctx.report("volume", rows))
}

fn distribution_metrics(prefix: &str, d: &Distribution) -> Vec<(String, Value)> {
    vec![
        (format!("{prefix}_count"), json!(d.count)),
        (
            format!("{prefix}_average_seconds"),
            json!(d.average_seconds),
        ),
        (format!("{prefix}_p50_seconds"), json!(d.p50_seconds)),
        (format!("{prefix}_p90_seconds"), json!(d.p90_seconds)),
    ]
}

fn owned(metrics: &[(String, Value)]) -> Vec<(&str, Value)> {
    metrics
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

/// The conversations of the period, measured; with `responses_only`, only what answers were
/// given (not waits or resolutions).
async fn conversations(
    ctx: &Context,
    store: &Store,
    responses_only: bool,
) -> ApiResult<response::Conversations> {
    let logs = store
        .analytics_conversations(ctx.company, &ctx.measure_query(&[]), responses_only)
        .await?;
    Ok(response::measure(&logs, &ctx.settings, ctx.tz))
}

fn measured_in(ctx: &Context) -> &'static str {
    if ctx.settings.calendar.is_some() || !ctx.settings.team_calendars.is_empty() {
        "business_hours"
    } else {
        "wall_clock"
    }
}

/// What groups responses (an agent, a team, a channel).
type GroupKey = fn(&response::Response) -> Option<String>;

/// Response-time rows of one group of responses.
fn response_metrics(rs: &[&response::Response]) -> Vec<(String, Value)> {
    let first: Vec<i64> = rs.iter().filter(|r| r.first).map(|r| r.seconds).collect();
    let met = rs.iter().filter(|r| r.sla_met == Some(true)).count() as i64;
    let judged = rs.iter().filter(|r| r.sla_met.is_some()).count() as i64;
    let mut m = distribution_metrics("first_response", &Distribution::of(first));
    m.extend(distribution_metrics(
        "response",
        &Distribution::of(rs.iter().map(|r| r.seconds)),
    ));
    m.push(("sla_met".into(), json!(met)));
    m.push(("sla_total".into(), json!(judged)));
    m.push(("sla_share".into(), ratio(met, judged)));
    m
}

/// `GET /api/analytics/response-times/`: first-response, every-response and resolution times
/// overall, per agent, team and channel, with SLA shares, and first responses per bucket.
pub async fn response_times(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let c = conversations(ctx, store, false).await?;
    let all: Vec<&response::Response> = c.responses.iter().collect();
    let mut rows = Vec::new();
    let mut overall = response_metrics(&all);
    overall.extend(distribution_metrics(
        "resolution",
        &Distribution::of(c.resolutions.iter().map(|r| r.seconds)),
    ));
    overall.push(("waiting".into(), json!(c.waiting)));
    overall.push(("measured_in".into(), json!(measured_in(ctx))));
    rows.push(ctx.row("overall", None, &[], owned(&overall), &[]));

    let groups: [(&str, &str, GroupKey); 3] = [
        ("agent", "user_id", |r| r.user_id.map(|u| u.to_string())),
        ("team", "team_id", |r| r.team_id.map(|t| t.to_string())),
        ("channel", "channel", |r| Some(r.channel.clone())),
    ];
    for (section, key, of) in groups {
        let mut by: BTreeMap<Option<String>, Vec<&response::Response>> = BTreeMap::new();
        for r in &c.responses {
            by.entry(of(r)).or_default().push(r);
        }
        let filter_key = match key {
            "user_id" => "assigned_to_user_id",
            other => other,
        };
        for (k, rs) in by {
            let extra: Vec<(&str, String)> = k.iter().map(|v| (filter_key, v.clone())).collect();
            rows.push(ctx.row(
                section,
                None,
                &[(key, k.clone())],
                owned(&response_metrics(&rs)),
                &extra,
            ));
        }
    }
    let mut by_bucket: BTreeMap<time::OffsetDateTime, Vec<&response::Response>> = BTreeMap::new();
    for r in c.responses.iter().filter(|r| r.first) {
        let b = commlog_domain::buckets::bucket_start(r.asked_at, ctx.tz, ctx.bucket);
        by_bucket.entry(b).or_default().push(r);
    }
    for b in &ctx.buckets {
        let rs = by_bucket.get(b).cloned().unwrap_or_default();
        let d = Distribution::of(rs.iter().map(|r| r.seconds));
        rows.push(ctx.row(
            "series",
            Some(*b),
            &[],
            owned(&distribution_metrics("first_response", &d)),
            &[],
        ));
    }
    // Response times are measured from the period's conversation logs, never the rollup.
    Ok(Report {
        source: "logs",
        ..ctx.report("response_times", rows)
    })
}

/// `GET /api/analytics/channels/`: per channel volume and share, calls answered and missed,
/// average handle time, first-response time; capture errors per integration.
pub async fn channels(ctx: &Context, store: &Store) -> ApiResult<Report> {
    use Dimension::*;
    let m = ctx
        .totals(store, &[Channel, Direction, CommunicationType])
        .await?;
    let mut per: BTreeMap<String, (Measures, i64, i64)> = BTreeMap::new();
    for (k, v) in &m {
        let channel = k[0].clone().unwrap_or_default();
        let inbound_call = k[1].as_deref() == Some("inbound") && k[2].as_deref() == Some("call");
        let e = per.entry(channel).or_default();
        e.0.add(v);
        if inbound_call {
            e.1 += v.logs;
            e.2 += v.answered;
        }
    }
    let total: i64 = per.values().map(|(m, ..)| m.logs).sum();
    // First responses only.
    let c = conversations(ctx, store, true).await?;
    let mut rows = Vec::new();
    for (channel, (m, inbound_calls, answered)) in &per {
        let first: Vec<i64> = c
            .responses
            .iter()
            .filter(|r| r.first && &r.channel == channel)
            .map(|r| r.seconds)
            .collect();
        let mut metrics = vec![
            ("logs", json!(m.logs)),
            ("share", ratio(m.logs, total)),
            ("inbound_calls", json!(inbound_calls)),
            ("answered", json!(answered)),
            ("missed", json!(m.missed)),
            ("answer_rate", ratio(*answered, *inbound_calls)),
            (
                "average_handle_seconds",
                mean(m.duration_seconds as f64, m.timed),
            ),
        ];
        let d = distribution_metrics("first_response", &Distribution::of(first));
        metrics.extend(owned(&d));
        rows.push(ctx.row(
            "channel",
            None,
            &[("channel", Some(channel.clone()))],
            metrics,
            &[("channel", channel.clone())],
        ));
    }
    if ctx.scope == commlog_domain::analytics::AnalyticsScope::Company {
        for e in store
            .analytics_capture_errors(ctx.company, ctx.period)
            .await?
        {
            rows.push(ctx.row(
                "capture_errors",
                None,
                &[("integration", Some(e.integration))],
                vec![("errors", json!(e.errors))],
                &[],
            ));
        }
    }
    Ok(ctx.report("channels", rows))
}

fn sentiment_metrics(m: &Measures) -> Vec<(&'static str, Value)> {
    let rated = m.positive + m.neutral + m.negative;
    vec![
        ("logs", json!(m.logs)),
        ("positive", json!(m.positive)),
        ("neutral", json!(m.neutral)),
        ("negative", json!(m.negative)),
        ("negative_share", ratio(m.negative, rated)),
        ("average_score", mean(m.sentiment_sum, m.scored)),
    ]
}

fn keyed_rows(
    ctx: &Context,
    section: &str,
    d: Dimension,
    m: &Keyed,
    metrics: fn(&Measures) -> Vec<(&'static str, Value)>,
) -> Vec<Row> {
    m.iter()
        .map(|(k, v)| {
            ctx.row(
                section,
                None,
                &[(key_name(d), k[0].clone())],
                metrics(v),
                &key_filter(d, &k[0]),
            )
        })
        .collect()
}

/// `GET /api/analytics/sentiment/`: distribution, trend, by channel, agent and customer, and
/// the most negative conversations.
pub async fn sentiment(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let mut rows = Vec::new();
    let series = ctx.measures(store, &[]).await?;
    let mut all = Measures::default();
    for m in series.values() {
        all.add(m);
    }
    rows.push(ctx.row("overall", None, &[], sentiment_metrics(&all), &[]));
    for (label, n) in [
        ("positive", all.positive),
        ("neutral", all.neutral),
        ("negative", all.negative),
    ] {
        rows.push(ctx.row(
            "distribution",
            None,
            &[("sentiment", Some(label.to_owned()))],
            vec![
                ("count", json!(n)),
                ("share", ratio(n, all.positive + all.neutral + all.negative)),
            ],
            &[("sentiment", label.to_owned())],
        ));
    }
    for b in &ctx.buckets {
        let m = series.get(&(*b, vec![])).copied().unwrap_or_default();
        rows.push(ctx.row("series", Some(*b), &[], sentiment_metrics(&m), &[]));
    }
    rows.extend(keyed_rows(
        ctx,
        "channel",
        Dimension::Channel,
        &ctx.totals(store, &[Dimension::Channel]).await?,
        sentiment_metrics,
    ));
    rows.extend(keyed_rows(
        ctx,
        "agent",
        Dimension::User,
        &ctx.totals(store, &[Dimension::User]).await?,
        sentiment_metrics,
    ));
    let q = ctx.measure_query(&[]);
    for c in store
        .analytics_customer_sentiment(ctx.company, &q, 20)
        .await?
    {
        rows.push(ctx.row(
            "customer",
            None,
            &[
                ("customer_id", Some(c.customer_id.to_string())),
                ("customer_name", Some(c.name)),
            ],
            vec![
                ("logs", json!(c.logs)),
                ("negative", json!(c.negative)),
                ("average_score", json!(c.average_score)),
            ],
            &[("customer_id", c.customer_id.to_string())],
        ));
    }
    for l in store.analytics_most_negative(ctx.company, &q, 10).await? {
        let mut r = ctx.row(
            "most_negative",
            None,
            &[
                ("log_id", Some(l.id.to_string())),
                (
                    "subject",
                    Some(if ctx.mask_pii {
                        crate::processing::masking::mask_plain(&l.subject)
                    } else {
                        l.subject
                    }),
                ),
                ("channel", Some(l.channel)),
            ],
            vec![
                ("sentiment_score", json!(l.sentiment_score)),
                ("start_time", json!(super::rfc3339(l.start_time))),
            ],
            &[],
        );
        r.insert("href", json!(format!("/api/communication-logs/{}/", l.id)));
        rows.push(r);
    }
    Ok(ctx.report("sentiment", rows))
}

fn follow_up_metrics(m: &Measures) -> Vec<(&'static str, Value)> {
    vec![
        ("logs", json!(m.logs)),
        ("follow_ups", json!(m.follow_ups)),
        ("follow_up_rate", ratio(m.follow_ups, m.logs)),
        ("completed", json!(m.follow_ups_completed)),
        (
            "completion_rate",
            ratio(m.follow_ups_completed, m.follow_ups),
        ),
        ("overdue", json!(m.follow_ups_overdue)),
    ]
}

/// `GET /api/analytics/follow-ups/`: follow-up rate, completion, overdue and time to complete.
pub async fn follow_ups(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let series = ctx.measures(store, &[]).await?;
    let mut all = Measures::default();
    for m in series.values() {
        all.add(m);
    }
    let durations = store
        .analytics_follow_up_durations(ctx.company, &ctx.measure_query(&[]))
        .await?;
    let mut overall = follow_up_metrics(&all);
    let d = distribution_metrics("completion", &Distribution::of(durations));
    overall.extend(owned(&d));
    let mut rows = vec![ctx.row(
        "overall",
        None,
        &[],
        overall,
        &[("requires_follow_up", "true".into())],
    )];
    for b in &ctx.buckets {
        let m = series.get(&(*b, vec![])).copied().unwrap_or_default();
        rows.push(ctx.row(
            "series",
            Some(*b),
            &[],
            follow_up_metrics(&m),
            &[("requires_follow_up", "true".into())],
        ));
    }
    rows.extend(keyed_rows(
        ctx,
        "agent",
        Dimension::User,
        &ctx.totals(store, &[Dimension::User]).await?,
        follow_up_metrics,
    ));
    Ok(ctx.report("follow_ups", rows))
}

/// `GET /api/analytics/productivity/`: per agent, communications handled in the period and
/// open items now against capacity; per team, the same summed.
pub async fn productivity(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let handled = ctx
        .totals(store, &[Dimension::User, Dimension::CommunicationType])
        .await?;
    let mut per_user: HashMap<Uuid, (i64, i64, i64)> = HashMap::new();
    for (k, m) in &handled {
        let Some(user) = k[0].as_deref().and_then(|u| Uuid::parse_str(u).ok()) else {
            continue;
        };
        let e = per_user.entry(user).or_default();
        e.0 += m.logs;
        if k[1].as_deref() == Some("call") {
            e.1 += m.logs;
        }
        e.2 += m.duration_seconds;
    }
    let load = store.analytics_workload(ctx.company, ctx.scope).await?;
    let mut rows = Vec::new();
    let mut teams: BTreeMap<Option<Uuid>, (i64, i64, i64)> = BTreeMap::new();
    for a in &load {
        let (logs, calls, seconds) = per_user.get(&a.user_id).copied().unwrap_or_default();
        let t = teams.entry(a.team_id).or_default();
        t.0 += logs;
        t.1 += a.active;
        t.2 += a.capacity;
        rows.push(ctx.row(
            "agent",
            None,
            &[
                ("user_id", Some(a.user_id.to_string())),
                ("full_name", Some(a.full_name.clone())),
                ("team_id", a.team_id.map(|t| t.to_string())),
            ],
            vec![
                ("handled", json!(logs)),
                ("calls", json!(calls)),
                ("talk_seconds", json!(seconds)),
                ("active", json!(a.active)),
                ("capacity", json!(a.capacity)),
                ("utilisation", ratio(a.active, a.capacity)),
            ],
            &[("assigned_to_user_id", a.user_id.to_string())],
        ));
    }
    for (team, (logs, active, capacity)) in teams {
        let extra: Vec<(&str, String)> = team.iter().map(|t| ("team_id", t.to_string())).collect();
        rows.push(ctx.row(
            "team",
            None,
            &[("team_id", team.map(|t| t.to_string()))],
            vec![
                ("handled", json!(logs)),
                ("active", json!(active)),
                ("capacity", json!(capacity)),
                ("utilisation", ratio(active, capacity)),
            ],
            &extra,
        ));
    }
    Ok(ctx.report("productivity", rows))
}

/// `GET /api/analytics/business/`: first-contact resolution, cost per communication by
/// channel, customer satisfaction.
pub async fn business(ctx: &Context, store: &Store) -> ApiResult<Report> {
    let c = conversations(ctx, store, false).await?;
    let resolved = c.resolutions.len() as i64;
    let first = c.resolutions.iter().filter(|r| r.first_contact).count() as i64;
    let mut rows = vec![ctx.row(
        "first_contact_resolution",
        None,
        &[],
        vec![
            ("resolved", json!(resolved)),
            ("first_contact", json!(first)),
            ("share", ratio(first, resolved)),
        ],
        &[],
    )];
    let by_channel = ctx.totals(store, &[Dimension::Channel]).await?;
    let (mut total_cost, mut total_logs, mut priced) = (0.0, 0, false);
    for (k, m) in &by_channel {
        let channel = k[0].clone().unwrap_or_default();
        let cost = ctx.settings.cost_of(&channel).map(|c| {
            c.per_message * m.logs as f64 + c.per_minute * m.duration_seconds as f64 / 60.0
        });
        if let Some(v) = cost {
            total_cost += v;
            priced = true;
        }
        total_logs += m.logs;
        rows.push(ctx.row(
            "cost",
            None,
            &[("channel", Some(channel.clone()))],
            vec![
                ("logs", json!(m.logs)),
                ("minutes", json!(m.duration_seconds as f64 / 60.0)),
                ("cost", json!(cost)),
                (
                    "cost_per_communication",
                    cost.map_or(Value::Null, |v| mean(v, m.logs)),
                ),
            ],
            &[("channel", channel)],
        ));
    }
    rows.push(ctx.row(
        "cost",
        None,
        &[("channel", None)],
        vec![
            ("logs", json!(total_logs)),
            (
                "cost",
                if priced {
                    json!(total_cost)
                } else {
                    Value::Null
                },
            ),
            (
                "cost_per_communication",
                if priced {
                    mean(total_cost, total_logs)
                } else {
                    Value::Null
                },
            ),
        ],
        &[],
    ));
    let by_user = ctx.totals(store, &[Dimension::User]).await?;
    let mut all = Measures::default();
    for m in by_user.values() {
        all.add(m);
    }
    let satisfaction = |m: &Measures| {
        vec![
            ("rated", json!(m.rated)),
            (
                "average_satisfaction",
                mean(m.satisfaction_sum as f64, m.rated),
            ),
        ]
    };
    rows.push(ctx.row(
        "satisfaction",
        None,
        &[("user_id", None)],
        satisfaction(&all),
        &[],
    ));
    for (k, m) in by_user.iter().filter(|(_, m)| m.rated > 0) {
        rows.push(ctx.row(
            "satisfaction",
            None,
            &[("user_id", k[0].clone())],
            satisfaction(m),
            &key_filter(Dimension::User, &k[0]),
        ));
    }
    Ok(ctx.report("business", rows))
}
