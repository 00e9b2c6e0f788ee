//! What analytics reads: measures per hour from the rollup that triggers keep (migration 0011),
//! the same measures per quarter hour from the logs when the rollup cannot answer (a category or
//! customer filter, a time zone with half-hour offsets, a period not on whole hours), the logs of
//! conversations for response times, live counters, workload — and `verify`, which recomputes
//! a period from the logs and compares it with the rollup.

use super::audit::{self, Tx};
use super::{Db, dialect, field_crypto, logs, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::analytics::*;
use commlog_domain::{CommunicationLog, time_fmt};
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row as _};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// The rollup's measures, summed.
const ROLLUP_SUMS: &str = "CAST(sum(a.logs) AS BIGINT) AS logs, CAST(sum(a.duration_seconds) AS BIGINT) AS duration_seconds, \
    CAST(sum(a.timed) AS BIGINT) AS timed, CAST(sum(a.answered) AS BIGINT) AS answered, CAST(sum(a.missed) AS BIGINT) AS missed, \
    CAST(sum(a.positive) AS BIGINT) AS positive, CAST(sum(a.neutral) AS BIGINT) AS neutral, CAST(sum(a.negative) AS BIGINT) AS negative, \
    CAST(sum(a.scored) AS BIGINT) AS scored, CAST(coalesce(sum(a.sentiment_sum), 0) AS DOUBLE PRECISION) AS sentiment_sum, \
    CAST(sum(a.follow_ups) AS BIGINT) AS follow_ups, CAST(sum(a.follow_ups_completed) AS BIGINT) AS follow_ups_completed, \
    CAST(sum(a.follow_ups_overdue) AS BIGINT) AS follow_ups_overdue, CAST(sum(a.rated) AS BIGINT) AS rated, \
    CAST(sum(a.satisfaction_sum) AS BIGINT) AS satisfaction_sum";

/// The same measures computed from logs aliased `l` — the definitions the triggers apply row by
/// row, so the two paths agree.
const LOG_MEASURES: &str = "count(*) AS logs, coalesce(CAST(sum(l.duration_seconds) AS BIGINT), 0) AS duration_seconds, \
    count(l.duration_seconds) AS timed, count(*) FILTER (WHERE l.call_outcome = 'answered') AS answered, \
    count(*) FILTER (WHERE l.communication_type = 'call' AND l.direction = 'inbound' \
        AND l.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled')) AS missed, \
    count(*) FILTER (WHERE l.sentiment = 'positive') AS positive, count(*) FILTER (WHERE l.sentiment = 'neutral') AS neutral, \
    count(*) FILTER (WHERE l.sentiment = 'negative') AS negative, count(l.sentiment_score) AS scored, \
    CAST(coalesce(sum(l.sentiment_score), 0) AS DOUBLE PRECISION) AS sentiment_sum, \
    count(*) FILTER (WHERE l.requires_follow_up) AS follow_ups, \
    count(*) FILTER (WHERE l.requires_follow_up AND l.follow_up_status = 'completed') AS follow_ups_completed, \
    count(*) FILTER (WHERE l.requires_follow_up AND l.follow_up_status = 'overdue') AS follow_ups_overdue, \
    count(l.satisfaction_score) AS rated, coalesce(CAST(sum(l.satisfaction_score) AS BIGINT), 0) AS satisfaction_sum";

/// Statuses of items still needing someone.
const OPEN_STATUSES: &str = "('logged', 'in_progress', 'awaiting_response', 'escalated')";

/// The open-items table's counts, summed.
const OPEN_ITEM_SUMS: &str = "CAST(coalesce(sum(a.open), 0) AS BIGINT) AS open, \
    CAST(coalesce(sum(a.awaiting_response), 0) AS BIGINT) AS awaiting_response, \
    CAST(coalesce(sum(a.escalated), 0) AS BIGINT) AS escalated, \
    CAST(coalesce(sum(a.overdue_follow_ups), 0) AS BIGINT) AS overdue_follow_ups";

fn counters(r: &rows::Row) -> StoreResult<Counters> {
    Ok(Counters {
        open: rows::get(r, "open")?,
        awaiting_response: rows::get(r, "awaiting_response")?,
        escalated: rows::get(r, "escalated")?,
        overdue_follow_ups: rows::get(r, "overdue_follow_ups")?,
    })
}

