//! Twilio Voice: call status callbacks and recording status callbacks (form-encoded bodies)
//! parsed into typed structs and mapped to [`CallEvent`]/[`RecordingEvent`], plus the
//! allow-list for fetching recordings. Verify the body with
//! [`crate::signature::verify_twilio_form`] first; order events with [`merge`].

pub use crate::snapshot::{CallSnapshot, merge};

use crate::MAX_WEBHOOK_BYTES;
use crate::error::{ParseError, check_text, parse_u64, shown};
use crate::event::{
    CallEvent, CallOutcome, CallSource, CallState, RecordingEvent, RecordingRef, RecordingStatus,
};
use crate::form::Form;
use commlog_domain::Direction;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// A Twilio `CallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwilioCallStatus {
    /// `queued`.
    Queued,
    /// `initiated`.
    Initiated,
    /// `ringing`.
    Ringing,
    /// `in-progress`.
    InProgress,
    /// `completed`.
    Completed,
    /// `busy`.
    Busy,
    /// `failed`.
    Failed,
    /// `no-answer`.
    NoAnswer,
    /// `canceled`.
    Canceled,
}

impl TwilioCallStatus {
    /// Parses Twilio's spelling (`in-progress`, `no-answer`, …).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Ok(match s {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "failed" => Self::Failed,
            "no-answer" => Self::NoAnswer,
            "canceled" => Self::Canceled,
            _ => {
                return Err(ParseError::invalid(
                    "CallStatus",
                    format!(
                        "{} is not one of queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled",
                        shown(s)
                    ),
                ));
            }
        })
    }

    /// The neutral state and, for final statuses, the outcome (before answering-machine
    /// detection is taken into account).
    pub fn state_and_outcome(self) -> (CallState, Option<CallOutcome>) {
        match self {
            Self::Queued => (CallState::Queued, None),
            Self::Initiated => (CallState::Initiated, None),
            Self::Ringing => (CallState::Ringing, None),
            Self::InProgress => (CallState::InProgress, None),
            Self::Completed => (CallState::Ended, Some(CallOutcome::Answered)),
            Self::Busy => (CallState::Ended, Some(CallOutcome::Busy)),
            Self::Failed => (CallState::Ended, Some(CallOutcome::Failed)),
            Self::NoAnswer => (CallState::Ended, Some(CallOutcome::NoAnswer)),
            Self::Canceled => (CallState::Ended, Some(CallOutcome::Canceled)),
        }
    }
}

/// Twilio answering-machine detection's verdict (`AnsweredBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnsweredBy {
    /// `human`.
    Human,
    /// `machine_start`, `machine_end_beep`, `machine_end_silence`, `machine_end_other`.
    Machine,
    /// `fax`.
    Fax,
    /// `unknown`.
    Unknown,
}

impl AnsweredBy {
    fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "human" => Ok(Self::Human),
            "fax" => Ok(Self::Fax),
            "unknown" => Ok(Self::Unknown),
            m if m.starts_with("machine_") => Ok(Self::Machine),
            _ => Err(ParseError::invalid(
                "AnsweredBy",
                format!("{} is not human, machine_*, fax or unknown", shown(s)),
            )),
        }
    }
}

/// A call status callback (`StatusCallback`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioStatusCallback {
    /// `CallSid` (`CA…`), the call's external id.
    pub call_sid: String,
    /// `AccountSid` (`AC…`): route to the tenant by it.
    pub account_sid: String,
    /// `ParentCallSid`, for child legs.
    pub parent_call_sid: Option<String>,
    /// `From`.
    pub from: String,
    /// `To`.
    pub to: String,
    /// `CallerName` (CNAM), when looked up.
    pub caller_name: Option<String>,
    /// `inbound` → inbound; `outbound-api`, `outbound-dial` → outbound.
    pub direction: Direction,
    /// `CallStatus`.
    pub call_status: TwilioCallStatus,
    /// `SequenceNumber`: orders this call's callbacks.
    pub sequence_number: Option<u64>,
    /// `CallDuration` in seconds (final callbacks).
    pub call_duration: Option<u64>,
    /// `Timestamp`, RFC 2822.
    pub timestamp: Option<OffsetDateTime>,
    /// `RecordingSid`, when the call was recorded.
    pub recording_sid: Option<String>,
    /// `RecordingUrl`; check it with [`recording_url_allowed`].
    pub recording_url: Option<String>,
    /// `RecordingDuration` in seconds.
    pub recording_duration: Option<u64>,
    /// `AnsweredBy`, with answering-machine detection.
    pub answered_by: Option<AnsweredBy>,
}

