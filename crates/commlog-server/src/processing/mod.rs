//! Automatic processing of logs: the `process_log` job that transcribes a log's recording
//! and analyses its text — language, PII, sentiment, key topics, categories, promised
//! follow-ups, escalation — then writes everything back in one transaction, with a record of
//! each step (engine and version). Everything runs on this machine unless the company chose
//! an external transcription engine. Also the sweep that marks follow-ups overdue.

pub mod engines;
pub mod masking;
mod pipeline;
pub mod rules;
pub mod settings;
pub mod transcribe;

use crate::capture::runner::{JobError, Scopes};
use crate::state::AppState;
use commlog_domain::records::Job;
use serde_json::Value;
use uuid::Uuid;

pub use engines::Engines;

/// Runs a `process_log` job: analyses the log and stores the outcome. Idempotent: running it
/// twice stores the same results twice over the same fields.
pub async fn process(app: &AppState, job: &Job, scopes: &Scopes) -> Result<(), JobError> {
    let log_id = job
        .payload
        .get("log_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| JobError::permanent("the job names no log"))?;
    let steps: Vec<String> = job
        .payload
        .get("steps")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let scope = scopes.of(app, job.company_id).await?;
    let log = match app.store.get_log(&scope, log_id).await {
        Ok(log) => log,
        // Deleted since: nothing to analyse.
        Err(commlog_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !consents(app, &scope, &log, Consent::Processing).await? {
        // Nothing is analysed; the run record says why.
        let skipped = commlog_domain::processing::LogAnalysis {
            runs: vec![commlog_domain::processing::NewProcessingRun::skipped(
                "consent",
                "policy",
                "the contact has not consented to automatic processing",
            )],
            ..Default::default()
        };
        app.store
            .apply_analysis(job.company_id, log_id, Some(job.id), &skipped)
            .await?;
        return Ok(());
    }
    let analysis = pipeline::analyse(app, &scope, &log, &steps).await?;
    app.store
        .apply_analysis(job.company_id, log_id, Some(job.id), &analysis)
        .await?;
    Ok(())
}

/// What a contact may have agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Recording,
    Processing,
}

/// Whether the contacts of `log` (the one it names and those who took part) allow `what`, by
/// what they agreed to and the company's policy (see [`commlog_domain::processing::consent_allows`]).
pub async fn consents(
    app: &AppState,
    scope: &commlog_store::Scope,
    log: &commlog_domain::CommunicationLog,
    what: Consent,
) -> Result<bool, JobError> {
    let mut ids: Vec<Uuid> = log
        .contact_id
        .into_iter()
        .chain(log.participants.iter().filter_map(|p| p.contact_id))
        .collect();
    ids.sort();
    ids.dedup();
    let mut given = Vec::with_capacity(ids.len());
    for id in ids {
        match app.store.get_contact(scope, id).await {
            Ok(c) => given.push(match what {
                Consent::Recording => c.recording_consent,
                Consent::Processing => c.processing_consent,
            }),
            Err(commlog_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (settings, _) = app.store.processing_settings(scope.company_id()).await?;
    Ok(commlog_domain::processing::consent_allows(
        &given,
        settings.consent_required,
    ))
}

/// How often open follow-ups are checked for being overdue.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Marks every company's follow-ups that passed their date overdue (each with an event for
/// whoever owns it); returns how many.
pub async fn sweep_follow_ups(app: &AppState) -> anyhow::Result<usize> {
    let now = commlog_domain::time_fmt::now();
    let mut marked = 0;
    for company in app.store.company_ids().await? {
        marked += app.store.mark_overdue_follow_ups(company, now).await?.len();
    }
    Ok(marked)
}
