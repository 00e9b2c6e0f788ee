//! The vocabulary of analytics reports: the query every report takes, the figures the hourly
//! rollup keeps, and a company's analytics settings (business hours, SLA targets, costs).
//!
//! Reports add up [`Measures`]; the store returns them per hour (from the rollup or, when a
//! filter or time zone needs it, from the logs themselves) and the server folds the hours into
//! the caller's buckets, so both paths give the same figures by construction.

use crate::buckets::{Bucket, parse_zone};
use crate::calendar::BusinessCalendar;
use crate::time_fmt::rfc3339;
use crate::{CommunicationType, Direction, Priority, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest range a report covers.
pub const MAX_RANGE_DAYS: i64 = 3_660;
/// Most buckets one report returns (e.g. 90 days by hour is 2,160).
pub const MAX_BUCKETS: usize = 10_000;

/// Filters and buckets of every `GET /api/analytics/…` report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Start of the period (inclusive); default: 30 days before `until`.
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
    /// End of the period (exclusive); default: now.
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    /// `hour`, `day` (default), `week` or `month`, in the company's time zone.
    pub bucket: Option<Bucket>,
    pub team_id: Option<Uuid>,
    /// The assignee.
    pub user_id: Option<Uuid>,
    /// A channel code.
    pub channel: Option<String>,
    pub communication_type: Option<CommunicationType>,
    pub direction: Option<Direction>,
    /// A category id or code.
    pub category: Option<String>,
    pub customer_id: Option<Uuid>,
    /// Volume only: `channel` (default), `communication_type`, `direction` or `status`.
    pub group_by: Option<Dimension>,
    /// `json` (default) or `csv`.
    pub format: Option<ReportFormat>,
}

/// A period resolved from a query: `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

impl AnalyticsQuery {
    /// The period asked for, checked: `since` before `until`, at most [`MAX_RANGE_DAYS`].
    pub fn period(&self, now: OffsetDateTime) -> Result<Period, ValidationErrors> {
        let until = self.until.unwrap_or(now);
        let since = self.since.unwrap_or(until - time::Duration::days(30));
        let mut e = ValidationErrors::new();
        if since >= until {
            e.add("since", "invalid_range", "since must be before until");
        } else if until - since > time::Duration::days(MAX_RANGE_DAYS) {
            e.add(
                "until",
                "range_too_long",
                format!("a report covers at most {MAX_RANGE_DAYS} days"),
            );
        }
        e.into_result()?;
        Ok(Period { since, until })
    }

    /// Whether the hourly rollup can answer this query (it has no category or customer).
    pub fn rollup_can_answer(&self) -> bool {
        self.category.is_none() && self.customer_id.is_none()
    }
}

/// How a report is returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
}

/// A dimension a report breaks its figures down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Channel,
    CommunicationType,
    Direction,
    Status,
    Team,
    User,
}

impl Dimension {
    /// The column of the rollup (and of the log table) holding it.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::CommunicationType => "communication_type",
            Dimension::Direction => "direction",
            Dimension::Status => "status",
            Dimension::Team => "team_id",
            Dimension::User => "user_id",
        }
    }

    /// The log-list filter that selects one value of it.
    pub fn list_filter(self) -> &'static str {
        match self {
            Dimension::User => "assigned_to_user_id",
            Dimension::Team => "team_id",
            other => other.column(),
        }
    }
}

/// Whose figures a caller sees: a rep their own, a team lead their team's, managers and
/// administrators the company's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsScope {
    Company,
    Team(Uuid),
    User(Uuid),
}

/// What the rollup counts for one hour and combination of dimensions; reports add these up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Measures {
    pub logs: i64,
    /// Sum of `duration_seconds` over the logs that have one (`timed`).
    pub duration_seconds: i64,
    pub timed: i64,
    /// Calls whose outcome is `answered`.
    pub answered: i64,
    /// Inbound calls not answered (no answer, busy, failed, voicemail, canceled).
    pub missed: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    /// Logs with a sentiment score, and the sum of their scores.
    pub scored: i64,
    pub sentiment_sum: f64,
    pub follow_ups: i64,
    pub follow_ups_completed: i64,
    pub follow_ups_overdue: i64,
    /// Logs with a satisfaction score, and the sum of their scores.
    pub rated: i64,
    pub satisfaction_sum: i64,
}

impl Measures {
    pub fn add(&mut self, o: &Measures) {
        self.logs += o.logs;
        self.duration_seconds += o.duration_seconds;
        self.timed += o.timed;
        self.answered += o.answered;
        self.missed += o.missed;
        self.positive += o.positive;
        self.neutral += o.neutral;
        self.negative += o.negative;
        self.scored += o.scored;
        self.sentiment_sum += o.sentiment_sum;
        self.follow_ups += o.follow_ups;
        self.follow_ups_completed += o.follow_ups_completed;
        self.follow_ups_overdue += o.follow_ups_overdue;
        self.rated += o.rated;
        self.satisfaction_sum += o.satisfaction_sum;
    }

