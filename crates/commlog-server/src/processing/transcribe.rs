//! The transcription step: finds a log's recording, runs the company's engine on it (local
//! Whisper, an OpenAI-compatible server, or none) and turns the segments into the stored
//! transcript, labelled by speaker when the recording has one channel per party.

use crate::capture::fetch;
use crate::capture::runner::JobError;
use crate::state::AppState;
use bytes::Bytes;
use commlog_domain::filters::AttachmentFilter;
use commlog_domain::log::CommunicationLog;
use commlog_domain::processing::NewProcessingRun;
use commlog_domain::processing::TranscriptionSettings;
use commlog_domain::{Direction, records::Attachment};
use commlog_speech::{Segment, Transcript};
use commlog_store::Scope;
use serde_json::json;
use std::time::Duration;

/// A transcript and where it came from.
pub struct Transcribed {
    pub transcript: Transcript,
    pub engine: String,
    pub version: String,
    pub attachment: Attachment,
}

/// How long an external engine may take for one recording.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest answer accepted from an external engine.
const MAX_REMOTE_ANSWER: usize = 16 * 1024 * 1024;

/// The log's first recording or voice message, if any.
async fn recording(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
) -> Result<Option<Attachment>, JobError> {
    let attachments = app
        .store
        .list_attachments(
            scope,
            &AttachmentFilter {
                communication_log_id: Some(log.id),
                ..Default::default()
            },
        )
        .await?;
    Ok(attachments
        .into_iter()
        .filter(|a| a.file_type.starts_with("audio/") && !a.is_deleted)
        .min_by_key(|a| a.created_at))
}

/// Runs transcription when the log has a recording: `Ok(Err(run))` records why it did not
/// (skipped, or failed for good: an unreadable recording must not stop the text analysis).
/// Only what may pass (storage or network trouble) is a job error, retried.
pub async fn run(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
    settings: &TranscriptionSettings,
    sealed_key: Option<&str>,
) -> Result<Result<Transcribed, NewProcessingRun>, JobError> {
    let Some(attachment) = recording(app, scope, log).await? else {
        return Ok(Err(NewProcessingRun::skipped(
            "transcription",
            "none",
            "the log has no recording",
        )));
    };
    let data = app
        .blobs
        .get(&attachment.file_path)
        .await
        .map_err(JobError::retry)?;
    match settings.engine.as_str() {
        "local" => {
            // Loading the model reads tens of megabytes, and inference is CPU-bound: both off
            // the async threads.
            let engines = app.processing.clone();
            let (model, mime) = (settings.model.clone(), attachment.file_type.clone());
            let file = attachment.file_name.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                use commlog_speech::Transcriber;
                let failed = |e: commlog_speech::SpeechError| {
                    Box::new(NewProcessingRun::failed(
                        "transcription",
                        "whisper",
                        &format!("transcribing {file}: {e}"),
                    ))
                };
                // A broken recording fails whatever the engine.
                let audio = commlog_speech::decode(&data, Some(&mime)).map_err(failed)?;
                let engine = engines.whisper(&model).map_err(|reason| {
                    Box::new(NewProcessingRun::skipped(
                        "transcription",
                        "whisper",
                        &reason,
                    ))
                })?;
                let transcript =
                    commlog_speech::transcribe(engine.as_ref(), &audio).map_err(failed)?;
                Ok((
                    transcript,
                    engine.engine().to_owned(),
                    engine.version().to_owned(),
                ))
            })
            .await
            .map_err(JobError::retry)?;
            Ok(outcome
                .map(|(transcript, engine, version)| Transcribed {
                    transcript,
                    engine,
                    version,
                    attachment,
                })
                .map_err(|run: Box<NewProcessingRun>| *run))
        }
        "http" => {
            if !settings.send_recordings {
                return Ok(Err(NewProcessingRun::skipped(
                    "transcription",
                    "http",
                    "sending recordings to the external engine is not allowed (transcription.send_recordings)",
                )));
            }
            let key = match sealed_key.map(|s| {
                app.cipher
                    .open(s, &super::settings::key_context(log.company_id))
            }) {
                Some(Ok(k)) => Some(k.expose().to_owned()),
                Some(Err(e)) => {
                    let why = format!("the stored API key cannot be opened: {e}");
                    return Ok(Err(NewProcessingRun::failed("transcription", "http", &why)));
                }
                None => None,
            };
            let transcript = match remote(settings, key.as_deref(), &attachment, data).await {
                Ok(t) => t,
                // The engine refused the file or answered nonsense: recorded, the rest goes on.
                Err(JobError::Permanent(e)) => {
                    return Ok(Err(NewProcessingRun::failed("transcription", "http", &e)));
                }
                Err(retry) => return Err(retry),
            };
            Ok(Ok(Transcribed {
                transcript,
                engine: "openai-compatible".into(),
                version: settings
                    .remote_model
                    .clone()
                    .unwrap_or_else(|| "whisper-1".into()),
                attachment,
            }))
        }
        _ => Ok(Err(NewProcessingRun::skipped(
            "transcription",
            "none",
            "transcription is not configured",
        ))),
    }
}

