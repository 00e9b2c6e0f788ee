//! The steps of a `process_log` job, in order, each leaving a run record. The text
//! steps read the log's own words: the subject and content (quoted replies and signatures
//! left out) and the transcript, per speaker when the recording told the parties apart.

use super::{rules, transcribe};
use crate::capture::runner::JobError;
use crate::state::AppState;
use commlog_analysis::sentiment::{self, SentimentResult};
use commlog_analysis::text::Utterance;
use commlog_analysis::{language, pii, topics};
use commlog_domain::filters::{CategoryFilter, ChannelFilter};
use commlog_domain::log::CommunicationLog;
use commlog_domain::processing::NewProcessingRun;
use commlog_domain::processing::{LogAnalysis, ProcessingSettings};
use commlog_domain::records::ChannelConfiguration;
use commlog_domain::{ChannelType, CommunicationType, time_fmt};
use commlog_store::Scope;
use serde_json::json;

/// Key topics kept per log.
const TOPICS_PER_LOG: usize = 8;

/// Whether `step` is to run: all steps when none is named.
fn wanted(steps: &[String], step: &str) -> bool {
    steps.is_empty() || steps.iter().any(|s| s == step)
}

/// The channel configuration a log came through: the one whose code the log names, else the
/// company's default active channel of the log's kind.
pub fn channel_for<'a>(
    log: &CommunicationLog,
    channels: &'a [ChannelConfiguration],
) -> Option<&'a ChannelConfiguration> {
    if let Some(c) = channels.iter().find(|c| c.channel_code == log.channel) {
        return Some(c);
    }
    let kind = match log.communication_type {
        CommunicationType::Call | CommunicationType::Voicemail => ChannelType::Phone,
        CommunicationType::Email => ChannelType::Email,
        CommunicationType::Sms => ChannelType::Sms,
        CommunicationType::Chat => ChannelType::Chat,
        CommunicationType::Message => ChannelType::Messaging,
        _ => return None,
    };
    channels
        .iter()
        .find(|c| c.is_active && c.is_default && c.channel_type == kind)
}

