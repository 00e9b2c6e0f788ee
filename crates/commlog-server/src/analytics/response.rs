//! Response times, resolution and first-contact resolution, computed from the logs of each
//! conversation (a thread, or a single log without one).
//!
//! Walking a conversation in time order: a customer's message starts a wait unless one is
//! already running; the company's next message (any channel: a call back answers an e-mail)
//! ends it, and the time between is a response time — the first of the conversation is its
//! first-response time. A conversation is resolved when every log in it is resolved, closed or
//! archived; its resolution time runs from its first customer message to its last change. It
//! was resolved at first contact when the company answered at most once.

use commlog_domain::analytics::{AnalyticsSettings, ConversationLog};
use commlog_domain::{Direction, LogStatus, Priority};
use time::OffsetDateTime;
use uuid::Uuid;

/// One measured wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub conversation: Uuid,
    /// The customer's message that started the wait.
    pub asked_at: OffsetDateTime,
    /// The channel and priority of that message (what SLA targets are set by).
    pub channel: String,
    pub priority: Priority,
    /// Who answered.
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub seconds: i64,
    pub first: bool,
    /// Whether the first response met its target (`None`: no target, or not a first response).
    pub sla_met: Option<bool>,
}

/// A conversation resolved in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub conversation: Uuid,
    pub channel: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub seconds: i64,
    pub first_contact: bool,
}

/// Everything measured over a period's conversations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversations {
    pub responses: Vec<Response>,
    pub resolutions: Vec<Resolution>,
    /// Conversations whose customer is still waiting for an answer.
    pub waiting: i64,
}

/// Measures every conversation of `logs` (ordered by conversation, then time). Times count
/// business hours when the team (or company) has a calendar, wall-clock time otherwise.
pub fn measure(
    logs: &[ConversationLog],
    settings: &AnalyticsSettings,
    tz: chrono_tz::Tz,
) -> Conversations {
    let mut out = Conversations::default();
    for conversation in logs.chunk_by(|a, b| a.conversation == b.conversation) {
        measure_one(conversation, settings, tz, &mut out);
    }
    out
}