/// `POST {url}/v1/audio/transcriptions` with the recording, asking for verbose JSON.
async fn remote(
    settings: &TranscriptionSettings,
    key: Option<&str>,
    attachment: &Attachment,
    data: Bytes,
) -> Result<Transcript, JobError> {
    let base = settings
        .url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let url =
        url::Url::parse(&format!("{base}/v1/audio/transcriptions")).map_err(JobError::permanent)?;
    let boundary = format!("commlog-{}", uuid::Uuid::new_v4().simple());
    let model = settings.remote_model.as_deref().unwrap_or("whisper-1");
    let mut body = Vec::with_capacity(data.len() + 1024);
    for (name, value) in [
        ("model", model),
        ("response_format", "verbose_json"),
        ("timestamp_granularities[]", "segment"),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let file_name: String = attachment
        .file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {}\r\n\r\n", attachment.file_type)
            .as_bytes(),
    );
    body.extend_from_slice(&data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let answer = fetch::post(
        &url,
        &format!("multipart/form-data; boundary={boundary}"),
        key,
        Bytes::from(body),
        MAX_REMOTE_ANSWER,
        REMOTE_TIMEOUT,
    )
    .await
    .map_err(|e| {
        if e.is_permanent() {
            JobError::permanent(e)
        } else {
            JobError::retry(e)
        }
    })?;
    parse_verbose_json(&answer.data).map_err(JobError::permanent)
}

/// Reads an OpenAI-style verbose JSON transcription (segments with start and end seconds).
pub fn parse_verbose_json(body: &[u8]) -> Result<Transcript, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        text: String,
        language: Option<String>,
        #[serde(default)]
        segments: Vec<RemoteSegment>,
    }
    #[derive(serde::Deserialize)]
    struct RemoteSegment {
        start: f64,
        end: f64,
        text: String,
    }
    let a: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the engine's answer is not verbose JSON: {e}"))?;
    let mut segments: Vec<Segment> = a
        .segments
        .into_iter()
        .filter(|s| s.start.is_finite() && s.end.is_finite())
        .map(|s| Segment {
            start: s.start,
            end: s.end,
            text: s.text.trim().to_owned(),
            channel: None,
        })
        .collect();
    if segments.is_empty() && !a.text.trim().is_empty() {
        segments.push(Segment {
            start: 0.0,
            end: 0.0,
            text: a.text.trim().to_owned(),
            channel: None,
        });
    }
    // OpenAI names the language ("english"); keep ISO codes only.
    let language = a.language.filter(|l| l.len() == 2);
    Ok(Transcript { segments, language })
}

/// Who speaks on each channel of a two-channel call recording: the first channel carries
/// the party that placed the call.
pub fn speaker(direction: Direction, channel: Option<usize>) -> Option<&'static str> {
    let caller_is_agent = direction == Direction::Outbound;
    match channel? {
        0 if caller_is_agent => Some("Agent"),
        0 => Some("Customer"),
        _ if caller_is_agent => Some("Customer"),
        _ => Some("Agent"),
    }
}

/// The stored transcript: one line per segment, `[mm:ss] Speaker: text`.
pub fn render(t: &Transcript, direction: Direction) -> String {
    let mut out = String::new();
    for s in t.segments.iter().filter(|s| !s.text.trim().is_empty()) {
        let secs = s.start.max(0.0) as u64;
        out.push_str(&format!("[{:02}:{:02}] ", secs / 60, secs % 60));
        if let Some(who) = speaker(direction, s.channel) {
            out.push_str(who);
            out.push_str(": ");
        }
        out.push_str(s.text.trim());
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// The segments as kept in the log's `analysis.transcript`.
pub fn segments_json(t: &Transcript, direction: Direction) -> serde_json::Value {
    json!(t
        .segments
        .iter()
        .map(|s| json!({"start": s.start, "end": s.end, "text": s.text, "channel": s.channel, "speaker": speaker(direction, s.channel)}))
        .collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_json_becomes_segments() {
        let body = br#"{"text":"hello there","language":"en","segments":[{"id":0,"start":0.0,"end":1.5,"text":" hello"},{"id":1,"start":1.5,"end":2.0,"text":" there"}]}"#;
        let t = parse_verbose_json(body).expect("parse");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.language.as_deref(), Some("en"));
        assert_eq!(
            render(&t, Direction::Inbound),
            "[00:00] hello\n[00:01] there"
        );
        assert!(parse_verbose_json(b"<html>").is_err());
    }

    #[test]
    fn stereo_channels_name_the_parties() {
        assert_eq!(speaker(Direction::Outbound, Some(0)), Some("Agent"));
        assert_eq!(speaker(Direction::Inbound, Some(0)), Some("Customer"));
        assert_eq!(speaker(Direction::Inbound, Some(1)), Some("Agent"));
        assert_eq!(speaker(Direction::Inbound, None), None);
    }
}