fn measures(r: &rows::Row) -> StoreResult<Measures> {
    Ok(Measures {
        logs: rows::get(r, "logs")?,
        duration_seconds: rows::get::<Option<i64>>(r, "duration_seconds")?.unwrap_or(0),
        timed: rows::get(r, "timed")?,
        answered: rows::get(r, "answered")?,
        missed: rows::get(r, "missed")?,
        positive: rows::get(r, "positive")?,
        neutral: rows::get(r, "neutral")?,
        negative: rows::get(r, "negative")?,
        scored: rows::get(r, "scored")?,
        sentiment_sum: rows::get::<Option<f64>>(r, "sentiment_sum")?.unwrap_or(0.0),
        follow_ups: rows::get(r, "follow_ups")?,
        follow_ups_completed: rows::get(r, "follow_ups_completed")?,
        follow_ups_overdue: rows::get(r, "follow_ups_overdue")?,
        rated: rows::get(r, "rated")?,
        satisfaction_sum: rows::get::<Option<i64>>(r, "satisfaction_sum")?.unwrap_or(0),
    })
}

/// Whether the company-wide rollup (`analytics_hourly_company`: channel, type and direction
/// per hour) can answer: the company's figures, kept apart by at most those dimensions.
fn company_rollup_answers(q: &MeasureQuery) -> bool {
    q.scope == AnalyticsScope::Company
        && q.filters.team_id.is_none()
        && q.filters.user_id.is_none()
        && q.group_by
            .iter()
            .all(|d| matches!(d, Dimension::Channel | Dimension::CommunicationType | Dimension::Direction))
}

/// The log column of a dimension (the rollup names the assignee `user_id`).
fn log_column(d: Dimension) -> &'static str {
    match d {
        Dimension::User => "assigned_to_user_id",
        other => other.column(),
    }
}

/// Reads a dimension's value as text; the nil UUID of the rollup reads as none.
fn key(r: &rows::Row, i: usize, d: Dimension) -> StoreResult<Option<String>> {
    let col = format!("k{i}");
    Ok(match d {
        Dimension::Team | Dimension::User => rows::get::<Option<Uuid>>(r, &col)?
            .filter(|u| !u.is_nil())
            .map(|u| u.to_string()),
        _ => rows::get::<Option<String>>(r, &col)?,
    })
}

/// `AND …` for the caller's scope and the query's filters, over `alias` (`a` rollup, `l` logs).
fn push_filters(qb: &mut QueryBuilder<Db>, alias: &str, scope: AnalyticsScope, f: &AnalyticsQuery) {
    let (team, user) = match alias {
        "a" => ("a.team_id", "a.user_id"),
        _ => ("l.team_id", "l.assigned_to_user_id"),
    };
    match scope {
        AnalyticsScope::Company => {}
        AnalyticsScope::Team(t) => {
            qb.push(format!(" AND {team} = ")).push_bind(t);
        }
        AnalyticsScope::User(u) => {
            qb.push(format!(" AND {user} = ")).push_bind(u);
        }
    }
    if let Some(t) = f.team_id {
        qb.push(format!(" AND {team} = ")).push_bind(t);
    }
    if let Some(u) = f.user_id {
        qb.push(format!(" AND {user} = ")).push_bind(u);
    }
    if let Some(c) = &f.channel {
        qb.push(format!(" AND {alias}.channel = ")).push_bind(c.clone());
    }
    if let Some(t) = f.communication_type {
        qb.push(format!(" AND {alias}.communication_type = ")).push_bind(t.as_str());
    }
    if let Some(d) = f.direction {
        qb.push(format!(" AND {alias}.direction = ")).push_bind(d.as_str());
    }
    if alias == "l" {
        if let Some(c) = f.customer_id {
            qb.push(" AND l.customer_id = ").push_bind(c);
        }
        if let Some(c) = f.category.as_deref() {
            qb.push(
                " AND EXISTS (SELECT 1 FROM crm_communication_log_categories lc JOIN crm_communication_categories c \
                 ON c.company_id = lc.company_id AND c.id = lc.category_id WHERE lc.company_id = l.company_id \
                 AND lc.communication_log_id = l.id AND ",
            );
            match Uuid::parse_str(c) {
                Ok(id) => qb.push("c.id = ").push_bind(id),
                Err(_) => qb.push("c.category_code = ").push_bind(c.to_owned()),
            };
            qb.push(")");
        }
    }
}

