//! Messages → logs of their channel, one per message, grouped into threads (a Slack thread, a
//! WhatsApp conversation with a contact, a Teams chat); edits update the log, deletions
//! delete it, and delivery states are kept per message, never going backwards.

use super::runner::JobError;
use crate::state::AppState;
use commlog_domain::phone::normalize_e164;
use commlog_domain::{
    CommunicationLogPatch, CommunicationType, Direction, NewCommunicationLog, NewParticipant,
    ParticipantRole,
};
use commlog_ingest::event::{MessageChange, MessageChannel, MessageEvent};
use commlog_ingest::whatsapp::{DeliveryStatus, merge_status};
use commlog_store::{CapturedEvent, Scope, WebhookChannel};
use uuid::Uuid;

pub(super) async fn process_message(
    app: &AppState,
    scope: &Scope,
    event: &CapturedEvent,
    channel: &WebhookChannel,
) -> Result<(Option<Uuid>, String), JobError> {
    let m: MessageEvent = serde_json::from_str(&event.event).map_err(JobError::permanent)?;
    let source = m.channel.as_str();
    let existing = app
        .store
        .find_log_by_external(scope, source, &m.external_id)
        .await?;
    match (m.change, existing) {
        (MessageChange::Created, Some(log)) => {
            Ok((Some(log.id), "message already captured".into()))
        }
        (MessageChange::Created, None) => {
            let thread = app
                .store
                .conversation_thread(event.company_id, source, &m.thread_key)
                .await?;
            let country = app.store.get_company(scope).await?.default_country_code;
            let draft = message_log(&m, &channel.channel_code, thread, country.as_deref());
            let created = app.store.create_log(scope, draft, None).await?;
            Ok((Some(created.log.id), "message captured".into()))
        }
        (MessageChange::Updated, Some(log)) => match m.text {
            Some(text) if text != log.content => {
                let patch = CommunicationLogPatch {
                    content: Some(text),
                    ..Default::default()
                };
                app.store.update_log(scope, log.id, patch).await?;
                Ok((Some(log.id), "message edited".into()))
            }
            _ => Ok((Some(log.id), "message edit without new text".into())),
        },
        (MessageChange::Deleted, Some(log)) => {
            app.store.delete_log(scope, log.id).await?;
            Ok((Some(log.id), "message deleted at its source".into()))
        }
        // An edit or deletion that overtook its message: retried with backoff while the
        // message may still arrive, then dead-lettered for a person to look at.
        (_, None) => Err(JobError::retry("the message is not captured yet")),
    }
}

fn message_log(
    m: &MessageEvent,
    channel: &str,
    thread: Uuid,
    country: Option<&str>,
) -> NewCommunicationLog {
    let kind = match m.channel {
        MessageChannel::WhatsApp => CommunicationType::Message,
        MessageChannel::Slack | MessageChannel::Teams => CommunicationType::Chat,
    };
    let text = m
        .text
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| match m.channel {
            MessageChannel::Teams => "Teams message (the notification carries no content)".into(),
            _ => format!("({} message without text)", m.kind),
        });
    let start = m.occurred_at.unwrap_or_else(commlog_domain::time_fmt::now);
    let mut log = NewCommunicationLog::minimal(
        kind,
        channel,
        m.direction.unwrap_or(Direction::Inbound),
        start,
        text,
    );
    log.source = Some(m.channel.as_str().to_owned());
    log.external_id = Some(m.external_id.chars().take(500).collect());
    log.thread_id = Some(thread);
    let who = m.sender_name.clone().or_else(|| m.sender.clone());
    if let Some(who) = &who {
        let label = match m.channel {
            MessageChannel::Slack => "Slack",
            MessageChannel::WhatsApp => "WhatsApp",
            MessageChannel::Teams => "Teams",
        };
        let subject: String = format!("{label} message from {who}")
            .chars()
            .take(200)
            .collect();
        log.subject = Some(subject);
    }
    // A WhatsApp sender is a phone number (its wa_id, without the +): as a participant it
    // matches the contact. Slack and Teams users have no address a contact could match.
    if let (MessageChannel::WhatsApp, Some(sender)) = (m.channel, &m.sender)
        && let Ok(phone) = normalize_e164(&format!("+{}", sender.trim_start_matches('+')), country)
    {
        log.participants.push(NewParticipant {
            role: ParticipantRole::From,
            email: None,
            phone: Some(phone),
            name: m
                .sender_name
                .as_ref()
                .map(|n| n.chars().take(200).collect()),
            contact_id: None,
            user_id: None,
        });
    }
    log
}

/// A delivery state: kept per message, the furthest one winning whatever the arrival order.
pub(super) async fn process_status(
    app: &AppState,
    event: &CapturedEvent,
) -> Result<(Option<Uuid>, String), JobError> {
    let v: serde_json::Value = serde_json::from_str(&event.event).map_err(JobError::permanent)?;
    let message = v["message_id"]
        .as_str()
        .ok_or_else(|| JobError::permanent("no message id"))?;
    let incoming = v["status"]
        .as_str()
        .and_then(DeliveryStatus::parse)
        .ok_or_else(|| JobError::permanent("unknown delivery status"))?;
    let source = v["source"].as_str().unwrap_or("whatsapp");
    let current = app
        .store
        .message_delivery(event.company_id, source, message)
        .await?;
    let current_status = current.as_ref().and_then(|(s, _)| DeliveryStatus::parse(s));
    let kept = merge_status(current_status, incoming);
    if Some(kept) != current_status {
        let error = if kept == incoming {
            v["error"].as_str()
        } else {
            current.as_ref().and_then(|(_, e)| e.as_deref())
        };
        app.store
            .set_message_delivery(event.company_id, source, message, kept.as_str(), error)
            .await?;
    }
    Ok((None, format!("delivery {}", kept.as_str())))
}
