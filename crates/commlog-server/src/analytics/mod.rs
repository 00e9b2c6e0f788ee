//! Analytics reports: the caller's scope and period, measures folded into buckets of the
//! company's time zone, and rows that carry the log-list filter reproducing each figure.
//!
//! Every report is a list of rows (a `section` names what a row is: a bucket of a series, an
//! agent, a channel, a total). The JSON answer and the CSV export are the same rows, so an
//! export always agrees with the screen.

pub mod cache;
pub mod counters;
pub mod export;
pub mod reports;
pub mod response;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use commlog_domain::analytics::*;
use commlog_domain::buckets::{self, Bucket};
use commlog_domain::{Actor, Permission, time_fmt};
use commlog_store::Store;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// One figure's row: its section, keys and metrics, and the filter behind it. Keys keep the
/// order they were set in, which is the order of the CSV columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(Vec<(String, Value)>);

impl Row {
    /// Sets a key (replacing its value when it is already there).
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

impl serde::Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A report: what it covers and its rows.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    /// `volume`, `response_times`, `channels`, `sentiment`, `follow_ups`, `productivity`, `business`.
    pub report: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub until: OffsetDateTime,
    pub bucket: Bucket,
    pub timezone: String,
    /// `company`, `team` or `user`: whose figures these are.
    pub scope: &'static str,
    /// `rollup` when the hourly rollup answered the counts, `logs` when only the logs were
    /// read. Figures of conversations (response times, first-contact resolution) and of
    /// customers always come from the logs of the period.
    pub source: &'static str,
    /// Each figure: `section`, its keys (`bucket`, `channel`, `user_id`, …), its metrics,
    /// `filter` (the log-list query selecting the logs behind it) and `href` (that query).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Row>,
}

/// The reports of `/api/analytics/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Volume,
    ResponseTimes,
    Channels,
    Sentiment,
    FollowUps,
    Productivity,
    Business,
}

/// A made report, and its JSON (serialised once, however often it is read).
#[derive(Clone)]
pub struct MadeReport {
    pub report: std::sync::Arc<Report>,
    pub json: bytes::Bytes,
}

/// Reports kept: about 256 MiB in memory at most. A report held as rows of JSON values and as
/// text weighs about seven times its text (measured: 279 reports of 90 days by day and channel,
/// 260 KB of JSON each, grew the server by 480 MB).
static REPORTS: cache::Memo<MadeReport> = cache::Memo::new(|m| m.json.len() * 8, 256 << 20);

/// A report for `ctx`, made once per change of the company's data (see [`cache`]).
pub async fn report(app: &AppState, ctx: &Context, kind: ReportKind) -> ApiResult<MadeReport> {
    REPORTS
        .get_or_make(&app.store, ctx.company, ctx.fingerprint(kind), || async {
            let store = &app.store;
            let report = match kind {
                ReportKind::Volume => reports::volume(ctx, store).await?,
                ReportKind::ResponseTimes => reports::response_times(ctx, store).await?,
                ReportKind::Channels => reports::channels(ctx, store).await?,
                ReportKind::Sentiment => reports::sentiment(ctx, store).await?,
                ReportKind::FollowUps => reports::follow_ups(ctx, store).await?,
                ReportKind::Productivity => reports::productivity(ctx, store).await?,
                ReportKind::Business => reports::business(ctx, store).await?,
            };
            let json = serde_json::to_vec(&report).map_err(ApiError::internal)?;
            Ok(MadeReport {
                report: std::sync::Arc::new(report),
                json: json.into(),
            })
        })
        .await
}

/// Whose figures an actor sees: managers, administrators and compliance officers the
/// company's, team leads their team's, everyone else their own.
pub fn scope_of(actor: &Actor) -> AnalyticsScope {
    if actor.can(Permission::ReadCompanyAnalytics) {
        return AnalyticsScope::Company;
    }
    match actor.team_id {
        Some(team) if actor.can(Permission::ReadTeamAnalytics) => AnalyticsScope::Team(team),
        _ => AnalyticsScope::User(actor.user_id),
    }
}

/// A report being made: the resolved period, buckets, scope and settings.
pub struct Context {
    pub company: Uuid,
    pub tz: chrono_tz::Tz,
    pub tz_name: String,
    pub scope: AnalyticsScope,
    pub query: AnalyticsQuery,
    pub period: Period,
    pub bucket: Bucket,
    /// Start of every bucket of the period.
    pub buckets: Vec<OffsetDateTime>,
    /// Read the logs instead of the rollup.
    pub from_logs: bool,
    pub settings: AnalyticsSettings,
    /// Show personal data in texts (subject lines) masked.
    pub mask_pii: bool,
}