    /// Equal up to the rounding of summed floating-point scores.
    pub fn same_as(&self, o: &Measures) -> bool {
        let floats_equal = (self.sentiment_sum - o.sentiment_sum).abs() < 1e-6;
        Measures {
            sentiment_sum: 0.0,
            ..*self
        } == Measures {
            sentiment_sum: 0.0,
            ..*o
        } && floats_equal
    }

    pub fn is_zero(&self) -> bool {
        self.same_as(&Measures::default())
    }
}

/// The measures of one time slot (an hour from the rollup, a quarter-hour from the logs) and
/// one combination of the dimensions asked for (`None` where not asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct SlotMeasures {
    pub slot: OffsetDateTime,
    pub keys: Vec<Option<String>>,
    pub measures: Measures,
}

/// What the store needs to add up measures: the period, the caller's scope, the filters and
/// the dimensions to keep apart.
#[derive(Debug, Clone)]
pub struct MeasureQuery {
    pub period: Period,
    pub scope: AnalyticsScope,
    pub filters: AnalyticsQuery,
    pub group_by: Vec<Dimension>,
    /// Read the logs themselves (in quarter hours) instead of the hourly rollup.
    pub from_logs: bool,
    /// One slot for the whole period (its start) instead of one per hour or quarter hour: for
    /// totals, summed by the database rather than fetched hour by hour.
    pub whole_period: bool,
}

/// A first-response target: the most specific matching target applies (channel and priority,
/// then channel, then priority, then the one without either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    pub first_response_seconds: i64,
}

/// What a communication costs on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelCost {
    pub channel: String,
    /// Per minute of a timed communication (calls, meetings).
    #[serde(default)]
    pub per_minute: f64,
    /// Per communication.
    #[serde(default)]
    pub per_message: f64,
}

/// A team's own business hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamCalendar {
    pub team_id: Uuid,
    pub calendar: BusinessCalendar,
}

/// A company's analytics settings (`GET|PUT /api/analytics/settings/`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsSettings {
    /// Business hours of the company; response times count only these when set.
    #[serde(default)]
    pub calendar: Option<BusinessCalendar>,
    /// Teams whose hours differ from the company's.
    #[serde(default)]
    pub team_calendars: Vec<TeamCalendar>,
    #[serde(default)]
    pub sla_targets: Vec<SlaTarget>,
    #[serde(default)]
    pub channel_costs: Vec<ChannelCost>,
}

impl AnalyticsSettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if let Some(c) = &self.calendar
            && let Err(errs) = c.validate("calendar")
        {
            e.extend(errs);
        }
        for (i, t) in self.team_calendars.iter().enumerate() {
            if let Err(errs) = t
                .calendar
                .validate(&format!("team_calendars[{i}].calendar"))
            {
                e.extend(errs);
            }
            if self.team_calendars[..i]
                .iter()
                .any(|o| o.team_id == t.team_id)
            {
                e.add(
                    &format!("team_calendars[{i}].team_id"),
                    "duplicate",
                    "each team has at most one calendar",
                );
            }
        }
        for (i, t) in self.sla_targets.iter().enumerate() {
            if !(1..=365 * 86_400).contains(&t.first_response_seconds) {
                e.add(
                    &format!("sla_targets[{i}].first_response_seconds"),
                    "out_of_range",
                    "a target is between 1 second and 365 days",
                );
            }
            if self.sla_targets[..i]
                .iter()
                .any(|o| o.channel == t.channel && o.priority == t.priority)
            {
                e.add(
                    &format!("sla_targets[{i}]"),
                    "duplicate",
                    "one target per channel and priority",
                );
            }
        }
        for (i, c) in self.channel_costs.iter().enumerate() {
            let ok = |v: f64| v.is_finite() && (0.0..=1_000_000.0).contains(&v);
            if !ok(c.per_minute) || !ok(c.per_message) {
                e.add(
                    &format!("channel_costs[{i}]"),
                    "out_of_range",
                    "costs are between 0 and 1,000,000",
                );
            }
            if c.channel.trim().is_empty() {
                e.add(
                    &format!("channel_costs[{i}].channel"),
                    "required",
                    "name the channel code",
                );
            }
        }
        e.into_result()
    }

    /// The calendar response times of a team are measured in: the team's, else the company's.
    pub fn calendar_for(&self, team: Option<Uuid>) -> Option<&BusinessCalendar> {
        team.and_then(|t| self.team_calendars.iter().find(|c| c.team_id == t))
            .map(|c| &c.calendar)
            .or(self.calendar.as_ref())
    }

    /// The first-response target of a channel and priority, if any.
    pub fn sla_for(&self, channel: &str, priority: Priority) -> Option<i64> {
        let matches = |t: &&SlaTarget, c: bool, p: bool| {
            (t.channel.as_deref() == Some(channel)) == c
                && t.channel.is_none() != c
                && (t.priority == Some(priority)) == p
                && t.priority.is_none() != p
        };
        [(true, true), (true, false), (false, true), (false, false)]
            .into_iter()
            .find_map(|(c, p)| self.sla_targets.iter().find(|t| matches(t, c, p)))
            .map(|t| t.first_response_seconds)
    }

    pub fn cost_of(&self, channel: &str) -> Option<&ChannelCost> {
        self.channel_costs.iter().find(|c| c.channel == channel)
    }
}