/// Runs the wanted steps on `log` and gathers what they found.
pub async fn analyse(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
    steps: &[String],
) -> Result<LogAnalysis, JobError> {
    let company = log.company_id;
    let (settings, sealed_key) = app.store.processing_settings(company).await?;
    let channels = app
        .store
        .list_channels(scope, &ChannelFilter::default())
        .await?;
    let channel = channel_for(log, &channels);
    let mut out = LogAnalysis::default();
    out.analysis.insert(
        "channel_configuration_id".into(),
        json!(channel.map(|c| c.id)),
    );

    // Transcription: when asked for explicitly, or when the log has no transcript yet and its
    // channel transcribes (a log without a channel transcribes the recordings people upload).
    let mut segments_text: Option<Vec<Utterance>> = None;
    let asked = steps.iter().any(|s| s == "transcription");
    let channel_transcribes = channel.is_none_or(|c| c.auto_transcription);
    if steps.is_empty() && log.transcription.is_none() && !channel_transcribes {
        let why = "the log's channel does not transcribe (auto_transcription is off)";
        out.runs
            .push(NewProcessingRun::skipped("transcription", "none", why));
    }
    if asked || (steps.is_empty() && log.transcription.is_none() && channel_transcribes) {
        match transcribe::run(
            app,
            scope,
            log,
            &settings.transcription,
            sealed_key.as_deref(),
        )
        .await?
        {
            Ok(t) => {
                let started = time_fmt::now();
                let text = transcribe::render(&t.transcript, log.direction);
                let speakers: Vec<Utterance> = t
                    .transcript
                    .segments
                    .iter()
                    .map(|s| match transcribe::speaker(log.direction, s.channel) {
                        Some(who) => Utterance::spoken(who, s.text.clone()),
                        None => Utterance {
                            speaker: None,
                            text: s.text.clone(),
                        },
                    })
                    .collect();
                segments_text = Some(speakers);
                out.analysis.insert(
                    "transcript".into(),
                    json!({"engine": t.engine, "engine_version": t.version, "attachment_id": t.attachment.id,
                        "language": t.transcript.language, "segments": transcribe::segments_json(&t.transcript, log.direction)}),
                );
                let detail = json!({"attachment_id": t.attachment.id, "segments": t.transcript.segments.len()});
                out.runs.push(NewProcessingRun::done(
                    "transcription",
                    &t.engine,
                    &t.version,
                    detail,
                    started,
                ));
                out.transcription = Some(text);
            }
            Err(not_done) => out.runs.push(not_done),
        }
    }
    let transcript = out
        .transcription
        .clone()
        .or_else(|| log.transcription.clone());
    let utterances = utterances(log, segments_text, transcript.as_deref());
    let whole: String = utterances
        .iter()
        .map(|u| u.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");

    if wanted(steps, "language") {
        let started = time_fmt::now();
        let found = language::detect(&whole);
        let detail = json!({"confidence": found.as_ref().map(|l| l.confidence)});
        out.language = Some(found.map(|l| l.code));
        out.runs.push(NewProcessingRun::done(
            "language", "whatlang", "0.16", detail, started,
        ));
    }
    if wanted(steps, "pii") {
        let started = time_fmt::now();
        let ctx = match app.processing.pii_context(company, &settings.pii_region) {
            Some(ctx) => ctx,
            None => {
                let names = app.store.known_names(company).await?;
                app.processing.keep_pii_context(
                    company,
                    pii::PiiContext {
                        known_names: pii::KnownNames::new(names),
                        default_region: settings.pii_region.clone(),
                    },
                )
            }
        };
        let mut found = serde_json::Map::new();
        let mut count = 0;
        for (field, text) in [
            ("subject", Some(log.subject.as_str())),
            ("content", Some(log.content.as_str())),
            ("transcription", transcript.as_deref()),
        ] {
            let spans = text.map(|t| pii::detect(t, &ctx)).unwrap_or_default();
            count += spans.len();
            found.insert(field.into(), json!(spans));
        }
        out.analysis
            .insert("pii".into(), serde_json::Value::Object(found));
        out.runs.push(NewProcessingRun::done(
            "pii",
            "commlog-pii",
            env!("CARGO_PKG_VERSION"),
            json!({"spans": count}),
            started,
        ));
    }
    if wanted(steps, "sentiment") {
        let started = time_fmt::now();
        let result = score_sentiment(app, &settings, &utterances).await;
        out.sentiment = Some((result.label, result.score));
        out.analysis.insert(
            "sentiment_detail".into(),
            json!({"most_negative": result.most_negative, "speakers": result.speakers, "sentences": result.sentences}),
        );
        let detail = json!({"score": result.score, "sentences": result.sentences});
        out.runs.push(NewProcessingRun::done(
            "sentiment",
            &result.engine,
            &result.engine_version,
            detail,
            started,
        ));
    }
    if wanted(steps, "key_topics") {
        let started = time_fmt::now();
        let found = topics::key_topics(&whole, TOPICS_PER_LOG);
        out.key_topics = Some(found.iter().map(|t| t.phrase.clone()).collect());
        out.runs.push(NewProcessingRun::done(
            "key_topics",
            "yake",
            env!("CARGO_PKG_VERSION"),
            json!({"topics": found.len()}),
            started,
        ));
    }
    if wanted(steps, "categorization") {
        let categories = app
            .store
            .list_categories(
                scope,
                &CategoryFilter {
                    is_active: Some(true),
                    auto_categorization: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        let step = rules::categorize(app, scope, &categories, &whole, &mut out).await?;
        out.runs.push(step);
    }
    if wanted(steps, "follow_up") {
        let step = if settings.detect_follow_ups {
            rules::follow_up(app, scope, log, &whole, &mut out).await?
        } else {
            NewProcessingRun::skipped(
                "follow_up",
                "commlog-followup",
                "follow-up detection is off for the company",
            )
        };
        out.runs.push(step);
    }
    if wanted(steps, "escalation") {
        let step = if settings.escalation {
            rules::escalate(app, scope, log, &whole, &mut out).await?
        } else {
            NewProcessingRun::skipped(
                "escalation",
                "commlog-rules",
                "escalation is off for the company",
            )
        };
        out.runs.push(step);
    }
    Ok(out)
}

/// What the log says, as utterances: the transcript's speakers (fresh segments, or the stored
/// transcript's `Speaker:` lines), then the subject and the message without quotes and
/// signature.
fn utterances(
    log: &CommunicationLog,
    fresh: Option<Vec<Utterance>>,
    transcript: Option<&str>,
) -> Vec<Utterance> {
    let mut out = Vec::new();
    if !log.subject.trim().is_empty() && log.communication_type == CommunicationType::Email {
        out.push(Utterance {
            speaker: None,
            text: log.subject.clone(),
        });
    }
    let body = Utterance::message(&log.content);
    if !body.text.trim().is_empty() {
        out.push(body);
    }
    match (fresh, transcript) {
        (Some(segments), _) => out.extend(segments),
        (None, Some(t)) => {
            // Stored transcripts start each line with its time: `[01:02] Agent: …`.
            let lines: Vec<&str> = t
                .lines()
                .map(|l| {
                    match l
                        .trim_start()
                        .strip_prefix('[')
                        .and_then(|r| r.split_once("] "))
                    {
                        Some((_, rest)) => rest,
                        None => l,
                    }
                })
                .collect();
            out.extend(commlog_analysis::text::parse_transcript(&lines.join("\n")));
        }
        (None, None) => {}
    }
    out
}

/// Scores with the company's engine; the embedding engine falls back to VADER when its model
/// is not installed or fails, and the result names the engine that scored.
async fn score_sentiment(
    app: &AppState,
    settings: &ProcessingSettings,
    utterances: &[Utterance],
) -> SentimentResult {
    let vader = || sentiment::analyse(&sentiment::Vader::new(), utterances);
    if settings.sentiment_engine != "embedding" {
        return vader();
    }
    let engines = app.processing.clone();
    let owned: Vec<Utterance> = utterances.to_vec();
    // Loading and running the model are blocking work.
    let scored = tokio::task::spawn_blocking(move || {
        let engine = engines.embedding().ok()?;
        let adapter = rules::EmbeddingAnalyzer {
            engine: engine.as_ref(),
            failed: std::sync::atomic::AtomicBool::new(false),
        };
        let result = sentiment::analyse(&adapter, &owned);
        (!adapter.failed.load(std::sync::atomic::Ordering::Relaxed)).then_some(result)
    })
    .await
    .ok()
    .flatten();
    scored.unwrap_or_else(vader)
}
