//! The closed vocabularies of a communication log (blueprint §3 choices), each with one
//! spelling shared by the API, the database and the UI.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a string enumeration with `as_str`, `FromStr`, serde and OpenAPI support.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's stable spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::enums::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::enums::UnknownValue {
                        kind: stringify!($name),
                        expected: &[$($text),+],
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A value outside an enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub expected: &'static [&'static str],
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected one of: {}", self.expected.join(", "))
    }
}

impl std::error::Error for UnknownValue {}

string_enum! {
    /// What kind of conversation this was.
    CommunicationType {
        Call = "call", Email = "email", Sms = "sms", Chat = "chat", Message = "message",
        Meeting = "meeting", Voicemail = "voicemail", Note = "note",
    }
}

string_enum! {
    /// How a call ended (telephony dispositions).
    CallOutcome {
        Answered = "answered", NoAnswer = "no_answer", Busy = "busy", Failed = "failed",
        Voicemail = "voicemail", Canceled = "canceled",
    }
}

string_enum! {
    /// Who started the conversation.
    Direction { Inbound = "inbound", Outbound = "outbound", Internal = "internal" }
}

string_enum! {
    /// How urgent a log is.
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
}

impl Priority {
    /// Its rank, lowest first, for "at least" comparisons and for raising a priority.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    /// The higher of two priorities.
    pub fn max(self, other: Priority) -> Priority {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

string_enum! {
    /// Where a log is in its life (SPEC §3; transitions in [`crate::status`]).
    LogStatus {
        Logged = "logged", InProgress = "in_progress", AwaitingResponse = "awaiting_response",
        Escalated = "escalated", Resolved = "resolved", Closed = "closed", Archived = "archived",
    }
}

string_enum! {
    /// Where a follow-up stands.
    FollowUpStatus {
        Pending = "pending", InProgress = "in_progress", Completed = "completed",
        Cancelled = "cancelled", Overdue = "overdue",
    }
}

impl FollowUpStatus {
    /// A follow-up that still asks for work; such a log may not be deleted (blueprint §6.3).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::InProgress | Self::Overdue)
    }
}

string_enum! {
    /// The tone of a conversation.
    Sentiment { Positive = "positive", Neutral = "neutral", Negative = "negative" }
}

string_enum! {
    /// A user's role (SPEC §4).
    Role { SalesRep = "sales_rep", TeamLead = "team_lead", Manager = "manager", Admin = "admin" }
}

string_enum! {
    /// A participant's part in a conversation.
    ParticipantRole {
        From = "from", To = "to", Cc = "cc", Bcc = "bcc", Caller = "caller", Callee = "callee",
    }
}

string_enum! {
    /// The technical family of a configured channel.
    ChannelType {
        Phone = "phone", Email = "email", Sms = "sms", Chat = "chat", Messaging = "messaging",
        Web = "web", Other = "other",
    }
}

string_enum! {
    /// Whether an attachment's bytes are in the blob store yet.
    AttachmentStatus { Pending = "pending", Available = "available" }
}

string_enum! {
    /// Where a background job stands: `dead` jobs spent their attempts and wait for a person.
    JobStatus { Queued = "queued", Running = "running", Done = "done", Dead = "dead" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn every_value_round_trips_through_its_spelling() {
        for s in LogStatus::ALL {
            assert_eq!(LogStatus::from_str(s.as_str()), Ok(*s));
            let json = serde_json::to_string(s).expect("serialize");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for r in Role::ALL {
            assert_eq!(Role::from_str(r.as_str()), Ok(*r));
        }
    }

    #[test]
    fn unknown_values_list_the_expected_ones() {
        let err = Priority::from_str("critical").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "expected one of: low, normal, high, urgent"
        );
    }
}
