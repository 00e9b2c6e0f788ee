//! Sentences, transcripts, cleanup and language.

use commlog_analysis::cleanup::strip_quoted_and_signature;
use commlog_analysis::language;
use commlog_analysis::text::{parse_transcript, sentence_spans, sentences, stem, words};

#[test]
fn splits_sentences_keeping_abbreviations_and_decimals() {
    let s =
        sentences("Dr. Smith paid $3.50 today. Great! Was it e.g. fast?? Yes…\n\nNew paragraph");
    assert_eq!(
        s,
        [
            "Dr. Smith paid $3.50 today.",
            "Great!",
            "Was it e.g. fast??",
            "Yes…",
            "New paragraph"
        ]
    );
    // Hard-wrapped lines are one sentence.
    assert_eq!(
        sentences("I am writing about\nmy invoice. Thanks"),
        ["I am writing about\nmy invoice.", "Thanks"]
    );
}

#[test]
fn sentence_spans_are_char_boundaries_in_non_ascii_text() {
    let text = "Größe passt nicht! Très déçu… 価格は高すぎる。 Ça va? Ünal.";
    for r in sentence_spans(text) {
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
    }
    assert_eq!(sentences(text).first(), Some(&"Größe passt nicht!"));
    for w in words(text) {
        assert_eq!(&text[w.start..w.end], w.text);
    }
}

#[test]
fn words_keep_inner_apostrophes() {
    let w: Vec<&str> = words("Don't ask O'Brien, 'quoted' ok")
        .iter()
        .map(|w| w.text)
        .collect();
    assert_eq!(w, ["Don't", "ask", "O'Brien", "quoted", "ok"]);
}

#[test]
fn stems_agree_across_inflections() {
    for (a, b) in [
        ("refunds", "refund"),
        ("refunded", "refund"),
        ("cancelled", "cancel"),
        ("canceling", "cancel"),
        ("charges", "charge"),
        ("charged", "charge"),
        ("boxes", "box"),
        ("policies", "policy"),
        ("topped", "top"),
    ] {
        assert_eq!(stem(a), stem(b), "{a} vs {b}");
    }
    assert_ne!(stem("address"), stem("addres"));
}

#[test]
fn parses_transcripts() {
    let u = parse_transcript(
        "Agent: Hello, how can I help?\nCustomer: My card\nwas declined.\nNote 10:30 call dropped",
    );
    assert_eq!(u.len(), 2);
    assert_eq!(u[0].speaker.as_deref(), Some("Agent"));
    assert_eq!(u[1].text, "My card was declined. Note 10:30 call dropped");
    let plain = parse_transcript("just text without labels");
    assert_eq!(plain[0].speaker, None);
}

#[test]
fn strips_replies_quotes_and_signatures() {
    let gmail = "Thanks, that fixed it.\n\nOn Tue, 3 Mar 2026 at 10:00, Support <help@example.com>\nwrote:\n> Terrible news, it is broken.\n";
    assert_eq!(strip_quoted_and_signature(gmail), "Thanks, that fixed it.");

    let outlook = "Still waiting.\n\nFrom: Ann Lee\nSent: Monday, March 2, 2026 9:00 AM\nTo: Support\nSubject: RE: broken\n\nOld angry text";
    assert_eq!(strip_quoted_and_signature(outlook), "Still waiting.");

    let original = "See below.\n-----Original Message-----\nFrom: x";
    assert_eq!(strip_quoted_and_signature(original), "See below.");

    let interleaved = "> you said Friday\nThat is too late.\n> ok?\nNo.";
    assert_eq!(
        strip_quoted_and_signature(interleaved),
        "That is too late.\nNo."
    );

    let delimiter = "The device is broken again.\n-- \nJohn Smith\nACME Corp | +1 415 555 2671";
    assert_eq!(
        strip_quoted_and_signature(delimiter),
        "The device is broken again."
    );

    let sign_off = "Please refund the order.\n\nBest regards,\nJohn Smith\nHead of Ops, ACME\n";
    assert_eq!(
        strip_quoted_and_signature(sign_off),
        "Please refund the order."
    );

    let mobile = "Call me.\n\nSent from my iPhone";
    assert_eq!(strip_quoted_and_signature(mobile), "Call me.");

    // A "thanks" in the middle, followed by a long paragraph, is content.
    let middle = "Thanks,\nbut the replacement you sent also stopped working after two days and I would like to return it for a full refund.";
    assert_eq!(strip_quoted_and_signature(middle), middle);
    assert_eq!(strip_quoted_and_signature("Thanks!"), "Thanks!");
}

#[test]
fn detects_languages_of_whole_messages() {
    let cases = [
        (
            "en",
            "Hello, I would like to know when my order will arrive, it has been two weeks.",
        ),
        (
            "de",
            "Guten Tag, ich möchte wissen, wann meine Bestellung ankommt. Es sind schon zwei Wochen.",
        ),
        (
            "fr",
            "Bonjour, je voudrais savoir quand ma commande arrivera, cela fait deux semaines.",
        ),
        (
            "es",
            "Hola, quisiera saber cuándo llegará mi pedido, ya han pasado dos semanas.",
        ),
    ];
    for (code, text) in cases {
        let lang = language::detect(text);
        assert_eq!(lang.as_ref().map(|l| l.code.as_str()), Some(code), "{text}");
        assert!(lang.is_some_and(|l| l.confidence > 0.5));
    }
    assert_eq!(language::detect("ok thx"), None);
    assert_eq!(language::detect(""), None);
}