fn elapsed(
    settings: &AnalyticsSettings,
    team: Option<Uuid>,
    tz: chrono_tz::Tz,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> i64 {
    match settings.calendar_for(team) {
        Some(c) => c.business_seconds(tz, from, to),
        None => (to - from).whole_seconds().max(0),
    }
}

fn measure_one(
    logs: &[ConversationLog],
    settings: &AnalyticsSettings,
    tz: chrono_tz::Tz,
    out: &mut Conversations,
) {
    let mut waiting: Option<&ConversationLog> = None;
    let mut first_inbound: Option<&ConversationLog> = None;
    let mut answers = 0;
    for log in logs {
        match log.direction {
            Direction::Inbound => {
                first_inbound.get_or_insert(log);
                waiting.get_or_insert(log);
            }
            Direction::Outbound => {
                let Some(asked) = waiting.take() else {
                    continue;
                };
                let team = log.team_id.or(asked.team_id);
                let seconds = elapsed(settings, team, tz, asked.start_time, log.start_time);
                let first = answers == 0;
                answers += 1;
                let sla_met = first
                    .then(|| settings.sla_for(&asked.channel, asked.priority))
                    .flatten()
                    .map(|target| seconds <= target);
                out.responses.push(Response {
                    conversation: log.conversation,
                    asked_at: asked.start_time,
                    channel: asked.channel.clone(),
                    priority: asked.priority,
                    user_id: log.user_id,
                    team_id: team,
                    seconds,
                    first,
                    sla_met,
                });
            }
            Direction::Internal => {}
        }
    }
    if waiting.is_some() {
        out.waiting += 1;
    }
    let Some(first) = first_inbound else {
        return;
    };
    let done = |s: LogStatus| {
        matches!(
            s,
            LogStatus::Resolved | LogStatus::Closed | LogStatus::Archived
        )
    };
    if logs.iter().all(|l| done(l.status)) {
        let resolved_at = logs
            .iter()
            .map(|l| l.updated_at)
            .max()
            .unwrap_or(first.start_time);
        let owner = logs.iter().rev().find_map(|l| l.user_id);
        let team = logs.iter().rev().find_map(|l| l.team_id);
        out.resolutions.push(Resolution {
            conversation: first.conversation,
            channel: first.channel.clone(),
            user_id: owner,
            team_id: team,
            seconds: elapsed(settings, team, tz, first.start_time, resolved_at),
            first_contact: answers <= 1,
        });
    }
}

/// Count, average and nearest-rank percentiles of some durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Distribution {
    pub count: i64,
    pub average_seconds: Option<f64>,
    pub p50_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Distribution {
    pub fn of(values: impl IntoIterator<Item = i64>) -> Self {
        let mut v: Vec<i64> = values.into_iter().collect();
        if v.is_empty() {
            return Self::default();
        }
        v.sort_unstable();
        let n = v.len();
        // Nearest rank: the smallest value with at least p % of the values at or below it.
        let rank = |p: usize| v[(p * n).div_ceil(100).clamp(1, n) - 1];
        let sum: i64 = v.iter().sum();
        Self {
            count: i64::try_from(n).unwrap_or(i64::MAX),
            average_seconds: Some(sum as f64 / n as f64),
            p50_seconds: Some(rank(50)),
            p90_seconds: Some(rank(90)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commlog_domain::CommunicationType;
    use commlog_domain::analytics::SlaTarget;
    use time::macros::datetime;

    fn log(
        conversation: u128,
        direction: Direction,
        at: OffsetDateTime,
        status: LogStatus,
    ) -> ConversationLog {
        ConversationLog {
            id: Uuid::new_v4(),
            conversation: Uuid::from_u128(conversation),
            communication_type: CommunicationType::Email,
            direction,
            status,
            priority: Priority::Normal,
            channel: "email".into(),
            team_id: None,
            user_id: Some(Uuid::from_u128(7)),
            start_time: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_reply_answers_the_oldest_waiting_message() {
        use Direction::*;
        use LogStatus::*;
        let t = datetime!(2026-11-02 09:00 UTC);
        let logs = vec![
            log(1, Inbound, t, Resolved),
            // A second message while waiting does not restart the wait.
            log(1, Inbound, t + time::Duration::minutes(30), Resolved),
            log(1, Outbound, t + time::Duration::hours(2), Resolved),
            log(1, Inbound, t + time::Duration::hours(3), Resolved),
            log(1, Outbound, t + time::Duration::hours(4), Resolved),
            // Nobody answered this one yet.
            log(2, Inbound, t, AwaitingResponse),
        ];
        let settings = AnalyticsSettings {
            sla_targets: vec![SlaTarget {
                channel: None,
                priority: None,
                first_response_seconds: 3_600,
            }],
            ..Default::default()
        };
        let m = measure(&logs, &settings, chrono_tz::UTC);
        let seconds: Vec<i64> = m.responses.iter().map(|r| r.seconds).collect();
        assert_eq!(seconds, vec![7_200, 3_600]);
        assert!(m.responses[0].first && !m.responses[1].first);
        assert_eq!(m.responses[0].sla_met, Some(false), "2 h against 1 h");
        assert_eq!(m.responses[1].sla_met, None, "only first responses");
        assert_eq!(m.waiting, 1);
        assert_eq!(m.resolutions.len(), 1);
        assert_eq!(m.resolutions[0].seconds, 4 * 3_600);
        assert!(!m.resolutions[0].first_contact, "answered twice");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let d = Distribution::of([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(d.count, 10);
        assert_eq!(d.p50_seconds, Some(50));
        assert_eq!(d.p90_seconds, Some(90));
        assert_eq!(d.average_seconds, Some(55.0));
        assert_eq!(Distribution::of([]).p50_seconds, None);
        assert_eq!(Distribution::of([5]).p90_seconds, Some(5));
    }
}
