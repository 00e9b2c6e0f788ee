//! The query of `GET /api/communication-logs/`: filters, search, ordering and paging, parsed
//! once here and honoured by both SQL engines.

use crate::time_fmt::rfc3339;
use crate::{
    CallOutcome, CommunicationType, Direction, FollowUpStatus, LogStatus, Priority, Sentiment,
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Counts stop here unless `count=exact` is asked for: an exact count of a big company's logs
/// would make every list as slow as a full scan, and "1,000+" is what a screen shows anyway.
pub const COUNT_CAP: i64 = 1_000;

/// Filters, ordering and paging of the log list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogListParams {
    /// 1-based page number (OFFSET paging; prefer `cursor` for deep pages).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// Opaque keyset cursor from a previous response's `next_cursor`.
    pub cursor: Option<String>,
    /// `-start_time` (default), `start_time`, `-created_at`, `created_at`.
    pub ordering: Option<String>,
    /// Full-text search over subject and content.
    pub search: Option<String>,
    /// `exact` for an exact total; by default counts stop at 1,000.
    pub count: Option<String>,
    pub communication_type: Option<CommunicationType>,
    /// Any of several types, comma-separated (`sms,chat,message`).
    pub communication_types: Option<String>,
    /// A channel code.
    pub channel: Option<String>,
    pub direction: Option<Direction>,
    pub status: Option<LogStatus>,
    pub priority: Option<Priority>,
    pub sentiment: Option<Sentiment>,
    pub customer_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub assigned_to_user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub thread_id: Option<Uuid>,
    /// A category code or id.
    pub category: Option<String>,
    /// A tag name.
    pub tag: Option<String>,
    pub requires_follow_up: Option<bool>,
    pub follow_up_status: Option<FollowUpStatus>,
    pub is_internal: Option<bool>,
    /// `true`: only logs matched to no customer and no contact (calls from unknown numbers,
    /// waiting for a user to link them); `false`: only matched ones.
    pub unmatched: Option<bool>,
    /// How calls ended (`no_answer` lists missed calls).
    pub call_outcome: Option<CallOutcome>,
    /// Logs that started at or after this instant (ISO 8601).
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time_after: Option<OffsetDateTime>,
    /// Logs that started before this instant (ISO 8601).
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time_before: Option<OffsetDateTime>,
    /// Archived logs (retention): hidden unless `include` (with the others) or `only`;
    /// for compliance officers and administrators.
    pub archived: Option<String>,
}

/// The orderings the list supports, each with a keyset cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOrdering {
    StartTimeDesc,
    StartTimeAsc,
    CreatedAtDesc,
    CreatedAtAsc,
}

impl LogOrdering {
    pub fn column(self) -> &'static str {
        match self {
            Self::StartTimeDesc | Self::StartTimeAsc => "start_time",
            Self::CreatedAtDesc | Self::CreatedAtAsc => "created_at",
        }
    }

    pub fn descending(self) -> bool {
        matches!(self, Self::StartTimeDesc | Self::CreatedAtDesc)
    }
}

/// A decoded keyset position: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPosition {
    #[serde(with = "rfc3339")]
    pub t: OffsetDateTime,
    pub id: Uuid,
    /// The ordering the cursor was made for; a cursor is refused under another one.
    pub o: String,
}

impl LogListParams {
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }

    pub fn ordering(&self) -> LogOrdering {
        match self.ordering.as_deref() {
            Some("start_time") => LogOrdering::StartTimeAsc,
            Some("-created_at") => LogOrdering::CreatedAtDesc,
            Some("created_at") => LogOrdering::CreatedAtAsc,
            _ => LogOrdering::StartTimeDesc,
        }
    }

    /// Whether archived logs are asked for (`include` or `only`).
    pub fn wants_archived(&self) -> bool {
        matches!(self.archived.as_deref(), Some("include" | "only"))
    }

    pub fn exact_count(&self) -> bool {
        self.count.as_deref() == Some("exact")
    }

    /// Refuses values that parse but make no sense.
    /// The types of `communication_types`, parsed (empty when not given); `None` when the
    /// list names an unknown type or too many.
    pub fn types(&self) -> Option<Vec<CommunicationType>> {
        let Some(list) = self.communication_types.as_deref() else {
            return Some(Vec::new());
        };
        let types: Vec<CommunicationType> = list
            .split(',')
            .map(|t| t.trim().parse().ok())
            .collect::<Option<_>>()?;
        (!types.is_empty() && types.len() <= 8).then_some(types)
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if let Some(ps) = self.page_size
            && (ps == 0 || ps > MAX_PAGE_SIZE)
        {
            e.add(
                "page_size",
                "out_of_range",
                format!("page_size must be between 1 and {MAX_PAGE_SIZE}"),
            );
        }
        if self.page == Some(0) {
            e.add("page", "out_of_range", "page starts at 1");
        }
        if self.page.is_some_and(|p| p > 1_000_000) {
            e.add("page", "out_of_range", "page is too deep; use cursor");
        }
        if let Some(o) = &self.ordering
            && !["start_time", "-start_time", "created_at", "-created_at"].contains(&o.as_str())
        {
            e.add(
                "ordering",
                "invalid",
                "ordering must be one of start_time, -start_time, created_at, -created_at",
            );
        }
        if self.types().is_none() {
            e.add(
                "communication_types",
                "invalid",
                "comma-separated communication types, e.g. sms,chat,message",
            );
        }
        if let Some(c) = &self.count
            && c != "exact"
            && c != "estimate"
        {
            e.add("count", "invalid", "count must be `exact` or `estimate`");
        }
        if let Some(a) = &self.archived
            && !["exclude", "include", "only"].contains(&a.as_str())
        {
            e.add(
                "archived",
                "invalid",
                "archived must be `exclude`, `include` or `only`",
            );
        }
        if self.search.as_ref().is_some_and(|s| s.len() > 500) {
            e.add("search", "too_long", "search is at most 500 bytes");
        }
        if self.cursor.is_some() && self.page.is_some_and(|p| p > 1) {
            e.add("cursor", "conflict", "use either cursor or page, not both");
        }
        if let (Some(a), Some(b)) = (self.start_time_after, self.start_time_before)
            && a > b
        {
            e.add(
                "start_time_after",
                "after_end",
                "start_time_after must not be later than start_time_before",
            );
        }
        e.into_result()
    }
}
