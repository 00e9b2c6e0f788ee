//! The communication log (blueprint §3.1, `crm_communication_logs`) as read, created and patched.
//! Field names are the blueprint's; SPEC §3 adds tenancy, `source`/`external_id`, participants,
//! threads and `duration_seconds`.

use crate::time_fmt::rfc3339;
use crate::{
    CallOutcome, CommunicationType, Direction, FollowUpStatus, LogStatus, ParticipantRole,
    Priority, Sentiment,
};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A participant of a conversation as sent by a client: an email address or a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParticipant {
    pub role: ParticipantRole,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Link to a known contact; matched automatically from the address when absent.
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// Link to a user of the company (an agent on the call or mail).
    #[serde(default)]
    pub user_id: Option<Uuid>,
}

/// A stored participant, addresses normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Participant {
    pub id: Uuid,
    pub role: ParticipantRole,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub contact_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// A category as shown on a log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CategoryRef {
    pub id: Uuid,
    pub category_code: String,
    pub category_name: String,
    /// Set when automatic categorisation chose the category: how sure it was, in [0, 1].
    /// A category a person chose has none.
    pub confidence: Option<f64>,
}

/// A communication log as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommunicationLog {
    pub id: Uuid,
    pub company_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub assigned_to_user_id: Option<Uuid>,
    pub created_by_user_id: Uuid,
    pub updated_by_user_id: Option<Uuid>,
    /// The team the log belongs to: the assignee's team, else the creator's.
    pub team_id: Option<Uuid>,
    pub communication_type: CommunicationType,
    /// The `channel_code` of an active channel configuration.
    pub channel: String,
    pub direction: Direction,
    pub subject: String,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
    pub duration_minutes: Option<i64>,
    pub duration_seconds: Option<i64>,
    /// How a call ended (`answered`, `no_answer`, `busy`, `failed`, `voicemail`, `canceled`).
    pub call_outcome: Option<CallOutcome>,
    /// On a reply from the company: seconds since the oldest message it answered arrived.
    pub response_seconds: Option<i64>,
    /// The customer's satisfaction with this communication, 1–5, when recorded
    /// (`PUT /api/communication-logs/{id}/satisfaction/`).
    pub satisfaction_score: Option<i32>,
    pub content: String,
    pub summary: Option<String>,
    /// Present when asked for (`include_transcript`), otherwise omitted from lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcription: Option<String>,
    pub priority: Priority,
    pub status: LogStatus,
    pub is_internal: bool,
    pub sentiment: Option<Sentiment>,
    pub sentiment_score: Option<f64>,
    pub key_topics: Vec<String>,
    pub requires_follow_up: bool,
    pub follow_up_assigned_to: Option<Uuid>,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub follow_up_date: Option<OffsetDateTime>,
    pub follow_up_status: Option<FollowUpStatus>,
    /// Where the log came from (`manual`, `api`, `imap`, `twilio`, …).
    pub source: String,
    /// The item's identifier at its source (Message-ID, CallSid, …); unique per company and source.
    pub external_id: Option<String>,
    pub thread_id: Option<Uuid>,
    pub categories: Vec<CategoryRef>,
    pub tags: Vec<String>,
    pub watchers: Vec<Uuid>,
    pub participants: Vec<Participant>,
    /// The language of the content (ISO 639-1), when automatic processing could tell.
    pub language: Option<String>,
    /// What automatic processing found beyond the columns above: sentiment per speaker and the
    /// most negative part, transcript segments, PII spans, the escalation reason. Read-only.
    #[schema(value_type = Object)]
    pub analysis: serde_json::Value,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    pub is_deleted: bool,
}

/// The body of `POST /api/communication-logs/` (and of `PUT`, which replaces every editable field).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommunicationLog {
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub assigned_to_user_id: Option<Uuid>,
    pub communication_type: CommunicationType,
    pub channel: String,
    pub direction: Direction,
    /// Defaults to the first line of the content.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: OffsetDateTime,
    #[serde(default, with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<OffsetDateTime>,
    /// For calls whose end is unknown; ignored when `end_time` is given.
    #[serde(default)]
    pub duration_seconds: Option<i64>,
    /// How a call ended.
    #[serde(default)]
    pub call_outcome: Option<CallOutcome>,
    pub content: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub transcription: Option<String>,
    /// Defaults to the first category's `default_priority`, else `normal`.
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub status: Option<LogStatus>,
    #[serde(default)]
    pub is_internal: bool,
    #[serde(default)]
    pub sentiment: Option<Sentiment>,
    #[serde(default)]
    pub sentiment_score: Option<f64>,
    #[serde(default)]
    pub key_topics: Vec<String>,
    #[serde(default)]
    pub requires_follow_up: bool,
    #[serde(default)]
    pub follow_up_assigned_to: Option<Uuid>,
    #[serde(default, with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub follow_up_date: Option<OffsetDateTime>,
    #[serde(default)]
    pub follow_up_status: Option<FollowUpStatus>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub thread_id: Option<Uuid>,
    #[serde(default)]
    pub category_ids: Vec<Uuid>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub watcher_ids: Vec<Uuid>,
    #[serde(default)]
    pub participants: Vec<NewParticipant>,
}

