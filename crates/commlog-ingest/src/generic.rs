//! Commlog's generic JSON call-event schema, for any PBX or softphone that can POST a webhook
//! (signed with [`crate::signature::verify_commlog`]). One request reports one event:
//!
//! ```json
//! {
//!   "call_id": "pbx-7f3a",            // required, the call's id at the sender, ≤ 256 bytes
//!   "event": "completed",             // ringing | answered | completed | missed | voicemail | failed | busy
//!   "direction": "inbound",           // inbound | outbound | internal
//!   "from": "+14155550100",           // required
//!   "to": "+14155550199",             // required
//!   "started_at": "2026-11-24T10:00:00Z",
//!   "answered_at": "2026-11-24T10:00:05Z",   // optional
//!   "ended_at": "2026-11-24T10:01:05Z",      // optional
//!   "duration_seconds": 65,                  // optional
//!   "agent_email": "agent@example.com",      // optional
//!   "recording_url": "https://pbx.example.com/rec/7f3a.wav"  // optional, https only
//! }
//! ```
//!
//! Unknown fields are refused, times are RFC 3339. Events of one call may arrive in any
//! order; [`crate::snapshot::merge`] orders them by lifecycle state.

use crate::MAX_WEBHOOK_BYTES;
use crate::error::{ParseError, check_size, check_text, shown};
use crate::event::{CallEvent, CallOutcome, CallSource, CallState, RecordingRef};
use commlog_domain::Direction;
use commlog_domain::time_fmt::rfc3339;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The longest call this schema accepts: 31 days.
const MAX_DURATION_SECONDS: u64 = 31 * 24 * 3600;

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenericEventKind {
    /// The phone is ringing.
    Ringing,
    /// Someone answered.
    Answered,
    /// An answered call ended.
    Completed,
    /// Nobody answered.
    Missed,
    /// The call went to voicemail.
    Voicemail,
    /// The call failed.
    Failed,
    /// The far end was busy.
    Busy,
}

impl GenericEventKind {
    /// The neutral state and outcome.
    pub fn state_and_outcome(self) -> (CallState, Option<CallOutcome>) {
        match self {
            Self::Ringing => (CallState::Ringing, None),
            Self::Answered => (CallState::InProgress, None),
            Self::Completed => (CallState::Ended, Some(CallOutcome::Answered)),
            Self::Missed => (CallState::Ended, Some(CallOutcome::NoAnswer)),
            Self::Voicemail => (CallState::Ended, Some(CallOutcome::Voicemail)),
            Self::Failed => (CallState::Ended, Some(CallOutcome::Failed)),
            Self::Busy => (CallState::Ended, Some(CallOutcome::Busy)),
        }
    }
}

/// One generic call event, exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericCallEvent {
    /// The call's id at the sender; the dedupe key with `event`.
    pub call_id: String,
    /// What happened.
    pub event: GenericEventKind,
    /// `inbound`, `outbound` or `internal`.
    pub direction: Direction,
    /// The calling number or extension.
    pub from: String,
    /// The called number or extension.
    pub to: String,
    #[serde(with = "rfc3339")]
    /// When the call started (RFC 3339).
    pub started_at: OffsetDateTime,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    /// When it was answered.
    pub answered_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Total seconds.
    pub duration_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The agent who handled it.
    pub agent_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Where the recording is (https only).
    pub recording_url: Option<String>,
}

/// Parses and validates a generic call event body (at most [`MAX_WEBHOOK_BYTES`]).
pub fn parse(body: &[u8]) -> Result<GenericCallEvent, ParseError> {
    check_size(body, MAX_WEBHOOK_BYTES)?;
    let event: GenericCallEvent = serde_json::from_slice(body).map_err(|e| ParseError::json(&e))?;
    event.validate()?;
    Ok(event)
}

impl GenericCallEvent {
    /// Checks lengths, time order, the e-mail and the recording URL.
    pub fn validate(&self) -> Result<(), ParseError> {
        check_text("call_id", &self.call_id, 256)?;
        check_text("from", &self.from, 128)?;
        check_text("to", &self.to, 128)?;
        if let Some(a) = self.answered_at
            && a < self.started_at
        {
            return Err(ParseError::invalid("answered_at", "is before started_at"));
        }
        if let Some(e) = self.ended_at
            && (e < self.started_at || self.answered_at.is_some_and(|a| e < a))
        {
            return Err(ParseError::invalid(
                "ended_at",
                "is before started_at or answered_at",
            ));
        }
        if self
            .duration_seconds
            .is_some_and(|d| d > MAX_DURATION_SECONDS)
        {
            return Err(ParseError::invalid(
                "duration_seconds",
                "is more than 31 days",
            ));
        }
        if let Some(email) = &self.agent_email {
            check_text("agent_email", email, 254)?;
            let valid = email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
                && !email.contains(char::is_whitespace);
            if !valid {
                return Err(ParseError::invalid(
                    "agent_email",
                    format!("{} is not an e-mail address", shown(email)),
                ));
            }
        }
        if let Some(url) = &self.recording_url {
            check_text("recording_url", url, 2048)?;
            let authority = url
                .strip_prefix("https://")
                .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
            let ok = authority.is_some_and(|a| !a.is_empty() && !a.contains('@'))
                && !url.contains(|c: char| c.is_whitespace() || c == '\\');
            if !ok {
                return Err(ParseError::invalid(
                    "recording_url",
                    "must be an https URL without user info",
                ));
            }
        }
        Ok(())
    }

    /// The provider-neutral event. Its time is the end, answer or start, by event.
    pub fn to_call_event(&self) -> CallEvent {
        let (state, outcome) = self.event.state_and_outcome();
        let occurred_at = match state {
            CallState::Ended => self
                .ended_at
                .or(self.answered_at)
                .unwrap_or(self.started_at),
            CallState::InProgress => self.answered_at.unwrap_or(self.started_at),
            _ => self.started_at,
        };
        CallEvent {
            source: CallSource::Generic,
            external_id: self.call_id.clone(),
            from: self.from.clone(),
            from_name: None,
            to: self.to.clone(),
            direction: Some(self.direction),
            state,
            outcome,
            machine_answered: false,
            duration_seconds: self.duration_seconds,
            talk_seconds: None,
            sequence: None,
            occurred_at: Some(occurred_at),
            started_at: Some(self.started_at),
            answered_at: self.answered_at,
            ended_at: self.ended_at,
            agent_email: self.agent_email.clone(),
            recording: self.recording_url.as_ref().map(|url| RecordingRef {
                id: None,
                url: url.clone(),
                duration_seconds: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
