//! WhatsApp Business Cloud API (Meta) webhooks: the subscription check (`hub.challenge`),
//! inbound messages as [`MessageEvent`]s, and delivery statuses as [`StatusEvent`]s with
//! [`status_rank`]/[`merge_status`] so out-of-order statuses keep the furthest one. Verify
//! POSTs with [`crate::signature::verify_meta`] first; route by `phone_number_id`.

use crate::MAX_WEBHOOK_BYTES;
use crate::error::{ParseError, check_size, shown};
use crate::event::{MessageChange, MessageChannel, MessageEvent};
use crate::form::Form;
use crate::signature::{SignatureError, constant_time_eq};
use commlog_domain::Direction;
use serde::Deserialize;
use time::OffsetDateTime;

/// A message's delivery status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Accepted by WhatsApp.
    Sent,
    /// Delivered to the device.
    Delivered,
    /// Read by the contact.
    Read,
    /// Terminal: nothing follows a failure.
    Failed,
}

impl DeliveryStatus {
    /// The status as WhatsApp spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }

    /// Reads WhatsApp's spelling; `None` for a status this version does not know.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Order of statuses: sent < delivered < read < failed (terminal).
pub fn status_rank(s: DeliveryStatus) -> u8 {
    match s {
        DeliveryStatus::Sent => 1,
        DeliveryStatus::Delivered => 2,
        DeliveryStatus::Read => 3,
        DeliveryStatus::Failed => 4,
    }
}

/// The status to keep when `incoming` arrives after `current`: the higher-ranked one, so a
/// late `delivered` never undoes `read`.
pub fn merge_status(current: Option<DeliveryStatus>, incoming: DeliveryStatus) -> DeliveryStatus {
    match current {
        Some(c) if status_rank(c) >= status_rank(incoming) => c,
        _ => incoming,
    }
}

/// A delivery status report for a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The business phone number's id (routes to the tenant).
    pub tenant_key: String,
    /// The `wamid…` of the message; dedupe on `(message_id, status)`.
    pub message_id: String,
    /// The contact's `wa_id` (the thread key).
    pub recipient: String,
    /// The reported status.
    pub status: DeliveryStatus,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The first error's code and title, for failures.
    pub error: Option<String>,
}

/// What one webhook delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatsAppEvents {
    /// Inbound messages.
    pub messages: Vec<MessageEvent>,
    /// Delivery statuses of our messages.
    pub statuses: Vec<StatusEvent>,
    /// Well-formed items this parser does not map (other fields, unknown statuses), with why.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Webhook {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Value {
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<Text>,
}

#[derive(Deserialize)]
struct Text {
    body: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: String,
    recipient_id: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    title: Option<String>,
}

/// Parses a webhook body (at most [`MAX_WEBHOOK_BYTES`]) into messages and statuses.
pub fn parse(body: &[u8]) -> Result<WhatsAppEvents, ParseError> {
    check_size(body, MAX_WEBHOOK_BYTES)?;
    let hook: Webhook = serde_json::from_slice(body).map_err(|e| ParseError::json(&e))?;
    if hook.object != "whatsapp_business_account" {
        return Err(ParseError::invalid(
            "object",
            format!("{} is not whatsapp_business_account", shown(&hook.object)),
        ));
    }
    let mut out = WhatsAppEvents::default();
    for change in hook.entry.iter().flat_map(|e| &e.changes) {
        let Some(value) = change.value.as_ref().filter(|_| change.field == "messages") else {
            out.skipped
                .push(format!("change field {}", shown(&change.field)));
            continue;
        };
        let tenant = value
            .metadata
            .as_ref()
            .map(|m| m.phone_number_id.clone())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ParseError::missing("metadata.phone_number_id"))?;
        for m in &value.messages {
            let name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == m.from)
                .and_then(|c| c.profile.as_ref()?.name.clone());
            out.messages.push(MessageEvent {
                channel: MessageChannel::WhatsApp,
                tenant_key: tenant.clone(),
                external_id: required("messages.id", &m.id)?,
                thread_key: required("messages.from", &m.from)?,
                change: MessageChange::Created,
                direction: Some(Direction::Inbound),
                sender: Some(m.from.clone()),
                sender_name: name,
                text: m.text.as_ref().map(|t| t.body.clone()),
                kind: m.kind.clone(),
                occurred_at: Some(unix("messages.timestamp", &m.timestamp)?),
            });
        }
        for s in &value.statuses {
            let Some(status) = DeliveryStatus::parse(&s.status) else {
                out.skipped.push(format!("status {}", shown(&s.status)));
                continue;
            };
            out.statuses.push(StatusEvent {
                tenant_key: tenant.clone(),
                message_id: required("statuses.id", &s.id)?,
                recipient: required("statuses.recipient_id", &s.recipient_id)?,
                status,
                occurred_at: unix("statuses.timestamp", &s.timestamp)?,
                error: s.errors.first().map(|e| {
                    format!(
                        "{} {}",
                        e.code.map(|c| c.to_string()).unwrap_or_default(),
                        e.title.clone().unwrap_or_default()
                    )
                    .trim()
                    .to_owned()
                }),
            });
        }
    }
    Ok(out)
}

fn required(field: &str, value: &str) -> Result<String, ParseError> {
    crate::error::check_text(field, value, 512)?;
    Ok(value.to_owned())
}

fn unix(field: &str, value: &str) -> Result<OffsetDateTime, ParseError> {
    let secs = crate::error::parse_u64(field, value)?;
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| ParseError::invalid(field, format!("{} is out of range", shown(value))))
}

/// The subscription check (`GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`):
/// the challenge to echo as the body when the verify token matches (constant-time).
pub fn verify_subscription(query: &str, verify_token: &[u8]) -> Result<String, SignatureError> {
    const PART: &str = "hub.verify_token";
    if verify_token.is_empty() {
        return Err(SignatureError::Misconfigured("the verify token is empty"));
    }
    let malformed = |reason| SignatureError::Malformed { part: PART, reason };
    let form = Form::parse(query.as_bytes(), 4096).map_err(|_| malformed("query too long"))?;
    let get = |k| {
        form.get(k)
            .map_err(|_| malformed("a parameter is given twice"))
    };
    if get("hub.mode")? != Some("subscribe") {
        return Err(malformed("hub.mode is not subscribe"));
    }
    let token = get(PART)?.ok_or(SignatureError::MissingHeader(PART))?;
    if !constant_time_eq(token.as_bytes(), verify_token) {
        return Err(SignatureError::Mismatch);
    }
    let challenge = get("hub.challenge")?.ok_or(SignatureError::MissingHeader("hub.challenge"))?;
    if challenge.len() > 256 || !challenge.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed("hub.challenge is not short printable text"));
    }
    Ok(challenge.to_owned())
}

#[cfg(test)]
mod tests;
