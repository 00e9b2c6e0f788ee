//! The provider-neutral events every connector produces: [`CallEvent`] for telephony
//! (status callbacks, generic PBX events, CDRs), [`RecordingEvent`] for call recordings and
//! [`MessageEvent`] for messaging (Slack, WhatsApp, Teams). Mapping them to communication
//! logs is the caller's job; these types only say what the provider reported.

use commlog_domain::Direction;
use commlog_domain::time_fmt::rfc3339;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a call event came from; also the `source` of the log it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallSource {
    /// Twilio Voice status callbacks.
    Twilio,
    /// Commlog's generic JSON call-event schema (any PBX or softphone).
    Generic,
    /// Asterisk CDR CSV.
    Asterisk,
    /// FreeSWITCH CDR (CSV or mod_xml_cdr).
    #[serde(rename = "freeswitch")]
    FreeSwitch,
}

impl CallSource {
    /// The stable spelling, used as a log's `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Generic => "generic",
            Self::Asterisk => "asterisk",
            Self::FreeSwitch => "freeswitch",
        }
    }
}

/// Where a call is in its life, in lifecycle order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Waiting to be placed.
    Queued,
    /// Being placed.
    Initiated,
    /// Ringing at the far end.
    Ringing,
    /// Answered and connected.
    InProgress,
    /// Over; the outcome says how it ended.
    Ended,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// A person answered.
    Answered,
    /// Nobody answered.
    NoAnswer,
    /// The far end was busy (or rejected the call).
    Busy,
    /// The call could not be placed or dropped on an error.
    Failed,
    /// A machine or voicemail box answered.
    Voicemail,
    /// The caller hung up before an answer.
    Canceled,
}

impl CallOutcome {
    /// The stable spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::Voicemail => "voicemail",
            Self::Canceled => "canceled",
        }
    }
}

/// A recording attached to a call, as far as the provider told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingRef {
    /// The provider's recording id (Twilio `RecordingSid`), when it has one.
    pub id: Option<String>,
    /// Where to fetch it; check it (e.g. [`crate::twilio::recording_url_allowed`]) before fetching.
    pub url: String,
    /// Length in seconds.
    pub duration_seconds: Option<u64>,
}

/// One thing a telephony source reported about a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    /// Which connector produced it.
    pub source: CallSource,
    /// The call's id at its source (CallSid, call_id, uniqueid, uuid).
    pub external_id: String,
    /// The calling number or extension; empty when the caller withheld it.
    pub from: String,
    /// The caller's display name, when known.
    pub from_name: Option<String>,
    /// The called number or extension.
    pub to: String,
    /// Inbound, outbound or internal, when the source says.
    pub direction: Option<Direction>,
    /// The call's state after this event.
    pub state: CallState,
    /// How it ended, when `state` is [`CallState::Ended`].
    pub outcome: Option<CallOutcome>,
    /// Answering-machine detection reported a machine.
    pub machine_answered: bool,
    /// Total length in seconds.
    pub duration_seconds: Option<u64>,
    /// Connected (billable) seconds.
    pub talk_seconds: Option<u64>,
    /// The source's ordering number for this call's events (Twilio `SequenceNumber`).
    pub sequence: Option<u64>,
    /// When the source says this event happened.
    #[serde(with = "rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
    /// When the call started, if reported.
    #[serde(with = "rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it was answered, if reported.
    #[serde(with = "rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    /// When it ended, if reported.
    #[serde(with = "rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The agent who handled it, when the source knows.
    pub agent_email: Option<String>,
    /// A recording of the call, if one was reported with this event.
    pub recording: Option<RecordingRef>,
}

/// Where a recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// Recording is under way.
    InProgress,
    /// The recording is ready to fetch.
    Completed,
    /// Nothing usable was recorded (too short or silent).
    Absent,
    /// Recording failed.
    Failed,
}

impl RecordingStatus {
    /// Order for keeping the latest state when callbacks arrive out of order: in-progress
    /// first, every final state above it.
    pub fn rank(self) -> u8 {
        match self {
            Self::InProgress => 0,
            Self::Completed | Self::Absent | Self::Failed => 1,
        }
    }
}

/// A recording status report for a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingEvent {
    /// Which connector produced it.
    pub source: CallSource,
    /// The call the recording belongs to.
    pub call_external_id: String,
    /// The provider's recording id; dedupe on it together with `status`.
    pub recording_id: String,
    /// Where the recording stands.
    pub status: RecordingStatus,
    /// Where to fetch it (present when completed).
    pub url: Option<String>,
    /// Length in seconds.
    pub duration_seconds: Option<u64>,
    /// The provider's error code (Twilio `16101` too short, `16102` silent).
    pub error_code: Option<String>,
    /// When recording started, if reported.
    #[serde(with = "rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
}

/// The messaging channel a [`MessageEvent`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    /// Slack Events API.
    Slack,
    /// WhatsApp Business Cloud API.
    #[serde(rename = "whatsapp")]
    WhatsApp,
    /// Microsoft Teams via Graph change notifications.
    Teams,
}

impl MessageChannel {
    /// The channel code: `slack`, `whatsapp` or `teams`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::WhatsApp => "whatsapp",
            Self::Teams => "teams",
        }
    }
}

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChange {
    /// A new message.
    Created,
    /// An existing message was edited.
    Updated,
    /// An existing message was deleted.
    Deleted,
}

/// One message-level change reported by a messaging channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    /// Which channel reported it.
    pub channel: MessageChannel,
    /// Routes the event to a tenant: Slack `team_id`, WhatsApp `phone_number_id`, Graph
    /// `subscriptionId`.
    pub tenant_key: String,
    /// The message's id at its source (Slack `channel:ts`, WhatsApp `wamid…`, Teams message id).
    pub external_id: String,
    /// Groups messages into a conversation: Slack `channel:thread_ts` (a top-level message's own ts),
    /// WhatsApp contact `wa_id`, Teams chat id (or `channel/root message` for channel posts).
    pub thread_key: String,
    /// New, edited or deleted.
    pub change: MessageChange,
    /// Inbound or outbound, when the channel says.
    pub direction: Option<Direction>,
    /// The sender's id at the source (Slack user, WhatsApp number).
    pub sender: Option<String>,
    /// The sender's display name, when given.
    pub sender_name: Option<String>,
    /// The message text; `None` when the notification carries no content (fetch it).
    pub text: Option<String>,
    /// The source's content type (`text`, `image`, `file_share`, …).
    pub kind: String,
    /// When the message was sent, when the notification says.
    #[serde(with = "rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_stable() {
        assert_eq!(MessageChannel::WhatsApp.as_str(), "whatsapp");
        assert_eq!(
            serde_json::to_string(&MessageChannel::WhatsApp).expect("json"),
            "\"whatsapp\""
        );
        assert_eq!(
            serde_json::to_string(&CallSource::FreeSwitch).expect("json"),
            "\"freeswitch\""
        );
        assert_eq!(CallSource::FreeSwitch.as_str(), "freeswitch");
        assert_eq!(
            serde_json::to_string(&CallOutcome::NoAnswer).expect("json"),
            "\"no_answer\""
        );
    }

    #[test]
    fn states_are_in_lifecycle_order() {
        assert!(CallState::Queued < CallState::Ringing);
        assert!(CallState::InProgress < CallState::Ended);
        assert!(RecordingStatus::InProgress.rank() < RecordingStatus::Completed.rank());
    }
}