impl TwilioStatusCallback {
    /// Parses a form-encoded status callback body (at most [`MAX_WEBHOOK_BYTES`]).
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        let f = Form::parse(body, MAX_WEBHOOK_BYTES)?;
        let direction = match f.require("Direction")? {
            "inbound" => Direction::Inbound,
            d if d.starts_with("outbound") => Direction::Outbound,
            d => {
                return Err(ParseError::invalid(
                    "Direction",
                    format!("{} is not inbound, outbound-api or outbound-dial", shown(d)),
                ));
            }
        };
        Ok(Self {
            call_sid: sid(&f, "CallSid", "CA")?,
            account_sid: sid(&f, "AccountSid", "AC")?,
            parent_call_sid: opt_sid(&f, "ParentCallSid", "CA")?,
            from: text(&f, "From")?.unwrap_or_default(),
            to: text(&f, "To")?.unwrap_or_default(),
            caller_name: text(&f, "CallerName")?,
            direction,
            call_status: TwilioCallStatus::parse(f.require("CallStatus")?)?,
            sequence_number: number(&f, "SequenceNumber")?,
            call_duration: number(&f, "CallDuration")?,
            timestamp: rfc2822(&f, "Timestamp")?,
            recording_sid: opt_sid(&f, "RecordingSid", "RE")?,
            recording_url: text(&f, "RecordingUrl")?,
            recording_duration: number(&f, "RecordingDuration")?,
            answered_by: f.get("AnsweredBy")?.map(AnsweredBy::parse).transpose()?,
        })
    }

    /// The provider-neutral event. `AnsweredBy=machine_*` makes a completed call voicemail.
    pub fn to_call_event(&self) -> CallEvent {
        let (state, mut outcome) = self.call_status.state_and_outcome();
        let machine = self.answered_by == Some(AnsweredBy::Machine);
        if machine && outcome == Some(CallOutcome::Answered) {
            outcome = Some(CallOutcome::Voicemail);
        }
        let recording = self.recording_url.as_ref().map(|url| RecordingRef {
            id: self.recording_sid.clone(),
            url: url.clone(),
            duration_seconds: self.recording_duration,
        });
        CallEvent {
            source: CallSource::Twilio,
            external_id: self.call_sid.clone(),
            from: self.from.clone(),
            from_name: self.caller_name.clone(),
            to: self.to.clone(),
            direction: Some(self.direction),
            state,
            outcome,
            machine_answered: machine,
            duration_seconds: self.call_duration,
            talk_seconds: None,
            sequence: self.sequence_number,
            occurred_at: self.timestamp,
            started_at: None,
            answered_at: None,
            ended_at: None,
            agent_email: None,
            recording,
        }
    }
}

/// A recording status callback (`recordingStatusCallback`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioRecordingCallback {
    /// `AccountSid` (`AC…`).
    pub account_sid: String,
    /// `CallSid` (`CA…`) of the recorded call.
    pub call_sid: String,
    /// `RecordingSid` (`RE…`).
    pub recording_sid: String,
    /// `RecordingUrl`; check it with [`recording_url_allowed`].
    pub recording_url: Option<String>,
    /// `RecordingStatus`.
    pub recording_status: RecordingStatus,
    /// `RecordingDuration` in seconds.
    pub recording_duration: Option<u64>,
    /// `RecordingChannels`.
    pub recording_channels: Option<u64>,
    /// `RecordingStartTime` (RFC 2822).
    pub recording_start_time: Option<OffsetDateTime>,
    /// `RecordingSource` (`DialVerb`, `RecordVerb`, …).
    pub recording_source: Option<String>,
    /// `16101` (too short) or `16102` (silent) for `absent`.
    pub error_code: Option<String>,
}

