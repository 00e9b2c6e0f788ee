//! Microsoft Graph change notifications (Teams chat and channel messages): the
//! `validationToken` handshake, notification batches with their constant-time `clientState`
//! check, lifecycle events, and the mapping of message notifications to [`MessageEvent`]s.
//! Graph signs nothing: authenticity rests on `clientState`, checked per notification.

use crate::MAX_WEBHOOK_BYTES;
use crate::error::{ParseError, check_size};
use crate::event::{MessageChange, MessageChannel, MessageEvent};
use crate::form::Form;
use crate::signature::{SignatureError, constant_time_eq};
use serde::Deserialize;

/// The most notifications one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// The token to echo for a validation request (`POST notificationUrl?validationToken=…`):
/// answer 200, `text/plain`, with it as the body, on this route only. `None` when the query
/// has no token (a normal notification).
pub fn validation_token(query: &str) -> Result<Option<String>, ParseError> {
    let form = Form::parse(query.as_bytes(), 8192)?;
    let Some(token) = form.get("validationToken")? else {
        return Ok(None);
    };
    if token.len() > 4096 || token.chars().any(char::is_control) {
        return Err(ParseError::invalid(
            "validationToken",
            "must be at most 4096 bytes of text",
        ));
    }
    Ok(Some(token.to_owned()))
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GraphChangeType {
    /// A new resource (message).
    Created,
    /// A changed resource.
    Updated,
    /// A deleted resource.
    Deleted,
    #[serde(other)]
    /// A value this parser does not know.
    Unknown,
}

/// A subscription lifecycle notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    /// Renew authorisation (and the subscription) soon.
    ReauthorizationRequired,
    /// The subscription is gone: recreate it and resync.
    SubscriptionRemoved,
    /// Notifications were dropped: resync with a delta query.
    Missed,
    #[serde(other)]
    /// A value this parser does not know.
    Unknown,
}

/// The resource a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResourceData {
    #[serde(rename = "@odata.type", default)]
    /// `@odata.type`, e.g. `#Microsoft.Graph.chatMessage`.
    pub odata_type: Option<String>,
    #[serde(rename = "@odata.id", default)]
    /// `@odata.id`, the resource path.
    pub odata_id: Option<String>,
    #[serde(default)]
    /// The resource's id.
    pub id: Option<String>,
}

/// One change or lifecycle notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphNotification {
    #[serde(default)]
    /// The notification's id.
    pub id: Option<String>,
    /// Maps the notification to our tenant and expected `clientState`.
    pub subscription_id: String,
    #[serde(default)]
    /// When the subscription expires.
    pub subscription_expiration_date_time: Option<String>,
    #[serde(default)]
    /// What changed; absent on lifecycle notices.
    pub change_type: Option<GraphChangeType>,
    #[serde(default)]
    /// The resource path.
    pub resource: Option<String>,
    #[serde(default)]
    /// The resource's identifiers.
    pub resource_data: Option<ResourceData>,
    #[serde(default)]
    /// The subscription's secret, to check with [`GraphNotification::verify_client_state`].
    pub client_state: Option<String>,
    #[serde(default)]
    /// The Microsoft Entra tenant.
    pub tenant_id: Option<String>,
    #[serde(default)]
    /// Set on lifecycle notices.
    pub lifecycle_event: Option<LifecycleEvent>,
}

/// A notification POST body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphNotificationBatch {
    /// The notifications.
    pub value: Vec<GraphNotification>,
    /// JWTs to validate when the subscription includes resource data.
    #[serde(default)]
    pub validation_tokens: Vec<String>,
}

/// Parses a notification batch (at most [`MAX_WEBHOOK_BYTES`] and [`MAX_BATCH`] items).
pub fn parse(body: &[u8]) -> Result<GraphNotificationBatch, ParseError> {
    check_size(body, MAX_WEBHOOK_BYTES)?;
    let batch: GraphNotificationBatch =
        serde_json::from_slice(body).map_err(|e| ParseError::json(&e))?;
    if batch.value.len() > MAX_BATCH {
        return Err(ParseError::invalid(
            "value",
            format!("more than {MAX_BATCH} notifications"),
        ));
    }
    Ok(batch)
}

/// Whether a received `clientState` equals the subscription's secret (constant time).
pub fn client_state_matches(expected: &str, received: Option<&str>) -> bool {
    !expected.is_empty()
        && received.is_some_and(|r| constant_time_eq(r.as_bytes(), expected.as_bytes()))
}

impl GraphNotification {
    /// Checks this notification's `clientState` against its subscription's secret.
    pub fn verify_client_state(&self, expected: &str) -> Result<(), SignatureError> {
        if expected.is_empty() {
            return Err(SignatureError::Misconfigured("the client state is empty"));
        }
        match self.client_state.as_deref() {
            None => Err(SignatureError::MissingHeader("clientState")),
            Some(_) if client_state_matches(expected, self.client_state.as_deref()) => Ok(()),
            Some(_) => Err(SignatureError::Mismatch),
        }
    }

    /// The message event for a Teams chat or channel message notification; `None` for
    /// lifecycle notices and other resources. The text is not in the notification (fetch it).
    pub fn to_message_event(&self) -> Option<MessageEvent> {
        if self.lifecycle_event.is_some() {
            return None;
        }
        let (thread_key, message_id) = teams_thread(self.resource.as_deref()?)?;
        let change = match self.change_type? {
            GraphChangeType::Created => MessageChange::Created,
            GraphChangeType::Updated => MessageChange::Updated,
            GraphChangeType::Deleted => MessageChange::Deleted,
            GraphChangeType::Unknown => return None,
        };
        let external_id = self
            .resource_data
            .as_ref()
            .and_then(|d| d.id.clone())
            .unwrap_or(message_id);
        Some(MessageEvent {
            channel: MessageChannel::Teams,
            tenant_key: self.subscription_id.clone(),
            external_id,
            thread_key,
            change,
            direction: None,
            sender: None,
            sender_name: None,
            text: None,
            kind: "chatMessage".to_owned(),
            occurred_at: None,
        })
    }
}

/// Splits a Teams message resource into `(thread key, message id)`:
/// `chats('{chat}')/messages('{m}')` → the chat id; `teams('{t}')/channels('{c}')/messages('{m}')`
/// (optionally `/replies('{r}')`) → `{c}/{root message}`.
pub fn teams_thread(resource: &str) -> Option<(String, String)> {
    let mut segments = Vec::new();
    for seg in resource.trim_start_matches('/').split('/') {
        let (name, rest) = seg.split_once("('")?;
        let id = rest.strip_suffix("')")?;
        if id.is_empty() || id.contains(['\'', '(', ')']) {
            return None;
        }
        segments.push((name.to_ascii_lowercase(), id.to_owned()));
    }
    let names: Vec<&str> = segments.iter().map(|(n, _)| n.as_str()).collect();
    let ids: Vec<&String> = segments.iter().map(|(_, i)| i).collect();
    match (names.as_slice(), ids.as_slice()) {
        (["chats", "messages"], [chat, msg]) => Some(((*chat).clone(), (*msg).clone())),
        (["teams", "channels", "messages"], [_, channel, msg]) => {
            Some((format!("{channel}/{msg}"), (*msg).clone()))
        }
        (["teams", "channels", "messages", "replies"], [_, channel, root, reply]) => {
            Some((format!("{channel}/{root}"), (*reply).clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
