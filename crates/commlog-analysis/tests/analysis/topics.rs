//! Key topics.

use commlog_analysis::topics::{Topic, company_topics, key_topics};

const MAIL: &str = "Hello, we received invoice INV-2041 for the annual software license, but the license \
    renewal price is higher than in our contract. The invoice also lists two extra user licenses we never \
    ordered. Please correct the invoice and confirm the renewal price before the payment deadline on Friday. \
    Our finance team cannot approve the payment until the invoice matches the contract.";

#[test]
fn extracts_key_phrases_best_first_without_near_duplicates() {
    let topics = key_topics(MAIL, 8);
    let phrases: Vec<&str> = topics.iter().map(|t| t.phrase.as_str()).collect();
    println!("{phrases:?}");
    assert_eq!(topics.len(), 8);
    assert!(phrases.iter().any(|p| p.contains("invoice")), "{phrases:?}");
    assert!(
        phrases
            .iter()
            .any(|p| p.contains("renewal price") || p.contains("license")),
        "{phrases:?}"
    );
    assert!(topics.windows(2).all(|w| w[0].score <= w[1].score));
    assert!(!(phrases.contains(&"license") && phrases.contains(&"licenses")));
    assert!(
        phrases
            .iter()
            .all(|p| !p.starts_with("the ") && !p.ends_with(" the"))
    );
    assert!(key_topics("", 5).is_empty());
    assert!(key_topics("ok", 5).is_empty());
}

#[test]
fn handles_non_ascii_text() {
    let topics = key_topics(
        "Die Größe der Lieferung ist falsch. Die Lieferung kam beschädigt an. Größe XL bestellt.",
        3,
    );
    assert!(!topics.is_empty());
    assert!(
        topics.iter().any(|t| t.phrase.contains("lieferung")),
        "{topics:?}"
    );
}

#[test]
fn counts_topics_over_many_logs() {
    let logs: Vec<Vec<Topic>> = vec![
        vec![
            Topic {
                phrase: "invoice".into(),
                score: 0.1,
            },
            Topic {
                phrase: "invoices".into(),
                score: 0.2,
            },
        ],
        vec![
            Topic {
                phrase: "invoices".into(),
                score: 0.1,
            },
            Topic {
                phrase: "late delivery".into(),
                score: 0.3,
            },
        ],
        vec![
            Topic {
                phrase: "late delivery".into(),
                score: 0.1,
            },
            Topic {
                phrase: "app login".into(),
                score: 0.3,
            },
        ],
    ];
    let counts = company_topics(logs.iter().map(|l| l.iter().map(|t| t.phrase.as_str())));
    assert_eq!(
        counts,
        vec![
            ("invoice".to_owned(), 2),
            ("late delivery".to_owned(), 2),
            ("app login".to_owned(), 1)
        ]
    );
}
