//! The rule-driven steps of processing: auto-categorisation (keywords learnt from each
//! category's examples and corrections, and similarity to them when the embedding model is
//! installed), promised follow-ups in the company's time zone, and escalation rules.

use crate::capture::runner::JobError;
use crate::error::ApiError;
use crate::state::AppState;
use commlog_analysis::categorize::{self, KeywordRule};
use commlog_analysis::escalation::{self, EscalationRule, Facts};
use commlog_analysis::followup;
use commlog_analysis::sentiment::SentimentAnalyzer;
use commlog_domain::log::CommunicationLog;
use commlog_domain::processing::NewProcessingRun;
use commlog_domain::processing::{Escalation, LogAnalysis};
use commlog_domain::records::Category;
use commlog_domain::{Priority, time_fmt};
use commlog_embed::EmbeddingSentiment;
use commlog_store::Scope;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// Below this confidence a category is not set: a wrong category costs more than none.
const MIN_CATEGORY_CONFIDENCE: f64 = 0.35;

/// Reads a stored rule body (the rule's name lives beside it).
fn parse_rule(name: &str, body: &serde_json::Value) -> Result<EscalationRule, String> {
    let mut body = body.clone();
    let obj = body.as_object_mut().ok_or("the rule must be an object")?;
    obj.insert("name".into(), json!(name));
    serde_json::from_value(body).map_err(|e| e.to_string())
}

/// Checks an escalation rule's body as the API receives it: known fields only, at least one
/// condition, a threshold inside [-1, 1], at most 100 keywords.
pub fn check_rule(name: &str, body: &serde_json::Value) -> Result<EscalationRule, ApiError> {
    let bad = |m: String| ApiError::field("rule", "invalid_rule", m);
    if let Some(obj) = body.as_object() {
        const KNOWN: &[&str] = &[
            "min_priority",
            "sentiment_below",
            "keywords",
            "channels",
            "communication_types",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown field {k:?}; known: {}",
                KNOWN.join(", ")
            )));
        }
    }
    let rule = parse_rule(name, body).map_err(bad)?;
    if rule.min_priority.is_none()
        && rule.sentiment_below.is_none()
        && rule.keywords.is_empty()
        && rule.channels.is_empty()
        && rule.communication_types.is_empty()
    {
        return Err(bad("a rule needs at least one condition".into()));
    }
    if rule
        .sentiment_below
        .is_some_and(|t| !(-1.0..=1.0).contains(&t))
    {
        return Err(ApiError::field(
            "rule.sentiment_below",
            "out_of_range",
            "between -1 and 1",
        ));
    }
    if rule.keywords.len() > 100
        || rule
            .keywords
            .iter()
            .any(|k| k.trim().is_empty() || k.len() > 100)
    {
        return Err(ApiError::field(
            "rule.keywords",
            "invalid_keywords",
            "at most 100 keywords of 1 to 100 characters",
        ));
    }
    Ok(rule)
}

/// The embedding sentiment engine seen as a sentence scorer; remembers whether it failed, so
/// the caller can fall back to VADER rather than store zeros.
pub struct EmbeddingAnalyzer<'a> {
    pub engine: &'a EmbeddingSentiment,
    pub failed: AtomicBool,
}

impl SentimentAnalyzer for EmbeddingAnalyzer<'_> {
    fn engine(&self) -> &str {
        self.engine.engine()
    }
    fn version(&self) -> &str {
        self.engine.version()
    }
    fn score(&self, sentences: &[&str]) -> Vec<f64> {
        match self.engine.score(sentences) {
            Ok(scores) => scores,
            Err(e) => {
                tracing::warn!("embedding sentiment failed: {e}");
                self.failed.store(true, Ordering::Relaxed);
                vec![0.0; sentences.len()]
            }
        }
    }
}

