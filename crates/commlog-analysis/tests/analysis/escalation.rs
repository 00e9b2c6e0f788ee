//! Escalation rules.

use commlog_analysis::escalation::{EscalationRule, Facts, default_rules, evaluate, evaluate_all};
use commlog_domain::{CommunicationType, Priority};

fn facts(text: &str) -> Facts<'_> {
    Facts {
        priority: Priority::Normal,
        sentiment_score: Some(0.0),
        text,
        channel: Some("Support Line"),
        communication_type: Some(CommunicationType::Call),
    }
}

#[test]
fn default_rules_catch_threats_cancellations_and_angry_urgent_logs() {
    let rules = default_rules();
    let names = |f: &Facts<'_>| {
        evaluate_all(&rules, f)
            .into_iter()
            .map(|r| r.rule)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&facts("I will talk to my lawyer about this.")),
        ["legal-threat"]
    );
    assert_eq!(
        names(&facts("We cancelled the subscription and want a refund")),
        ["cancellation-risk", "complaint"]
    );
    assert!(names(&facts("Thanks, all good. Courtesy call.")).is_empty());
    let angry = Facts {
        priority: Priority::Urgent,
        sentiment_score: Some(-0.8),
        ..facts("It broke again.")
    };
    let reasons = evaluate_all(&rules, &angry);
    assert_eq!(reasons.len(), 1);
    assert_eq!(
        reasons[0].explanation,
        "priority urgent ≥ high; sentiment -0.80 < -0.50"
    );
    let calm_high = Facts {
        priority: Priority::High,
        sentiment_score: Some(-0.2),
        ..facts("It broke again.")
    };
    assert!(evaluate_all(&rules, &calm_high).is_empty());
    let unscored = Facts {
        priority: Priority::Urgent,
        sentiment_score: None,
        ..facts("x")
    };
    assert!(evaluate_all(&rules, &unscored).is_empty());
}

#[test]
fn every_set_condition_must_hold() {
    let rule: EscalationRule = serde_json::from_str(
        r#"{"name":"vip-phone","keywords":["legal action"],"channels":["support line"],"communication_types":["call"]}"#,
    )
    .unwrap_or_else(|_| EscalationRule { name: String::new(), min_priority: None, sentiment_below: None, keywords: vec![], channels: vec![], communication_types: vec![] });
    assert_eq!(rule.name, "vip-phone");
    let hit = evaluate(&rule, &facts("We are considering LEGAL ACTION."));
    assert_eq!(
        hit.map(|r| r.explanation),
        Some("mentions \"legal action\"; channel Support Line; type call".to_owned())
    );
    assert!(evaluate(&rule, &facts("legal and action")).is_none());
    let email = Facts {
        communication_type: Some(CommunicationType::Email),
        ..facts("legal action")
    };
    assert!(evaluate(&rule, &email).is_none());
    let empty = EscalationRule {
        name: "empty".into(),
        min_priority: None,
        sentiment_below: None,
        keywords: vec![],
        channels: vec![],
        communication_types: vec![],
    };
    assert!(evaluate(&empty, &facts("anything")).is_none());
}
