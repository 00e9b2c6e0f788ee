//! Personal data: the labelled set's precision and recall, masking, offsets.

use crate::common::{evaluate_pii, read_pii_labelled};
use commlog_analysis::pii::{PiiContext, PiiKind, PiiSpan, detect, mask, resolve};

#[test]
fn labelled_set_precision_and_recall() {
    let (names, cases) = read_pii_labelled();
    let positives: usize = cases.iter().map(|c| c.expected.len()).sum();
    let negatives = cases.iter().filter(|c| c.expected.is_empty()).count();
    assert!(
        positives >= 60 && negatives >= 60 && !names.is_empty(),
        "{positives} / {negatives}"
    );
    let (tp, fp, fn_, errors) = evaluate_pii();
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    for e in &errors {
        println!("{e}");
    }
    println!(
        "pii: {positives} expected items, {negatives} look-alike lines; tp={tp} fp={fp} fn={fn_} precision={precision:.3} recall={recall:.3}"
    );
    assert!(
        precision >= 0.95 && recall >= 0.95,
        "precision {precision} recall {recall}"
    );
}

#[test]
fn masks_with_placeholders() {
    let ctx = PiiContext {
        known_names: vec!["Jane Doe".to_owned()].into(),
        default_region: "US".to_owned(),
    };
    let text =
        "Jane Doe (jane.doe@example.com) paid with 4111 1111 1111 1111, call (415) 555-2671.";
    let spans = detect(text, &ctx);
    assert_eq!(
        mask(text, &spans),
        "[NAME] ([EMAIL]) paid with [CARD], call [PHONE]."
    );
    // Spans survive storage as JSON.
    let json = serde_json::to_string(&spans).unwrap_or_default();
    let back: Vec<PiiSpan> = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(back, spans);
    assert!(json.contains("\"kind\":\"email\""));
}

#[test]
fn overlapping_spans_merge_deterministically() {
    let a = PiiSpan {
        kind: PiiKind::Name,
        start: 0,
        end: 4,
    };
    let b = PiiSpan {
        kind: PiiKind::Email,
        start: 2,
        end: 12,
    };
    let c = PiiSpan {
        kind: PiiKind::Phone,
        start: 20,
        end: 25,
    };
    let merged = resolve(vec![c, b, a]);
    assert_eq!(
        merged,
        vec![
            PiiSpan {
                kind: PiiKind::Email,
                start: 0,
                end: 12
            },
            c
        ]
    );
    assert_eq!(resolve(vec![a, b, c]), merged);
    // Out-of-range or off-boundary spans are ignored, not a panic.
    let text = "Grüße";
    let bad = [
        PiiSpan {
            kind: PiiKind::Name,
            start: 2,
            end: 3,
        },
        PiiSpan {
            kind: PiiKind::Name,
            start: 0,
            end: 99,
        },
    ];
    assert_eq!(mask(text, &bad), text);
}

#[test]
fn offsets_are_char_boundaries_with_non_ascii_text() {
    let ctx = PiiContext {
        known_names: vec!["José Núñez".to_owned()].into(),
        default_region: "DE".to_owned(),
    };
    let text = "Grüße von José Núñez — Tel. 030 901820, E-Mail: josé.núñez@beispiel.de, IBAN DE89 3704 0044 0532 0130 00. Ñúñez? núñez!";
    let spans = detect(text, &ctx);
    for s in &spans {
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    }
    let kinds: Vec<PiiKind> = spans.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            PiiKind::Name,
            PiiKind::Phone,
            PiiKind::Email,
            PiiKind::Iban,
            PiiKind::Name
        ]
    );
    assert_eq!(
        mask(text, &spans),
        "Grüße von [NAME] — Tel. [PHONE], E-Mail: [EMAIL], IBAN [IBAN]. Ñúñez? [NAME]!"
    );
}

#[test]
fn detection_never_panics_on_odd_input() {
    let ctx = PiiContext {
        known_names: vec![String::new(), "  ".to_owned(), "Ünal".to_owned()].into(),
        default_region: "??".to_owned(),
    };
    for text in [
        "",
        "@",
        "@@a.b",
        "+",
        "(((",
        "+1 (",
        "0000000000000000000000",
        "a@b.",
        "DE89",
        "ÜÜ@ÜÜ.ÜÜ",
        "9\u{301}99-99-9999",
        "+44 7911 123456",
    ] {
        let spans = detect(text, &ctx);
        for s in spans {
            assert!(text.get(s.start..s.end).is_some());
        }
    }
}
