//! Every analyser on scrambled input: no panic, offsets on character boundaries.

use commlog_analysis::categorize::{KeywordRule, by_keywords};
use commlog_analysis::escalation::{Facts, default_rules, evaluate_all};
use commlog_analysis::pii::{PiiContext, detect, mask};
use commlog_analysis::sentiment::{Vader, analyse};
use commlog_analysis::text::{Utterance, parse_transcript, sentence_spans};
use commlog_analysis::{cleanup, followup, language, topics};
use commlog_domain::Priority;
use time::macros::datetime;

/// Pieces that exercise the parsers' edge cases, glued in pseudo-random order.
const PIECES: &[&str] = &[
    "4111", " ", "-", "+", "(", ")", "@", ".", "é", "’s", "\n", "\n\n", "> ", "-- ", "DE89",
    "3704", "12", "tomorrow", " at ", "3pm", "next", "Friday", "in", "2", "weeks", "!", "?", "…",
    "Ünal", "Doe", "😁", "0", "but", "not", "VERY", "good", "On ", "wrote:", "From:", "Sent:",
    "ssn", "000", "-45-", "6789", ":", "\t",
];

#[test]
fn scrambled_input_never_panics() {
    let vader = Vader::new();
    let ctx = PiiContext {
        known_names: vec!["Jane Doe".into(), "Ünal Öz".into()].into(),
        default_region: "GB".into(),
    };
    let rules = vec![KeywordRule {
        id: 1,
        keywords: vec!["good".into(), "next friday".into()],
    }];
    let escalation = default_rules();
    let now = datetime!(2026-03-29 01:30 +1);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1500 {
        let mut text = String::new();
        for _ in 0..(seed % 40) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
        }
        for s in detect(&text, &ctx) {
            assert!(
                text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                "{text:?}"
            );
        }
        let _ = mask(&text, &detect(&text, &ctx));
        for r in sentence_spans(&text) {
            assert!(text.get(r).is_some());
        }
        let _ = analyse(&vader, &[Utterance::message(&text)]);
        let _ = analyse(&vader, &parse_transcript(&text));
        let _ = topics::key_topics(&text, 5);
        let _ = followup::extract(&text, now, chrono_tz::Europe::Berlin);
        let _ = language::detect(&text);
        let _ = cleanup::strip_quoted_and_signature(&text);
        let _ = by_keywords(&text, &rules);
        let facts = Facts {
            priority: Priority::High,
            sentiment_score: Some(-0.9),
            text: &text,
            channel: None,
            communication_type: None,
        };
        assert!(!evaluate_all(&escalation, &facts).is_empty());
    }
}
