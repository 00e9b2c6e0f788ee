//! Call events → one log per call. Every event of the call captured so far is folded into one
//! snapshot (by sequence number and lifecycle order, so arrival order does not matter), and
//! the call's log is created from it or brought up to date with it.

use super::recordings;
use super::runner::JobError;
use crate::import::outcome_text;
use crate::state::AppState;
use commlog_domain::{
    CallOutcome, CommunicationLog, CommunicationLogPatch, CommunicationType, Direction,
    NewCommunicationLog, NewParticipant, ParticipantRole,
};
use commlog_ingest::event::{CallEvent, CallState};
use commlog_ingest::{CallSnapshot, merge};
use commlog_store::{CapturedEvent, Scope, WebhookChannel};
use uuid::Uuid;

pub(super) async fn process_call(
    app: &AppState,
    scope: &Scope,
    event: &CapturedEvent,
    channel: &WebhookChannel,
) -> Result<(Option<Uuid>, String), JobError> {
    let subject = event
        .subject
        .as_deref()
        .ok_or_else(|| JobError::permanent("a call event without a call id"))?;
    let events = app
        .store
        .subject_events(
            event.company_id,
            &event.provider,
            super::kind::CALL,
            subject,
        )
        .await?;
    let snapshot = events
        .iter()
        .filter_map(|e| serde_json::from_str::<CallEvent>(e).ok())
        .fold(None, |snap, e| Some(merge(snap, &e)))
        .ok_or_else(|| JobError::permanent("no readable event for this call"))?;
    let country = app.store.get_company(scope).await?.default_country_code;
    let draft = call_log(&snapshot, &channel.channel_code, country.as_deref());
    let created = app.store.create_log(scope, draft, None).await?;
    let log = if created.duplicate {
        match progress_patch(&created.log, &snapshot) {
            Some(patch) => app.store.update_log(scope, created.log.id, patch).await?.0,
            None => created.log,
        }
    } else {
        created.log
    };
    let mut outcome = format!("call {}", state_text(&snapshot));
    if let Some(rec) = snapshot.recording.as_ref().filter(|_| snapshot.is_final()) {
        let id = rec
            .id
            .clone()
            .unwrap_or_else(|| format!("{}-recording", snapshot.external_id));
        outcome = recordings::keep(app, scope, channel, &log, &id, &rec.url).await?;
    }
    Ok((Some(log.id), outcome))
}

fn state_text(s: &CallSnapshot) -> &'static str {
    match (s.state, s.outcome) {
        (CallState::Ended, Some(o)) => o.as_str(),
        (CallState::Ended, None) => "ended",
        (CallState::InProgress, _) => "in progress",
        _ => "ringing",
    }
}

fn outcome(s: &CallSnapshot) -> Option<CallOutcome> {
    s.outcome
        .filter(|_| s.is_final())
        .and_then(|o| o.as_str().parse().ok())
}

fn call_type(s: &CallSnapshot) -> CommunicationType {
    if outcome(s) == Some(CallOutcome::Voicemail) {
        CommunicationType::Voicemail
    } else {
        CommunicationType::Call
    }
}

fn start_time(s: &CallSnapshot) -> time::OffsetDateTime {
    s.started_at
        .or(s.answered_at)
        .or_else(|| s.events().iter().filter_map(|e| e.occurred_at).min())
        .unwrap_or_else(commlog_domain::time_fmt::now)
}

fn end_time(s: &CallSnapshot) -> Option<time::OffsetDateTime> {
    let start = start_time(s);
    s.ended_at
        .or_else(|| {
            let d = i64::try_from(s.duration_seconds?).ok()?;
            Some(start + time::Duration::seconds(d))
        })
        .filter(|end| s.is_final() && *end >= start)
}

fn content(s: &CallSnapshot) -> String {
    let what = match (s.is_final(), s.state, s.outcome) {
        (true, _, Some(o)) => outcome_text(o),
        (true, _, None) => "Ended",
        (false, CallState::InProgress, _) => "Ongoing",
        _ => "Ringing",
    };
    let talk = s
        .talk_seconds
        .or(s.duration_seconds)
        .filter(|t| *t > 0 && s.is_final())
        .map(|t| format!(", {t} s"))
        .unwrap_or_default();
    let from = match &s.from_name {
        Some(name) => format!("{name} ({})", s.from),
        None => s.from.clone(),
    };
    format!("{what} call from {from} to {}{talk}.", s.to)
}

/// The log a call's first processed event creates.
fn call_log(s: &CallSnapshot, channel: &str, country: Option<&str>) -> NewCommunicationLog {
    let direction = s.direction.unwrap_or(Direction::Inbound);
    let mut log =
        NewCommunicationLog::minimal(call_type(s), channel, direction, start_time(s), content(s));
    log.end_time = end_time(s);
    log.duration_seconds = s
        .duration_seconds
        .filter(|_| s.is_final())
        .and_then(|d| i64::try_from(d).ok());
    log.call_outcome = outcome(s);
    log.is_internal = direction == Direction::Internal;
    log.source = Some(s.source.as_str().to_owned());
    log.external_id = Some(s.external_id.chars().take(500).collect());
    log.participants = participants(s, country);
    log
}

/// Caller and callee by number (E.164 in the company's region, so they match contacts), and
/// the agent by e-mail when the PBX names one (so it matches the user).
fn participants(s: &CallSnapshot, country: Option<&str>) -> Vec<NewParticipant> {
    let mut out = NewParticipant::call_parties(&s.from, s.from_name.clone(), &s.to, country);
    if let Some(agent) = s.agent_email.as_ref().filter(|e| e.contains('@')) {
        let role = if s.direction == Some(Direction::Outbound) {
            ParticipantRole::Caller
        } else {
            ParticipantRole::Callee
        };
        out.push(NewParticipant {
            role,
            email: Some(agent.to_lowercase()),
            phone: None,
            name: None,
            contact_id: None,
            user_id: None,
        });
    }
    out
}

/// How the call's log must change to show the snapshot, if at all. Once the log shows the
/// call's outcome it is the user's: later (or late) events change nothing.
fn progress_patch(log: &CommunicationLog, s: &CallSnapshot) -> Option<CommunicationLogPatch> {
    if log.call_outcome.is_some() {
        return None;
    }
    let end = end_time(s);
    let duration = s
        .duration_seconds
        .filter(|_| s.is_final())
        .and_then(|d| i64::try_from(d).ok());
    let text = content(s);
    let unchanged = log.content == text && log.end_time == end && log.call_outcome == outcome(s);
    if unchanged {
        return None;
    }
    Some(CommunicationLogPatch {
        communication_type: Some(call_type(s)),
        start_time: Some(start_time(s)),
        end_time: Some(end),
        duration_seconds: Some(duration),
        call_outcome: Some(outcome(s)),
        subject: Some(commlog_domain::log::default_subject(&text)),
        content: Some(text),
        ..Default::default()
    })
}
