//! Slack Events API payloads: the `url_verification` handshake (answer its challenge) and
//! `event_callback` envelopes, whose message events become [`MessageEvent`]s. Verify with
//! [`crate::signature::verify_slack`] first, dedupe deliveries on `event_id` (retries keep it)
//! and route by `team_id`, refusing unknown teams.

use crate::MAX_WEBHOOK_BYTES;
use crate::error::{ParseError, check_size, shown};
use crate::event::{MessageChange, MessageChannel, MessageEvent};
use serde::Deserialize;
use time::OffsetDateTime;

/// A Slack Events API request body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub enum SlackPayload {
    /// The endpoint check: answer 200 with `challenge` as `text/plain`.
    #[serde(rename = "url_verification")]
    UrlVerification {
        /// The value to echo (checked to be 1–512 printable ASCII characters).
        challenge: String,
    },
    /// An event delivery.
    #[serde(rename = "event_callback")]
    EventCallback(Box<SlackEventCallback>),
    /// Any other envelope (`app_rate_limited`, …): acknowledge and ignore.
    #[serde(other)]
    Other,
}

/// The envelope of an event delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlackEventCallback {
    /// The workspace; route by it and refuse unknown teams.
    pub team_id: String,
    #[serde(default)]
    /// The app the event is for.
    pub api_app_id: Option<String>,
    /// Unique per event; kept across retries, so dedupe on it.
    pub event_id: String,
    #[serde(default)]
    /// When the event happened (unix seconds).
    pub event_time: Option<i64>,
    /// The event itself.
    pub event: SlackEvent,
}

/// The inner event; only message events are mapped, the rest are kept for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlackEvent {
    #[serde(rename = "type")]
    /// `message`, `reaction_added`, …
    pub kind: String,
    #[serde(default)]
    /// `message_changed`, `message_deleted`, `bot_message`, …
    pub subtype: Option<String>,
    #[serde(default)]
    /// The message text.
    pub text: Option<String>,
    #[serde(default)]
    /// The sending user.
    pub user: Option<String>,
    #[serde(default)]
    /// The sending bot.
    pub bot_id: Option<String>,
    #[serde(default)]
    /// The channel (or DM) id.
    pub channel: Option<String>,
    #[serde(default)]
    /// The message's timestamp and id within the channel.
    pub ts: Option<String>,
    #[serde(default)]
    /// The parent's `ts` for thread replies.
    pub thread_ts: Option<String>,
    /// The edited message of a `message_changed` event.
    #[serde(default)]
    pub message: Option<Box<SlackEvent>>,
    /// The removed message's `ts` of a `message_deleted` event.
    #[serde(default)]
    pub deleted_ts: Option<String>,
}

/// Parses a Slack Events API body (at most [`MAX_WEBHOOK_BYTES`]).
pub fn parse(body: &[u8]) -> Result<SlackPayload, ParseError> {
    check_size(body, MAX_WEBHOOK_BYTES)?;
    let payload: SlackPayload = serde_json::from_slice(body).map_err(|e| ParseError::json(&e))?;
    if let SlackPayload::UrlVerification { challenge } = &payload {
        let printable = challenge.bytes().all(|b| b.is_ascii_graphic());
        if challenge.is_empty() || challenge.len() > 512 || !printable {
            return Err(ParseError::invalid(
                "challenge",
                "must be 1–512 printable ASCII characters",
            ));
        }
    }
    Ok(payload)
}

/// Parses a Slack `ts` (`1531420618.000200`: seconds and microseconds).
pub fn parse_ts(field: &str, ts: &str) -> Result<OffsetDateTime, ParseError> {
    let bad = || ParseError::invalid(field, format!("{} is not a Slack timestamp", shown(ts)));
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || secs.len() > 12 || frac.len() > 9 || !digits(secs) || !digits(frac) {
        return Err(bad());
    }
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: i64 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
    let total = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    OffsetDateTime::from_unix_timestamp_nanos(total).map_err(|_| bad())
}

impl SlackEventCallback {
    /// The message event, for `type: message` events (new, `message_changed`,
    /// `message_deleted`); `None` for other event types. The external id is `channel:ts`; the
    /// thread key is `channel:thread_ts` for thread replies and `channel:ts` for top-level messages, so
    /// a message and its replies share one thread.
    pub fn to_message_event(&self) -> Result<Option<MessageEvent>, ParseError> {
        let e = &self.event;
        if e.kind != "message" {
            return Ok(None);
        }
        let channel = e
            .channel
            .as_deref()
            .ok_or_else(|| ParseError::missing("event.channel"))?;
        let (change, msg, ts) = match e.subtype.as_deref() {
            Some("message_changed") => {
                let m = e
                    .message
                    .as_deref()
                    .ok_or_else(|| ParseError::missing("event.message"))?;
                (MessageChange::Updated, m, m.ts.as_deref())
            }
            Some("message_deleted") => (MessageChange::Deleted, e, e.deleted_ts.as_deref()),
            _ => (MessageChange::Created, e, e.ts.as_deref()),
        };
        let ts = ts.ok_or_else(|| ParseError::missing("event.ts"))?;
        let occurred_at = parse_ts("event.ts", ts)?;
        let thread_key = match msg.thread_ts.as_deref() {
            Some(thread) => {
                parse_ts("event.thread_ts", thread)?;
                format!("{channel}:{thread}")
            }
            // A top-level message heads its own thread: replies name its ts as thread_ts.
            None => format!("{channel}:{ts}"),
        };
        Ok(Some(MessageEvent {
            channel: MessageChannel::Slack,
            tenant_key: self.team_id.clone(),
            external_id: format!("{channel}:{ts}"),
            thread_key,
            change,
            direction: None,
            sender: msg.user.clone().or_else(|| msg.bot_id.clone()),
            sender_name: None,
            text: if change == MessageChange::Deleted {
                None
            } else {
                msg.text.clone()
            },
            kind: msg.subtype.clone().unwrap_or_else(|| "text".to_owned()),
            occurred_at: Some(occurred_at),
        }))
    }
}

#[cfg(test)]
mod tests;
