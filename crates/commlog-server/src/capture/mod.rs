//! Capture processing: what happens to a provider event after its webhook acknowledged it.
//! The webhook stored the raw event with its normalised form and queued a `capture` job in the
//! same transaction; the job runner ([`runner`]) hands it to [`process`], which turns it into
//! a log (calls, messages), updates one (later call events, message edits, delivery states) or
//! attaches a recording. Every step is idempotent: a job that ran half-way runs again safely.

mod calls;
pub mod email;
pub mod fetch;
pub mod imap;
pub mod integration;
mod messages;
pub mod recordings;
pub mod runner;

use crate::state::AppState;
use commlog_domain::records::Job;
use runner::JobError;
use uuid::Uuid;

/// The job kind that processes one captured event (payload `{"capture_event_id"}`).
pub const CAPTURE_JOB: &str = "capture";

/// The kinds of captured events.
pub mod kind {
    /// A call's progress (status callback, generic event, pushed CDR).
    pub const CALL: &str = "call";
    /// A call recording is ready (or failed).
    pub const RECORDING: &str = "recording";
    /// A message was posted, edited or deleted.
    pub const MESSAGE: &str = "message";
    /// A message's delivery state changed.
    pub const STATUS: &str = "status";
    /// A subscription needs attention (Microsoft Graph lifecycle notices).
    pub const LIFECYCLE: &str = "lifecycle";
}

/// Processes the captured event a `capture` job names.
pub async fn process(app: &AppState, job: &Job, scopes: &runner::Scopes) -> Result<(), JobError> {
    let id = job
        .payload
        .get("capture_event_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| JobError::permanent("the job names no captured event"))?;
    let event = app.store.capture_event(job.company_id, id).await?;
    if event.processed {
        return Ok(());
    }
    let channel = app
        .store
        .webhook_channel(event.channel_id)
        .await?
        .filter(|c| c.company_id == job.company_id)
        .ok_or_else(|| JobError::permanent("the event's channel no longer exists"))?;
    let scope = scopes.of(app, job.company_id).await?;
    let (log_id, outcome) = match event.kind.as_str() {
        kind::CALL => calls::process_call(app, &scope, &event, &channel).await?,
        kind::RECORDING => recordings::process_recording(app, &scope, &event, &channel).await?,
        kind::MESSAGE => messages::process_message(app, &scope, &event, &channel).await?,
        kind::STATUS => messages::process_status(app, &event).await?,
        kind::LIFECYCLE => (
            None,
            format!(
                "subscription notice: {}",
                event.subject.as_deref().unwrap_or("?")
            ),
        ),
        other => return Err(JobError::permanent(format!("unknown event kind {other}"))),
    };
    app.store
        .finish_capture(job.company_id, event.id, log_id, &outcome)
        .await?;
    Ok(())
}
