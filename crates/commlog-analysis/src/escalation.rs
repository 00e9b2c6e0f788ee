//! Escalation rules: when a log should go to a manager. A rule is a conjunction of the
//! conditions it sets; unset conditions do not constrain, and a rule that sets none never
//! matches (so an empty rule cannot escalate everything).

use crate::text::{find_phrase, stem_phrase, stemmed_words};
use commlog_domain::{CommunicationType, Priority};
use serde::{Deserialize, Serialize};

/// One escalation rule, as stored in configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationRule {
    /// Short stable name, shown in the reason.
    pub name: String,
    /// The log's priority must be at least this.
    #[serde(default)]
    pub min_priority: Option<Priority>,
    /// The sentiment score must be below this (a log without a score does not match).
    #[serde(default)]
    pub sentiment_below: Option<f64>,
    /// At least one of these words or phrases must occur (whole words, any case, plural and
    /// other simple inflections included).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The log must have come through one of these channels (by name, any case).
    #[serde(default)]
    pub channels: Vec<String>,
    /// The log must be of one of these types.
    #[serde(default)]
    pub communication_types: Vec<CommunicationType>,
}

/// What is known about a log when rules are evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts<'a> {
    /// The log's priority.
    pub priority: Priority,
    /// Its sentiment score in `[-1, 1]`, once analysed.
    pub sentiment_score: Option<f64>,
    /// Its text (subject and body, or transcript).
    pub text: &'a str,
    /// The channel's name, if any.
    pub channel: Option<&'a str>,
    /// The kind of conversation.
    pub communication_type: Option<CommunicationType>,
}

/// Why a rule matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule's name.
    pub rule: String,
    /// A sentence for people: every condition that held, e.g. `priority high ≥ high;
    /// sentiment -0.72 < -0.50; mentions "lawyer"`.
    pub explanation: String,
}

/// Evaluates one rule: `Some` with the reason when every set condition holds.
pub fn evaluate(rule: &EscalationRule, facts: &Facts<'_>) -> Option<Reason> {
    let mut because: Vec<String> = Vec::new();
    if let Some(min) = rule.min_priority {
        if facts.priority.rank() < min.rank() {
            return None;
        }
        because.push(format!("priority {} ≥ {}", facts.priority, min));
    }
    if let Some(limit) = rule.sentiment_below {
        let score = facts.sentiment_score.filter(|s| *s < limit)?;
        because.push(format!("sentiment {score:.2} < {limit:.2}"));
    }
    if !rule.keywords.is_empty() {
        let tokens = stemmed_words(facts.text);
        let hits: Vec<&str> = rule
            .keywords
            .iter()
            .filter(|k| !find_phrase(&tokens, &stem_phrase(k)).is_empty())
            .map(String::as_str)
            .collect();
        if hits.is_empty() {
            return None;
        }
        because.push(format!(
            "mentions {}",
            hits.iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !rule.channels.is_empty() {
        let channel = facts
            .channel
            .filter(|c| rule.channels.iter().any(|r| r.eq_ignore_ascii_case(c)))?;
        because.push(format!("channel {channel}"));
    }
    if !rule.communication_types.is_empty() {
        let kind = facts
            .communication_type
            .filter(|t| rule.communication_types.contains(t))?;
        because.push(format!("type {kind}"));
    }
    if because.is_empty() {
        return None;
    }
    Some(Reason {
        rule: rule.name.clone(),
        explanation: because.join("; "),
    })
}

/// Every rule that matches, in rule order.
pub fn evaluate_all(rules: &[EscalationRule], facts: &Facts<'_>) -> Vec<Reason> {
    rules.iter().filter_map(|r| evaluate(r, facts)).collect()
}

/// Rules a new company starts with.
pub fn default_rules() -> Vec<EscalationRule> {
    let rule = |name: &str| EscalationRule {
        name: name.to_owned(),
        min_priority: None,
        sentiment_below: None,
        keywords: Vec::new(),
        channels: Vec::new(),
        communication_types: Vec::new(),
    };
    let words = |ws: &[&str]| ws.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    vec![
        EscalationRule {
            min_priority: Some(Priority::High),
            sentiment_below: Some(-0.5),
            ..rule("negative-high-priority")
        },
        EscalationRule {
            keywords: words(&[
                "lawyer",
                "attorney",
                "solicitor",
                "legal action",
                "lawsuit",
                "sue you",
                "court",
                "ombudsman",
                "regulator",
            ]),
            ..rule("legal-threat")
        },
        EscalationRule {
            keywords: words(&[
                "cancel",
                "cancellation",
                "terminate",
                "close my account",
                "switch provider",
                "leave you",
            ]),
            ..rule("cancellation-risk")
        },
        EscalationRule {
            keywords: words(&[
                "complaint",
                "complain",
                "refund",
                "chargeback",
                "unacceptable",
                "escalate",
            ]),
            ..rule("complaint")
        },
    ]
}