impl NewParticipant {
    /// The caller and callee of a call by number, normalised to E.164 in the company's
    /// `country` (so they match contacts); a number that is no phone number (an extension, a
    /// SIP URI) is left out.
    pub fn call_parties(
        from: &str,
        from_name: Option<String>,
        to: &str,
        country: Option<&str>,
    ) -> Vec<NewParticipant> {
        [
            (ParticipantRole::Caller, from, from_name),
            (ParticipantRole::Callee, to, None),
        ]
        .into_iter()
        .filter_map(|(role, number, name)| {
            let phone = crate::phone::normalize_e164(number, country).ok()?;
            Some(NewParticipant {
                role,
                email: None,
                phone: Some(phone),
                name,
                contact_id: None,
                user_id: None,
            })
        })
        .collect()
    }
}

impl NewCommunicationLog {
    /// A log with only what every log needs; everything else empty or defaulted (captures and
    /// imports set what their source knows on top).
    pub fn minimal(
        communication_type: CommunicationType,
        channel: &str,
        direction: Direction,
        start_time: OffsetDateTime,
        content: String,
    ) -> Self {
        Self {
            customer_id: None,
            contact_id: None,
            assigned_to_user_id: None,
            communication_type,
            channel: channel.to_owned(),
            direction,
            subject: None,
            start_time,
            end_time: None,
            duration_seconds: None,
            call_outcome: None,
            content,
            summary: None,
            transcription: None,
            priority: None,
            status: None,
            is_internal: false,
            sentiment: None,
            sentiment_score: None,
            key_topics: Vec::new(),
            requires_follow_up: false,
            follow_up_assigned_to: None,
            follow_up_date: None,
            follow_up_status: None,
            source: None,
            external_id: None,
            thread_id: None,
            category_ids: Vec::new(),
            tags: Vec::new(),
            watcher_ids: Vec::new(),
            participants: Vec::new(),
        }
    }
}

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The body of `PATCH /api/communication-logs/{id}/`: only the fields present change; `null`
/// clears a nullable field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationLogPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub customer_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contact_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub assigned_to_user_id: Option<Option<Uuid>>,
    #[serde(default)]
    pub communication_type: Option<CommunicationType>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default, with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "double_option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<Option<OffsetDateTime>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub duration_seconds: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<CallOutcome>)]
    pub call_outcome: Option<Option<CallOutcome>>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub transcription: Option<Option<String>>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub status: Option<LogStatus>,
    #[serde(default)]
    pub is_internal: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Sentiment>)]
    pub sentiment: Option<Option<Sentiment>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub sentiment_score: Option<Option<f64>>,
    #[serde(default)]
    pub key_topics: Option<Vec<String>>,
    #[serde(default)]
    pub requires_follow_up: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub follow_up_assigned_to: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub follow_up_date: Option<Option<OffsetDateTime>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<FollowUpStatus>)]
    pub follow_up_status: Option<Option<FollowUpStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub thread_id: Option<Option<Uuid>>,
    /// Replaces the set of categories.
    #[serde(default)]
    pub category_ids: Option<Vec<Uuid>>,
    /// Replaces the set of tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Replaces the set of watchers.
    #[serde(default)]
    pub watcher_ids: Option<Vec<Uuid>>,
    /// Replaces the participants.
    #[serde(default)]
    pub participants: Option<Vec<NewParticipant>>,
}

fn double_option_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    rfc3339::option::deserialize(d).map(Some)
}

impl CommunicationLogPatch {
    /// A patch that sets every editable field to the values of a full body (the meaning of `PUT`).
    pub fn replace_with(n: NewCommunicationLog) -> Self {
        Self {
            customer_id: Some(n.customer_id),
            contact_id: Some(n.contact_id),
            assigned_to_user_id: Some(n.assigned_to_user_id),
            communication_type: Some(n.communication_type),
            channel: Some(n.channel),
            direction: Some(n.direction),
            subject: n.subject.or_else(|| Some(default_subject(&n.content))),
            start_time: Some(n.start_time),
            end_time: Some(n.end_time),
            duration_seconds: Some(n.duration_seconds),
            call_outcome: Some(n.call_outcome),
            content: Some(n.content),
            summary: Some(n.summary),
            transcription: Some(n.transcription),
            priority: n.priority,
            status: n.status,
            is_internal: Some(n.is_internal),
            sentiment: Some(n.sentiment),
            sentiment_score: Some(n.sentiment_score),
            key_topics: Some(n.key_topics),
            requires_follow_up: Some(n.requires_follow_up),
            follow_up_assigned_to: Some(n.follow_up_assigned_to),
            follow_up_date: Some(n.follow_up_date),
            follow_up_status: Some(n.follow_up_status),
            thread_id: Some(n.thread_id),
            category_ids: Some(n.category_ids),
            tags: Some(n.tags),
            watcher_ids: Some(n.watcher_ids),
            participants: Some(n.participants),
        }
    }
}

/// The subject a log gets when none is given: the content's first line, shortened.
pub fn default_subject(content: &str) -> String {
    let first = content.trim().lines().next().unwrap_or("").trim();
    let mut s: String = first.chars().take(80).collect();
    if first.chars().count() > 80 {
        s.push('…');
    }
    s
}