impl TwilioRecordingCallback {
    /// Parses a form-encoded recording status callback body (at most [`MAX_WEBHOOK_BYTES`]).
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        let f = Form::parse(body, MAX_WEBHOOK_BYTES)?;
        let status = match f.require("RecordingStatus")? {
            "in-progress" => RecordingStatus::InProgress,
            "completed" => RecordingStatus::Completed,
            "absent" => RecordingStatus::Absent,
            "failed" => RecordingStatus::Failed,
            s => {
                return Err(ParseError::invalid(
                    "RecordingStatus",
                    format!(
                        "{} is not in-progress, completed, absent or failed",
                        shown(s)
                    ),
                ));
            }
        };
        Ok(Self {
            account_sid: sid(&f, "AccountSid", "AC")?,
            call_sid: sid(&f, "CallSid", "CA")?,
            recording_sid: sid(&f, "RecordingSid", "RE")?,
            recording_url: text(&f, "RecordingUrl")?,
            recording_status: status,
            recording_duration: number(&f, "RecordingDuration")?,
            recording_channels: number(&f, "RecordingChannels")?,
            recording_start_time: rfc2822(&f, "RecordingStartTime")?,
            recording_source: text(&f, "RecordingSource")?,
            error_code: text(&f, "ErrorCode")?,
        })
    }

    /// The provider-neutral event; dedupe on `(recording_id, status)`.
    pub fn to_recording_event(&self) -> RecordingEvent {
        RecordingEvent {
            source: CallSource::Twilio,
            call_external_id: self.call_sid.clone(),
            recording_id: self.recording_sid.clone(),
            status: self.recording_status,
            url: self.recording_url.clone(),
            duration_seconds: self.recording_duration,
            error_code: self.error_code.clone(),
            started_at: self.recording_start_time,
        }
    }
}

/// Whether a recording URL from a callback may be fetched: only `https://api.twilio.com/…`,
/// with no user info, no port, no other host and no characters that URL parsers disagree on.
pub fn recording_url_allowed(url: &str) -> bool {
    const PREFIX: &str = "https://api.twilio.com/";
    url.len() <= 2048
        && url.starts_with(PREFIX)
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

/// A Twilio SID: two-letter prefix and 32 hexadecimal digits.
fn check_sid(field: &str, value: &str, prefix: &str) -> Result<(), ParseError> {
    let ok = value.len() == 34
        && value.starts_with(prefix)
        && value
            .get(2..)
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(ParseError::invalid(
            field,
            format!("{} is not a {prefix}… SID of 34 characters", shown(value)),
        ))
    }
}

fn sid(f: &Form, field: &str, prefix: &str) -> Result<String, ParseError> {
    let v = f.require(field)?;
    check_sid(field, v, prefix)?;
    Ok(v.to_owned())
}

fn opt_sid(f: &Form, field: &str, prefix: &str) -> Result<Option<String>, ParseError> {
    f.get(field)?
        .map(|v| check_sid(field, v, prefix).map(|()| v.to_owned()))
        .transpose()
}

fn text(f: &Form, field: &str) -> Result<Option<String>, ParseError> {
    f.get(field)?
        .map(|v| check_text(field, v, 2048).map(|()| v.to_owned()))
        .transpose()
}

fn number(f: &Form, field: &str) -> Result<Option<u64>, ParseError> {
    f.get(field)?.map(|v| parse_u64(field, v)).transpose()
}

fn rfc2822(f: &Form, field: &str) -> Result<Option<OffsetDateTime>, ParseError> {
    f.get(field)?
        .map(|v| {
            OffsetDateTime::parse(v.trim(), &Rfc2822).map_err(|_| {
                ParseError::invalid(field, format!("{} is not an RFC 2822 date", shown(v)))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests;
