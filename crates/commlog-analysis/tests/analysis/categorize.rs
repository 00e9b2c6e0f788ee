//! Keyword categorisation, and keywords learnt from banking77.

use crate::common::{corpora_dir, read_banking77, split_per_class};
use commlog_analysis::categorize::{KeywordRule, by_keywords, learn_keywords, merge};

fn rules() -> Vec<KeywordRule<&'static str>> {
    vec![
        KeywordRule {
            id: "billing",
            keywords: vec!["invoice".into(), "refund".into(), "charged twice".into()],
        },
        KeywordRule {
            id: "shipping",
            keywords: vec!["delivery".into(), "tracking number".into(), "parcel".into()],
        },
        KeywordRule {
            id: "account",
            keywords: vec!["password".into(), "login".into(), "refund".into()],
        },
    ]
}

#[test]
fn matches_words_and_phrases_with_plurals() {
    let r = rules();
    assert_eq!(
        by_keywords("Where are my INVOICES?", &r).map(|m| m.0),
        Some("billing")
    );
    assert_eq!(
        by_keywords("I was charged twice for one order", &r).map(|m| m.0),
        Some("billing")
    );
    assert_eq!(
        by_keywords("the tracking number does not work, no delivery yet", &r).map(|m| m.0),
        Some("shipping")
    );
    // "twice charged" is not the phrase; "parcels" is a plural of "parcel"; "logins" too.
    assert_eq!(by_keywords("twice charged", &r), None);
    assert_eq!(
        by_keywords("two parcels", &r).map(|m| m.0),
        Some("shipping")
    );
    // Not inside other words.
    assert_eq!(by_keywords("unparcelled pass-wordy text", &r), None);
    // A keyword shared by two rules is weaker than a specific one.
    let (id, confidence) = by_keywords("refund my invoice", &r).unwrap_or(("none", 0.0));
    assert_eq!(id, "billing");
    assert!(confidence > 0.0 && confidence < 1.0);
    let (_, tie) = by_keywords("refund", &r).unwrap_or(("none", 1.0));
    assert_eq!(tie, 0.0);
}

#[test]
fn learns_keywords_from_corrections_and_merges_them() {
    let examples = [
        ("billing", "Why is my invoice so high?"),
        ("billing", "The invoice total is wrong"),
        ("billing", "Please resend the invoice"),
        ("shipping", "My parcel never arrived"),
        ("shipping", "Where is my parcel?"),
        ("shipping", "The courier lost the parcel"),
    ];
    let learnt = learn_keywords(&examples, 3);
    assert_eq!(learnt.len(), 2);
    assert!(
        learnt[0].keywords.contains(&"invoice".to_owned()),
        "{learnt:?}"
    );
    assert!(
        learnt[1].keywords.contains(&"parcel".to_owned()),
        "{learnt:?}"
    );
    let merged = merge(&rules(), &learnt);
    assert_eq!(merged.len(), 3);
    assert_eq!(
        merged[1].keywords.iter().filter(|k| *k == "parcel").count(),
        1
    );
}

#[test]
fn banking77_keyword_accuracy_with_ten_examples_per_intent() {
    let Some(dir) = corpora_dir() else {
        println!("skipped: shared/corpora not found (set COMMLOG_CORPORA)");
        return;
    };
    let Ok(rows) = read_banking77(&dir.join("categorization").join("banking77")) else {
        println!("skipped: banking77 missing");
        return;
    };
    let (train, test) = split_per_class(&rows, 10);
    let examples: Vec<(String, &str)> =
        train.iter().map(|(t, c)| (c.clone(), t.as_str())).collect();
    let rules = learn_keywords(&examples, 15);
    let mut correct = 0usize;
    let mut answered = 0usize;
    for (text, category) in &test {
        if let Some((id, _)) = by_keywords(text, &rules) {
            answered += 1;
            correct += usize::from(&id == category);
        }
    }
    let accuracy = correct as f64 / test.len().max(1) as f64;
    let coverage = answered as f64 / test.len().max(1) as f64;
    println!(
        "banking77: {} intents, train {} test {}; accuracy {accuracy:.3}, answered {coverage:.3}, precision when answered {:.3}",
        rules.len(),
        train.len(),
        test.len(),
        correct as f64 / answered.max(1) as f64
    );
    assert_eq!(rules.len(), 77);
    assert!(accuracy > 0.30, "accuracy {accuracy}");
}
