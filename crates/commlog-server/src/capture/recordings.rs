//! Call recordings: fetched from the provider — only from an origin the channel allows (the
//! provider's own, or ones an administrator listed), with the provider's credentials, within a
//! size limit — and kept as an attachment of the call's log, once per recording. Nothing is
//! fetched unless the channel has the consent to record calls.

use super::fetch::{self, FetchError};
use super::integration::{self, Provider, Settings};
use super::runner::JobError;
use crate::state::AppState;
use commlog_domain::CommunicationLog;
use commlog_domain::filters::AttachmentFilter;
use commlog_ingest::event::{RecordingEvent, RecordingStatus};
use commlog_store::{CapturedEvent, Scope, WebhookChannel};
use std::time::Duration;
use uuid::Uuid;

/// How long one recording download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// A recording status callback: keeps the finished recording on its call's log.
pub(super) async fn process_recording(
    app: &AppState,
    scope: &Scope,
    event: &CapturedEvent,
    channel: &WebhookChannel,
) -> Result<(Option<Uuid>, String), JobError> {
    let rec: RecordingEvent = serde_json::from_str(&event.event).map_err(JobError::permanent)?;
    if rec.status != RecordingStatus::Completed {
        let error = rec
            .error_code
            .as_deref()
            .map(|c| format!(" (error {c})"))
            .unwrap_or_default();
        return Ok((
            None,
            format!("recording {:?}{error}", rec.status).to_lowercase(),
        ));
    }
    let Some(url) = rec.url.as_deref() else {
        return Ok((None, "recording completed without a URL".into()));
    };
    let log = app
        .store
        .find_log_by_external(scope, rec.source.as_str(), &rec.call_external_id)
        .await?
        // The call's own events may still be on their way: try again later.
        .ok_or_else(|| JobError::retry("the call of this recording is not captured yet"))?;
    let outcome = keep(app, scope, channel, &log, &rec.recording_id, url).await?;
    Ok((Some(log.id), outcome))
}

/// Fetches a recording and attaches it to `log`, unless it is attached already or the channel
/// may not keep recordings; returns what happened.
pub(super) async fn keep(
    app: &AppState,
    scope: &Scope,
    channel: &WebhookChannel,
    log: &CommunicationLog,
    recording_id: &str,
    url: &str,
) -> Result<String, JobError> {
    if !channel.record_calls {
        return Ok("recording not kept: the channel has no consent to record calls".into());
    }
    if !crate::processing::consents(app, scope, log, crate::processing::Consent::Recording).await? {
        return Ok("recording not kept: the contact has not consented to being recorded".into());
    }
    let provider = channel
        .provider
        .as_deref()
        .and_then(Provider::parse)
        .ok_or_else(|| JobError::permanent("the channel has no provider"))?;
    let settings = Settings::from_value(&channel.settings);
    let stem: String = format!("recording-{recording_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let existing = app
        .store
        .list_attachments(
            scope,
            &AttachmentFilter {
                communication_log_id: Some(log.id),
                ..Default::default()
            },
        )
        .await?;
    if existing
        .iter()
        .any(|a| a.file_name.starts_with(&format!("{stem}.")))
    {
        return Ok("recording already kept".into());
    }
    let url =
        fetch::check_url(url, &settings.allowed_origins(provider)).map_err(JobError::permanent)?;
    let credentials = match (provider, &channel.sealed_secret, &settings.account) {
        (Provider::Twilio, Some(sealed), Some(account)) => {
            let c =
                integration::open(&app.cipher, channel.id, sealed).map_err(JobError::permanent)?;
            Some((account.clone(), c.secret))
        }
        _ => None,
    };
    let auth = credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    let file = fetch::get(&url, auth, app.limits.max_recording_bytes, FETCH_TIMEOUT)
        .await
        .map_err(|e| match e {
            FetchError::Transient(_) => JobError::retry(e),
            other => JobError::permanent(other),
        })?;
    let file_type = file
        .content_type
        .clone()
        .unwrap_or_else(|| "audio/wav".into());
    let extension = match file_type.split(';').next().unwrap_or("").trim() {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/ogg" => "ogg",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        _ => "bin",
    };
    let size = file.data.len();
    let kept = crate::attach::NewFile {
        log_id: log.id,
        name: format!("{stem}.{extension}"),
        file_type: &file_type,
        data: file.data,
        is_internal: false,
    };
    match crate::attach::attach(&app.store, app.blobs.as_ref(), scope, kept).await {
        Ok(_) => {}
        Err(crate::attach::AttachError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(JobError::retry(e)),
    }
    Ok(format!("recording kept ({size} bytes)"))
}