/// Chooses the categories with `auto_categorization` the text belongs to: by similarity to
/// their examples when the embedding model is installed and the category has examples, else by
/// keywords learnt from the examples and the category's own name and description.
pub async fn categorize(
    app: &AppState,
    scope: &Scope,
    categories: &[Category],
    text: &str,
    out: &mut LogAnalysis,
) -> Result<NewProcessingRun, JobError> {
    if categories.is_empty() {
        return Ok(NewProcessingRun::skipped(
            "categorization",
            "commlog-categorize",
            "no active category has auto_categorization",
        ));
    }
    let started = time_fmt::now();
    let stored = app.store.list_category_examples(scope, None).await?;
    let stored: Vec<_> = stored
        .into_iter()
        .filter(|e| categories.iter().any(|c| c.id == e.category_id))
        .collect();
    // Which examples (and of which categories) a classifier was built from.
    let signature = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for e in &stored {
            (e.id, e.category_id).hash(&mut h);
        }
        h.finish()
    };
    let examples: Vec<(Uuid, String)> = stored
        .into_iter()
        .map(|e| (e.category_id, e.text))
        .collect();
    let mut chosen: Option<(Uuid, f64, &str)> = None;
    if !examples.is_empty() {
        let engines = app.processing.clone();
        let (company, text, examples_c) = (scope.company_id(), text.to_owned(), examples.clone());
        // Loading and running the model are blocking work.
        let found = tokio::task::spawn_blocking(move || -> Option<(Uuid, f64)> {
            let engine = engines.embedding().ok()?;
            let embedder = engine.embedder();
            let classifier = engines.example_classifier(company, signature, || {
                let texts: Vec<&str> = examples_c.iter().map(|(_, t)| t.as_str()).collect();
                let vectors = embedder.embed(&texts).ok()?;
                let labelled = examples_c.iter().map(|(id, _)| *id).zip(vectors);
                commlog_embed::ExampleClassifier::from_examples(labelled).ok()
            })?;
            let query = embedder.embed(&[text.as_str()]).ok()?.pop()?;
            classifier
                .classify(&query)
                .map(|(id, confidence)| (id, f64::from(confidence)))
        })
        .await
        .ok()
        .flatten();
        chosen = found.map(|(id, conf)| (id, conf, "minilm-examples"));
    }
    if chosen.is_none_or(|(_, conf, _)| conf < MIN_CATEGORY_CONFIDENCE) {
        let mut labelled: Vec<(Uuid, &str)> =
            examples.iter().map(|(id, t)| (*id, t.as_str())).collect();
        let described: Vec<(Uuid, String)> = categories
            .iter()
            .map(|c| {
                (
                    c.id,
                    format!(
                        "{} {}",
                        c.category_name,
                        c.description.clone().unwrap_or_default()
                    ),
                )
            })
            .collect();
        labelled.extend(described.iter().map(|(id, t)| (*id, t.as_str())));
        let mut rules: Vec<KeywordRule<Uuid>> = categorize::learn_keywords(&labelled, 12);
        for c in categories {
            if let Some(r) = rules.iter_mut().find(|r| r.id == c.id) {
                r.keywords.push(c.category_name.to_lowercase());
            } else {
                rules.push(KeywordRule {
                    id: c.id,
                    keywords: vec![c.category_name.to_lowercase()],
                });
            }
        }
        if let Some((id, conf)) = categorize::by_keywords(text, &rules) {
            chosen = Some((id, conf, "keywords"));
        }
    }
    let Some((id, confidence, method)) = chosen.filter(|(_, c, _)| *c >= MIN_CATEGORY_CONFIDENCE)
    else {
        return Ok(NewProcessingRun::done(
            "categorization",
            "commlog-categorize",
            env!("CARGO_PKG_VERSION"),
            json!({"category_id": null}),
            started,
        ));
    };
    out.categories = vec![(id, confidence)];
    out.category_priority = categories
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.default_priority);
    let detail = json!({"category_id": id, "confidence": confidence, "method": method, "examples": examples.len()});
    Ok(NewProcessingRun::done(
        "categorization",
        "commlog-categorize",
        env!("CARGO_PKG_VERSION"),
        detail,
        started,
    ))
}

/// Finds a promise to follow up ("call me back tomorrow") and dates it in the company's time
/// zone, counted from when the conversation took place. Dates already past are not set.
pub async fn follow_up(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
    text: &str,
    out: &mut LogAnalysis,
) -> Result<NewProcessingRun, JobError> {
    let started = time_fmt::now();
    let company = app.store.get_company(scope).await?;
    let tz: chrono_tz::Tz = company.timezone.parse().unwrap_or(chrono_tz::UTC);
    let found = followup::extract(text, log.start_time, tz);
    let detail = match &found {
        Some(f) if f.due > started => {
            out.follow_up = Some(f.due);
            json!({"phrase": f.phrase, "due": f.due.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(), "set": !log.requires_follow_up})
        }
        Some(f) => json!({"phrase": f.phrase, "set": false, "reason": "the date has passed"}),
        None => json!({"phrase": null}),
    };
    Ok(NewProcessingRun::done(
        "follow_up",
        "commlog-followup",
        env!("CARGO_PKG_VERSION"),
        detail,
        started,
    ))
}

/// Applies the company's active escalation rules (the built-in ones when it has none).
pub async fn escalate(
    app: &AppState,
    scope: &Scope,
    log: &CommunicationLog,
    text: &str,
    out: &mut LogAnalysis,
) -> Result<NewProcessingRun, JobError> {
    let started = time_fmt::now();
    let stored = app.store.list_escalation_rules(scope).await?;
    let rules: Vec<EscalationRule> = if stored.is_empty() {
        escalation::default_rules()
    } else {
        stored
            .iter()
            .filter(|r| r.is_active)
            .filter_map(|r| parse_rule(&r.name, &r.rule).ok())
            .collect()
    };
    // Judged on the priority the categorisation step just gave.
    let priority = out
        .category_priority
        .map_or(log.priority, |p| p.max(log.priority));
    let sentiment_score = out.sentiment.map(|(_, s)| s).or(log.sentiment_score);
    let facts = Facts {
        priority,
        sentiment_score,
        text,
        channel: Some(&log.channel),
        communication_type: Some(log.communication_type),
    };
    let hit = rules
        .iter()
        .find_map(|r| escalation::evaluate(r, &facts).map(|reason| (r, reason)));
    let detail = match hit {
        Some((rule, reason)) => {
            let raised = if priority.rank() >= Priority::High.rank() {
                Priority::Urgent
            } else {
                Priority::High
            };
            out.escalation = Some(Escalation {
                rule: rule.name.clone(),
                reason: reason.explanation.clone(),
                priority: raised,
            });
            json!({"rule": rule.name, "reason": reason.explanation, "priority": raised})
        }
        None => json!({"rule": null, "rules": rules.len()}),
    };
    Ok(NewProcessingRun::done(
        "escalation",
        "commlog-rules",
        env!("CARGO_PKG_VERSION"),
        detail,
        started,
    ))
}