impl Context {
    pub async fn new(app: &AppState, actor: &Actor, query: AnalyticsQuery) -> ApiResult<Self> {
        let store = &app.store;
        let company = store
            .get_company(&commlog_store::Scope::new(actor.clone()))
            .await?;
        let tz = buckets::parse_zone(&company.timezone).unwrap_or(chrono_tz::UTC);
        let bucket = query.bucket.unwrap_or_default();
        let now = time_fmt::now();
        // Without dates, whole buckets up to the current one: the default screen.
        let until = query.until.unwrap_or_else(|| {
            buckets::next_bucket(buckets::bucket_start(now, tz, bucket), tz, bucket)
        });
        let since = query.since.unwrap_or_else(|| {
            let back = match bucket {
                Bucket::Hour => time::Duration::days(1),
                Bucket::Day => time::Duration::days(30),
                Bucket::Week => time::Duration::weeks(12),
                Bucket::Month => time::Duration::days(365),
            };
            buckets::bucket_start(until - back, tz, bucket)
        });
        let period = AnalyticsQuery {
            since: Some(since),
            until: Some(until),
            ..Default::default()
        }
        .period(now)
        .map_err(ApiError::validation)?;
        let starts = buckets::bucket_starts(period.since, period.until, tz, bucket, MAX_BUCKETS)
            .ok_or_else(|| {
                ApiError::field(
                    "bucket",
                    "too_many_buckets",
                    format!(
                        "at most {MAX_BUCKETS} buckets: choose a larger bucket or a shorter period"
                    ),
                )
            })?;
        let on_hour = |t: OffsetDateTime| {
            let t = t.to_offset(time::UtcOffset::UTC);
            t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0
        };
        let from_logs = !query.rollup_can_answer()
            || !buckets::whole_hour_offsets(tz, period.since, period.until)
            || !on_hour(period.since)
            || !on_hour(period.until);
        Ok(Self {
            company: company.id,
            tz,
            tz_name: company.timezone,
            scope: scope_of(actor),
            settings: store.analytics_settings(company.id).await?,
            query,
            period,
            bucket,
            buckets: starts,
            from_logs,
            mask_pii: crate::processing::masking::applies_to(app, actor).await?,
        })
    }

    /// Everything a report's figures depend on besides the data: the kind, scope, filters,
    /// period, buckets, time zone, settings and masking (the output format is not: JSON and
    /// CSV carry the same rows).
    fn fingerprint(&self, kind: ReportKind) -> String {
        let query = AnalyticsQuery {
            format: None,
            ..self.query.clone()
        };
        format!(
            "{kind:?}|{:?}|{query:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}",
            self.scope,
            self.period,
            self.bucket,
            self.buckets.first(),
            self.tz_name,
            serde_json::to_string(&self.settings).unwrap_or_default(),
            self.mask_pii,
            self.from_logs,
            self.buckets.len(),
        )
    }

    pub fn measure_query(&self, group_by: &[Dimension]) -> MeasureQuery {
        MeasureQuery {
            period: self.period,
            scope: self.scope,
            filters: self.query.clone(),
            group_by: group_by.to_vec(),
            from_logs: self.from_logs,
            whole_period: false,
        }
    }

    /// Measures per bucket start and key combination.
    pub async fn measures(
        &self,
        store: &Store,
        group_by: &[Dimension],
    ) -> ApiResult<BTreeMap<(OffsetDateTime, Vec<Option<String>>), Measures>> {
        let slots = store
            .analytics_measures(self.company, &self.measure_query(group_by))
            .await?;
        let mut out: BTreeMap<_, Measures> = BTreeMap::new();
        // A quarter holds about 2,000 hours but tens of thousands of rollup rows: each hour's
        // bucket is worked out once.
        let mut bucket_of: std::collections::HashMap<OffsetDateTime, OffsetDateTime> =
            std::collections::HashMap::new();
        for s in slots {
            let b = *bucket_of
                .entry(s.slot)
                .or_insert_with(|| buckets::bucket_start(s.slot, self.tz, self.bucket));
            out.entry((b, s.keys)).or_default().add(&s.measures);
        }
        Ok(out)
    }