/// `WHERE` over live logs of a company in a period, with scope and filters.
fn push_log_period(qb: &mut QueryBuilder<Db>, company: Uuid, q: &MeasureQuery) {
    qb.push(" WHERE l.company_id = ").push_bind(company);
    qb.push(" AND ").push(dialect::LIVE);
    qb.push(" AND l.start_time >= ").push_bind(DbTime::from(q.period.since));
    qb.push(" AND l.start_time < ").push_bind(DbTime::from(q.period.until));
    push_filters(qb, "l", q.scope, &q.filters);
}

impl Engine<Db> {
    /// Measures per time slot and combination of `q.group_by`: hours from the rollup, or
    /// quarter hours from the logs when `q.from_logs`.
    pub(crate) async fn analytics_measures(&self, company: Uuid, q: &MeasureQuery) -> StoreResult<Vec<SlotMeasures>> {
        // The slot column comes first when there is one; the keys follow.
        let slot = match (q.whole_period, q.from_logs) {
            (true, _) => None,
            (false, true) => Some(dialect::QUARTER_HOUR_SLOT),
            (false, false) => Some("a.bucket"),
        };
        let (alias, table) = match (q.from_logs, company_rollup_answers(q)) {
            (true, _) => ("l", "crm_communication_logs"),
            (false, true) => ("a", "analytics_hourly_company"),
            (false, false) => ("a", "analytics_hourly"),
        };
        let mut columns: Vec<String> = slot.map(|s| format!("{s} AS slot")).into_iter().collect();
        for (i, d) in q.group_by.iter().enumerate() {
            let column = if q.from_logs { log_column(*d) } else { d.column() };
            columns.push(format!("{alias}.{column} AS k{i}"));
        }
        columns.push(if q.from_logs { LOG_MEASURES } else { ROLLUP_SUMS }.to_owned());
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {} FROM {table} {alias}", columns.join(", ")));
        if q.from_logs {
            push_log_period(&mut qb, company, q);
        } else {
            qb.push(" WHERE a.company_id = ").push_bind(company);
            qb.push(" AND a.bucket >= ").push_bind(DbTime::from(q.period.since));
            qb.push(" AND a.bucket < ").push_bind(DbTime::from(q.period.until));
            push_filters(&mut qb, "a", q.scope, &q.filters);
        }
        let grouped = usize::from(slot.is_some()) + q.group_by.len();
        if grouped > 0 {
            let positions: Vec<String> = (1..=grouped).map(|i| i.to_string()).collect();
            qb.push(format!(" GROUP BY {}", positions.join(", ")));
        }
        if !q.from_logs {
            // Rows whose logs all moved elsewhere are kept at zero; they add nothing.
            qb.push(" HAVING CAST(sum(a.logs) AS BIGINT) <> 0");
        }
        let fetched = qb.build().persistent(false).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| {
                let keys = q.group_by.iter().enumerate().map(|(i, d)| key(r, i, *d)).collect::<StoreResult<_>>()?;
                let slot = if slot.is_some() { rows::time(r, "slot")? } else { q.period.since };
                Ok(SlotMeasures { slot, keys, measures: measures(r)? })
            })
            .collect()
    }

    /// The logs of the conversations of a period that can measure something (notes and lone
    /// logs the company started excluded), ordered by conversation and time. With
    /// `threads_only`, only threaded ones: a lone log is never answered, so what is measured of
    /// responses alone (not waits or resolutions) needs no more.
    pub(crate) async fn analytics_conversations(&self, company: Uuid, q: &MeasureQuery, threads_only: bool) -> StoreResult<Vec<ConversationLog>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT l.id, coalesce(l.thread_id, l.id) AS conversation, l.communication_type, l.direction, l.status, l.priority, \
             l.channel, l.team_id, l.assigned_to_user_id, l.start_time, l.updated_at FROM crm_communication_logs l",
        );
        push_log_period(&mut qb, company, q);
        // A log outside any thread is a conversation of its own, and one that the customer did
        // not start measures nothing: most logs of a large company are such, and left unread.
        qb.push(" AND l.communication_type <> 'note' AND (l.thread_id IS NOT NULL OR l.direction = 'inbound')");
        if threads_only {
            qb.push(" AND l.thread_id IS NOT NULL");
        }
        qb.push(" ORDER BY 2, l.start_time, l.id");
        let fetched = qb.build().persistent(false).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| {
                Ok(ConversationLog {
                    id: rows::get(r, "id")?,
                    conversation: rows::get(r, "conversation")?,
                    communication_type: rows::parse(r, "communication_type")?,
                    direction: rows::parse(r, "direction")?,
                    status: rows::parse(r, "status")?,
                    priority: rows::parse(r, "priority")?,
                    channel: rows::get(r, "channel")?,
                    team_id: rows::get(r, "team_id")?,
                    user_id: rows::get(r, "assigned_to_user_id")?,
                    start_time: rows::time(r, "start_time")?,
                    updated_at: rows::time(r, "updated_at")?,
                })
            })
            .collect()
    }

    /// Seconds from each completed follow-up's communication to its completion.
    pub(crate) async fn analytics_follow_up_durations(&self, company: Uuid, q: &MeasureQuery) -> StoreResult<Vec<i64>> {
        let mut qb = QueryBuilder::<Db>::new("SELECT l.start_time, l.follow_up_completed_at FROM crm_communication_logs l");
        push_log_period(&mut qb, company, q);
        qb.push(" AND l.requires_follow_up AND l.follow_up_completed_at IS NOT NULL");
        let fetched = qb.build().persistent(false).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| Ok((rows::time(r, "follow_up_completed_at")? - rows::time(r, "start_time")?).whole_seconds().max(0)))
            .collect()
    }

    /// Customers of a period with the most negative logs.
    pub(crate) async fn analytics_customer_sentiment(&self, company: Uuid, q: &MeasureQuery, limit: i64) -> StoreResult<Vec<CustomerSentiment>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT l.customer_id, min(c.name) AS name, count(*) AS logs, count(*) FILTER (WHERE l.sentiment = 'negative') AS negative, \
             CAST(avg(l.sentiment_score) AS DOUBLE PRECISION) AS average_score FROM crm_communication_logs l \
             JOIN customers c ON c.company_id = l.company_id AND c.id = l.customer_id",
        );
        push_log_period(&mut qb, company, q);
        // Stated, though the join implies it, so that both engines see the index it matches.
        qb.push(" AND l.customer_id IS NOT NULL GROUP BY l.customer_id ORDER BY 4 DESC, 3 DESC, 1 LIMIT ").push_bind(limit);
        let fetched = qb.build().persistent(false).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| {
                Ok(CustomerSentiment {
                    customer_id: rows::get(r, "customer_id")?,
                    name: rows::get(r, "name")?,
                    logs: rows::get(r, "logs")?,
                    negative: rows::get(r, "negative")?,
                    average_score: rows::get(r, "average_score")?,
                })
            })
            .collect()
    }

    /// The most negative logs of a period.
    pub(crate) async fn analytics_most_negative(&self, company: Uuid, q: &MeasureQuery, limit: i64) -> StoreResult<Vec<NegativeLog>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT l.id, l.subject, l.channel, l.customer_id, l.assigned_to_user_id, l.start_time, l.sentiment_score FROM crm_communication_logs l",
        );
        push_log_period(&mut qb, company, q);
        qb.push(" AND l.sentiment_score < 0 ORDER BY l.sentiment_score, l.start_time DESC LIMIT ").push_bind(limit);
        let mut conn = self.read.acquire().await?;
        let fetched = qb.build().persistent(false).fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(fetched.len());
        for r in &fetched {
            let id: Uuid = rows::get(r, "id")?;
            let subject: String = rows::get(r, "subject")?;
            out.push(NegativeLog {
                id,
                subject: field_crypto::open_company_text(&mut conn, company, &subject, &format!("subject:{id}")).await?,
                channel: rows::get(r, "channel")?,
                customer_id: rows::get(r, "customer_id")?,
                assigned_to_user_id: rows::get(r, "assigned_to_user_id")?,
                start_time: rows::time(r, "start_time")?,
                sentiment_score: rows::get(r, "sentiment_score")?,
            });
        }
        Ok(out)
    }

    /// Capture failures of a period: dead jobs by kind, quarantined mail by origin.
    pub(crate) async fn analytics_capture_errors(&self, company: Uuid, period: Period) -> StoreResult<Vec<CaptureErrors>> {
        let (since, until) = (DbTime::from(period.since), DbTime::from(period.until));
        let jobs = sqlx::query(
            "SELECT kind AS integration, count(*) AS errors FROM jobs WHERE company_id = $1 AND status = 'dead' \
             AND created_at >= $2 AND created_at < $3 GROUP BY kind",
        )
        .bind(company)
        .bind(since)
        .bind(until)
        .fetch_all(&self.read)
        .await?;
        let mail = sqlx::query(
            "SELECT 'email:' || origin AS integration, count(*) AS errors FROM email_quarantine WHERE company_id = $1 \
             AND received_at >= $2 AND received_at < $3 GROUP BY origin",
        )
        .bind(company)
        .bind(since)
        .bind(until)
        .fetch_all(&self.read)
        .await?;
        let mut out = jobs
            .iter()
            .chain(&mail)
            .map(|r| Ok(CaptureErrors { integration: rows::get(r, "integration")?, errors: rows::get(r, "errors")? }))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| a.integration.cmp(&b.integration));
        Ok(out)
    }

    /// What needs attention now in a scope, from the open-items table (migration 0017).
    pub(crate) async fn analytics_counters(&self, company: Uuid, scope: AnalyticsScope) -> StoreResult<Counters> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {OPEN_ITEM_SUMS} FROM analytics_open_items a WHERE a.company_id = "));
        qb.push_bind(company);
        push_filters(&mut qb, "a", scope, &AnalyticsQuery::default());
        let r = qb.build().persistent(false).fetch_one(&self.read).await?;
        counters(&r)
    }

    /// Active users of a scope with their capacity and open items now.
    pub(crate) async fn analytics_workload(&self, company: Uuid, scope: AnalyticsScope) -> StoreResult<Vec<AgentLoad>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT u.id, u.full_name, u.team_id, u.capacity, (SELECT CAST(coalesce(sum(a.open), 0) AS BIGINT) \
             FROM analytics_open_items a WHERE a.company_id = u.company_id AND a.user_id = u.id) AS active \
             FROM users u WHERE u.is_active AND u.company_id = ",
        );
        qb.push_bind(company);
        match scope {
            AnalyticsScope::Company => {}
            AnalyticsScope::Team(t) => {
                qb.push(" AND u.team_id = ").push_bind(t);
            }
            AnalyticsScope::User(u) => {
                qb.push(" AND u.id = ").push_bind(u);
            }
        }
        qb.push(" ORDER BY u.full_name, u.id");
        let fetched = qb.build().persistent(false).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| {
                Ok(AgentLoad {
                    user_id: rows::get(r, "id")?,
                    full_name: rows::get(r, "full_name")?,
                    team_id: rows::get(r, "team_id")?,
                    capacity: i64::from(rows::get::<i32>(r, "capacity")?),
                    active: rows::get(r, "active")?,
                })
            })
            .collect()
    }

    /// The open items of a company per team and assignee, counted from the logs (what the
    /// open-items table should hold).
    async fn open_items_from_logs(&self, company: Uuid) -> StoreResult<BTreeMap<(Option<Uuid>, Option<Uuid>), Counters>> {
        let sql = format!(
            "SELECT l.team_id AS team_id, l.assigned_to_user_id AS user_id, \
             count(*) FILTER (WHERE l.status IN {OPEN_STATUSES}) AS open, \
             count(*) FILTER (WHERE l.status = 'awaiting_response') AS awaiting_response, \
             count(*) FILTER (WHERE l.status = 'escalated') AS escalated, \
             count(*) FILTER (WHERE l.requires_follow_up AND l.follow_up_status = 'overdue') AS overdue_follow_ups \
             FROM crm_communication_logs l WHERE l.company_id = $1 AND {} \
             AND (l.status IN {OPEN_STATUSES} OR (l.requires_follow_up AND l.follow_up_status = 'overdue')) GROUP BY 1, 2",
            dialect::LIVE
        );
        let fetched = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company).fetch_all(&self.read).await?;
        fetched
            .iter()
            .map(|r| Ok(((rows::get(r, "team_id")?, rows::get(r, "user_id")?), counters(r)?)))
            .collect()
    }

    /// The open-items table's rows of a company (the nil UUID read as none).
    async fn open_items_kept(&self, company: Uuid) -> StoreResult<BTreeMap<(Option<Uuid>, Option<Uuid>), Counters>> {
        let fetched = sqlx::query(
            "SELECT a.team_id, a.user_id, a.open, a.awaiting_response, a.escalated, a.overdue_follow_ups \
             FROM analytics_open_items a WHERE a.company_id = $1",
        )
        .bind(company)
        .fetch_all(&self.read)
        .await?;
        let some = |u: Uuid| (!u.is_nil()).then_some(u);
        let mut out = BTreeMap::new();
        for r in &fetched {
            let c = counters(r)?;
            // Rows whose logs all moved elsewhere stay at zero; they hold nothing.
            if c != Counters::default() {
                out.insert((some(rows::get(r, "team_id")?), some(rows::get(r, "user_id")?)), c);
            }
        }
        Ok(out)
    }

    /// Where the open-items table differs from the logs; with `repair`, rewrites the company's rows.
    async fn verify_open_items(&self, company: Uuid, repair: bool) -> StoreResult<Vec<RollupMismatch>> {
        let kept = self.open_items_kept(company).await?;
        let counted = self.open_items_from_logs(company).await?;
        let name = |u: &Option<Uuid>| u.map_or_else(|| "-".to_owned(), |u| u.to_string());
        let mut out = Vec::new();
        for key in kept.keys().chain(counted.keys()).collect::<std::collections::BTreeSet<_>>() {
            let (a, b) = (kept.get(key).copied().unwrap_or_default(), counted.get(key).copied().unwrap_or_default());
            if a != b {
                out.push(RollupMismatch {
                    hour: "now".into(),
                    key: format!("open_items/{}/{}", name(&key.0), name(&key.1)),
                    rollup: json!(a),
                    logs: json!(b),
                });
            }
        }
        if repair && !out.is_empty() {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM analytics_open_items WHERE company_id = $1").bind(company).execute(&mut *tx).await?;
            for ((team, user), c) in &counted {
                sqlx::query(
                    "INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(company)
                .bind(team.unwrap_or_else(Uuid::nil))
                .bind(user.unwrap_or_else(Uuid::nil))
                .bind(c.open)
                .bind(c.awaiting_response)
                .bind(c.escalated)
                .bind(c.overdue_follow_ups)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(out)
    }

    /// Recomputes the hours of a period from the logs and lists where the rollup differs; with
    /// `repair`, rewrites those hours from the logs.
    pub(crate) async fn analytics_verify(&self, company: Uuid, period: Period, repair: bool) -> StoreResult<Vec<RollupMismatch>> {
        let all = [
            Dimension::Team,
            Dimension::User,
            Dimension::CommunicationType,
            Dimension::Channel,
            Dimension::Direction,
            Dimension::Status,
        ];
        // Whole hours covering the period.
        let since = time_fmt::normalize(period.since).replace_minute(0).and_then(|t| t.replace_second(0)).and_then(|t| t.replace_nanosecond(0)).map_err(|_| StoreError::Other("hour".into()))?;
        let until = period.until;
        let q = |from_logs| MeasureQuery {
            period: Period { since, until: hour_ceiling(until) },
            scope: AnalyticsScope::Company,
            filters: AnalyticsQuery::default(),
            group_by: all.to_vec(),
            from_logs,
            whole_period: false,
        };
        let fold = |slots: Vec<SlotMeasures>| {
            let mut m: BTreeMap<(String, String), Measures> = BTreeMap::new();
            for s in slots {
                let hour = time_fmt::normalize(s.slot).replace_minute(0).unwrap_or(s.slot);
                let k = s.keys.iter().map(|k| k.as_deref().unwrap_or("-")).collect::<Vec<_>>().join("/");
                m.entry((DbTime::from(hour).to_sqlite_text().unwrap_or_default(), k)).or_default().add(&s.measures);
            }
            m
        };
        let mut out = Vec::new();
        // The full rollup, then the company-wide one (grouped by its own three dimensions).
        let narrow = [Dimension::CommunicationType, Dimension::Channel, Dimension::Direction];
        for (dims, prefix) in [(all.as_slice(), ""), (narrow.as_slice(), "company/")] {
            let with = |from_logs| MeasureQuery { group_by: dims.to_vec(), ..q(from_logs) };
            let rollup = fold(self.analytics_measures(company, &with(false)).await?);
            let logs = fold(self.analytics_measures(company, &with(true)).await?);
            for key in rollup.keys().chain(logs.keys()).collect::<std::collections::BTreeSet<_>>() {
                let (a, b) = (rollup.get(key).copied().unwrap_or_default(), logs.get(key).copied().unwrap_or_default());
                if !a.same_as(&b) {
                    out.push(RollupMismatch { hour: key.0.clone(), key: format!("{prefix}{}", key.1), rollup: json!(a), logs: json!(b) });
                }
            }
        }
        if repair && !out.is_empty() {
            self.rebuild_rollup(company, since, hour_ceiling(until)).await?;
        }
        // Open items are about now, whatever the period.
        out.extend(self.verify_open_items(company, repair).await?);
        Ok(out)
    }

    /// Rewrites the rollup of `[since, until)` (whole hours) from the logs.
    async fn rebuild_rollup(&self, company: Uuid, since: OffsetDateTime, until: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for table in ["analytics_hourly", "analytics_hourly_company"] {
            let sql = format!("DELETE FROM {table} WHERE company_id = $1 AND bucket >= $2 AND bucket < $3");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(company)
                .bind(DbTime::from(since))
                .bind(DbTime::from(until))
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "INSERT INTO analytics_hourly (company_id, bucket, team_id, user_id, communication_type, channel, direction, status, \
             logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, \
             follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum) \
             SELECT l.company_id, {}, coalesce(l.team_id, $4), coalesce(l.assigned_to_user_id, $4), l.communication_type, l.channel, \
             l.direction, l.status, {LOG_MEASURES} FROM crm_communication_logs l WHERE l.company_id = $1 AND {} \
             AND l.start_time >= $2 AND l.start_time < $3 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
            dialect::HOUR_SLOT,
            dialect::LIVE
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(DbTime::from(since))
            .bind(DbTime::from(until))
            .bind(Uuid::nil())
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction, \
             logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, \
             follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum) \
             SELECT l.company_id, {}, l.communication_type, l.channel, l.direction, {LOG_MEASURES} \
             FROM crm_communication_logs l WHERE l.company_id = $1 AND {} \
             AND l.start_time >= $2 AND l.start_time < $3 GROUP BY 1, 2, 3, 4, 5",
            dialect::HOUR_SLOT,
            dialect::LIVE
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(DbTime::from(since))
            .bind(DbTime::from(until))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn analytics_settings(&self, company: Uuid) -> StoreResult<AnalyticsSettings> {
        let row = sqlx::query("SELECT settings FROM analytics_settings WHERE company_id = $1")
            .bind(company)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok(AnalyticsSettings::default()) };
        let settings: Json<Value> = row.try_get("settings")?;
        serde_json::from_value(settings.0).map_err(|_| StoreError::corrupt("analytics_settings"))
    }

    /// Saves a company's analytics settings (checked by the caller), audited.
    pub(crate) async fn set_analytics_settings(&self, scope: &Scope, settings: &AnalyticsSettings) -> StoreResult<AnalyticsSettings> {
        settings.validate()?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO analytics_settings (company_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(scope.company_id())
        .bind(Json(settings))
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "update", "analytics_settings", None, json!({"settings": settings})).await?;
        tx.commit().await?;
        Ok(settings.clone())
    }

    /// Records (or clears) a visible log's customer-satisfaction score (1–5).
    pub(crate) async fn set_satisfaction(&self, scope: &Scope, id: Uuid, score: Option<i32>) -> StoreResult<CommunicationLog> {
        if score.is_some_and(|s| !(1..=5).contains(&s)) {
            return Err(StoreError::invalid("score", "out_of_range", "a satisfaction score is from 1 to 5"));
        }
        let mut tx: Tx = self.begin_write().await?;
        let before = logs::fetch(&mut tx, scope, id, true).await?;
        let now = time_fmt::now();
        sqlx::query("UPDATE crm_communication_logs SET satisfaction_score = $1, updated_at = $2 WHERE company_id = $3 AND id = $4")
            .bind(score)
            .bind(DbTime::from(now))
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let changes = json!({"satisfaction_score": {"from": before.satisfaction_score, "to": score}});
        audit::record(&mut tx, scope, "update", "communication_log", Some(id), changes.clone()).await?;
        let after = CommunicationLog { satisfaction_score: score, updated_at: now, ..before };
        audit::emit(&mut tx, scope.company_id(), "communication.updated", id, logs::event(&after, json!({"changes": changes}))).await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// The first whole hour at or after `t`.
fn hour_ceiling(t: OffsetDateTime) -> OffsetDateTime {
    let t = time_fmt::normalize(t);
    let floor = t.replace_minute(0).and_then(|x| x.replace_second(0)).and_then(|x| x.replace_nanosecond(0)).unwrap_or(t);
    if floor == t { t } else { floor + time::Duration::hours(1) }
}
