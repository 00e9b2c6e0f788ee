//! Integration tests of commlog-analysis, one binary; the real-data evaluations skip with a
//! message when the shared corpora are not present.

mod common;

#[path = "analysis/categorize.rs"]
mod categorize;
#[path = "analysis/escalation.rs"]
mod escalation;
#[path = "analysis/followup.rs"]
mod followup;
#[path = "analysis/pii.rs"]
mod pii;
#[path = "analysis/robustness.rs"]
mod robustness;
#[path = "analysis/sentiment.rs"]
mod sentiment;
#[path = "analysis/text.rs"]
mod text;
#[path = "analysis/topics.rs"]
mod topics;