/// One log of a conversation, as response-time and first-contact-resolution figures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationLog {
    pub id: Uuid,
    /// The thread, or the log itself when it has none.
    pub conversation: Uuid,
    pub communication_type: CommunicationType,
    pub direction: Direction,
    pub status: crate::LogStatus,
    pub priority: Priority,
    pub channel: String,
    pub team_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub start_time: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Counts of what needs attention now (`GET /api/analytics/counters/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counters {
    /// Logs not yet resolved, closed or archived.
    pub open: i64,
    pub awaiting_response: i64,
    pub escalated: i64,
    pub overdue_follow_ups: i64,
}

/// An agent's current load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentLoad {
    pub user_id: Uuid,
    pub full_name: String,
    pub team_id: Option<Uuid>,
    /// Open items the agent may hold at once.
    pub capacity: i64,
    /// Open items assigned to the agent now.
    pub active: i64,
}

/// Sentiment of the logs with one customer in a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerSentiment {
    pub customer_id: Uuid,
    pub name: String,
    pub logs: i64,
    pub negative: i64,
    pub average_score: Option<f64>,
}

/// A recent negative conversation, for a lead to look at.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NegativeLog {
    pub id: Uuid,
    pub subject: String,
    pub channel: String,
    pub customer_id: Option<Uuid>,
    pub assigned_to_user_id: Option<Uuid>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    pub sentiment_score: f64,
}

/// Capture failures of one integration in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CaptureErrors {
    /// A job kind (e.g. `call_event`) or `email:<origin>` for quarantined mail.
    pub integration: String,
    pub errors: i64,
}

/// Where a kept figure differs from the logs (`commlog analytics verify`): an hour of a
/// rollup, or (`hour` = `now`) a row of open items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollupMismatch {
    pub hour: String,
    pub key: String,
    /// What is kept: [`Measures`] for a rollup, [`Counters`] for open items.
    pub rollup: serde_json::Value,
    /// The same counted from the logs.
    pub logs: serde_json::Value,
}

/// Checks a time zone name of a report.
pub fn zone(name: &str) -> Option<chrono_tz::Tz> {
    parse_zone(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(channel: Option<&str>, priority: Option<Priority>, s: i64) -> SlaTarget {
        SlaTarget {
            channel: channel.map(str::to_owned),
            priority,
            first_response_seconds: s,
        }
    }

    #[test]
    fn the_most_specific_sla_target_applies() {
        let s = AnalyticsSettings {
            sla_targets: vec![
                target(None, None, 86_400),
                target(Some("email"), None, 14_400),
                target(None, Some(Priority::Urgent), 3_600),
                target(Some("email"), Some(Priority::Urgent), 900),
            ],
            ..Default::default()
        };
        assert_eq!(s.sla_for("email", Priority::Urgent), Some(900));
        assert_eq!(s.sla_for("email", Priority::Normal), Some(14_400));
        assert_eq!(s.sla_for("chat", Priority::Urgent), Some(3_600));
        assert_eq!(s.sla_for("chat", Priority::Low), Some(86_400));
        assert_eq!(
            AnalyticsSettings::default().sla_for("chat", Priority::Low),
            None
        );
    }

    #[test]
    fn settings_are_checked() {
        let s = AnalyticsSettings {
            sla_targets: vec![target(None, None, 0), target(None, None, 10)],
            channel_costs: vec![ChannelCost {
                channel: "phone".into(),
                per_minute: -1.0,
                per_message: 0.0,
            }],
            ..Default::default()
        };
        let e = s.validate().expect_err("invalid");
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"sla_targets[0].first_response_seconds"));
        assert!(fields.contains(&"sla_targets[1]"));
        assert!(fields.contains(&"channel_costs[0]"));
    }

    #[test]
    fn a_period_is_ordered_and_bounded() {
        let now = time::macros::datetime!(2026-11-25 12:00 UTC);
        let q = AnalyticsQuery::default();
        let p = q.period(now).expect("default period");
        assert_eq!(p.until - p.since, time::Duration::days(30));
        let reversed = AnalyticsQuery {
            since: Some(now),
            until: Some(now - time::Duration::hours(1)),
            ..Default::default()
        };
        assert!(reversed.period(now).is_err());
    }
}