    /// Measures per key combination over the whole period, summed by the database.
    pub async fn totals(
        &self,
        store: &Store,
        group_by: &[Dimension],
    ) -> ApiResult<BTreeMap<Vec<Option<String>>, Measures>> {
        let q = MeasureQuery {
            whole_period: true,
            ..self.measure_query(group_by)
        };
        let mut out: BTreeMap<_, Measures> = BTreeMap::new();
        for s in store.analytics_measures(self.company, &q).await? {
            out.entry(s.keys).or_default().add(&s.measures);
        }
        Ok(out)
    }

    /// The end of the bucket starting at `start` (the period's end for the last one).
    pub fn bucket_end(&self, start: OffsetDateTime) -> OffsetDateTime {
        buckets::next_bucket(start, self.tz, self.bucket).min(self.period.until)
    }

    pub fn label(&self, start: OffsetDateTime) -> String {
        buckets::bucket_label(start, self.tz, self.bucket)
    }

    pub fn report(&self, name: &'static str, rows: Vec<Row>) -> Report {
        Report {
            report: name,
            since: self.period.since,
            until: self.period.until,
            bucket: self.bucket,
            timezone: self.tz_name.clone(),
            scope: match self.scope {
                AnalyticsScope::Company => "company",
                AnalyticsScope::Team(_) => "team",
                AnalyticsScope::User(_) => "user",
            },
            source: if self.from_logs { "logs" } else { "rollup" },
            rows,
        }
    }

    /// The log-list filter selecting the logs behind a figure: the period (or one bucket of
    /// it), the caller's scope, the report's filters, and `extra` (the row's own keys).
    pub fn drill(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        extra: &[(&str, String)],
    ) -> (Value, String) {
        let mut f: Vec<(&str, String)> = vec![
            ("start_time_after", rfc3339(from)),
            ("start_time_before", rfc3339(to)),
        ];
        match self.scope {
            AnalyticsScope::Company => {}
            AnalyticsScope::Team(t) => f.push(("team_id", t.to_string())),
            AnalyticsScope::User(u) => f.push(("assigned_to_user_id", u.to_string())),
        }
        let q = &self.query;
        let given: [(&str, Option<String>); 7] = [
            ("team_id", q.team_id.map(|v| v.to_string())),
            ("assigned_to_user_id", q.user_id.map(|v| v.to_string())),
            ("channel", q.channel.clone()),
            (
                "communication_type",
                q.communication_type.map(|v| v.as_str().to_owned()),
            ),
            ("direction", q.direction.map(|v| v.as_str().to_owned())),
            ("category", q.category.clone()),
            ("customer_id", q.customer_id.map(|v| v.to_string())),
        ];
        f.extend(given.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        f.extend(extra.iter().cloned());
        // One value per name: a row's own key narrows the report's filter, never contradicts it
        // (a report filtered to a channel has rows of that channel only).
        let mut seen = std::collections::HashSet::new();
        f.retain(|(k, _)| seen.insert(*k));
        let href = format!(
            "/api/communication-logs/?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(f.iter().map(|(k, v)| (*k, v.as_str())))
                .finish()
        );
        let filter = Value::Object(
            f.into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        );
        (filter, href)
    }

    /// A row of a bucket (or of the whole period when `bucket` is `None`).
    pub fn row(
        &self,
        section: &str,
        bucket: Option<OffsetDateTime>,
        keys: &[(&str, Option<String>)],
        metrics: Vec<(&str, Value)>,
        filter_extra: &[(&str, String)],
    ) -> Row {
        let mut r = Row::default();
        r.insert("section", json!(section));
        let (from, to) = match bucket {
            Some(b) => {
                r.insert("bucket", json!(self.label(b)));
                r.insert("bucket_start", json!(rfc3339(b)));
                (b.max(self.period.since), self.bucket_end(b))
            }
            None => (self.period.since, self.period.until),
        };
        for (k, v) in keys {
            r.insert(*k, v.clone().map_or(Value::Null, Value::String));
        }
        for (k, v) in metrics {
            r.insert(k, v);
        }
        let (filter, href) = self.drill(from, to, filter_extra);
        r.insert("filter", filter);
        r.insert("href", json!(href));
        r
    }
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// `part / whole`, or null when there is no whole.
pub fn ratio(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(part as f64 / whole as f64)
    }
}

/// `sum / n`, or null.
pub fn mean(sum: f64, n: i64) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(sum / n as f64)
    }
}
