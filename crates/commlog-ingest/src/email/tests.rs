//! Parsing real and hand-made messages: addresses, threading headers, charsets, HTML-only
//! bodies, attachments, machine-sent mail, and every message of the shared mail corpus.

use super::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REPLY: &str = "Message-ID: <r2@acme.example>\r\n\
In-Reply-To: <r1@globex.example>\r\n\
References: <r0@globex.example> <r1@globex.example>\r\n\
From: =?UTF-8?Q?Ann_M=C3=BCller?= <Ann@Globex.Example>\r\n\
To: sales@acme.example, \"Bob\" <bob@acme.example>\r\n\
Cc: boss@globex.example\r\n\
Subject: =?koi8-r?B?8NLJ18XU?= Re: Quote\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: multipart/alternative; boundary=\"b2\"\r\n\
\r\n\
--b2\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Please call me back tomorrow.\r\n\
\r\n\
On Mon, 23 Nov 2026, Bob <bob@acme.example> wrote:\r\n\
> Here is the quote.\r\n\
--b2\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Please call me back tomorrow.</p>\r\n\
--b2--\r\n\
--b1\r\n\
Content-Type: application/pdf; name=\"quote.pdf\"\r\n\
Content-Disposition: attachment; filename=\"quote.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--b1--\r\n";

#[test]
fn a_reply_with_an_attachment_is_read_whole() {
    let e = parse_email(REPLY.as_bytes(), &EmailLimits::default()).expect("parsed");
    assert_eq!(e.message_id.as_deref(), Some("r2@acme.example"));
    assert_eq!(e.in_reply_to, vec!["r1@globex.example"]);
    assert_eq!(e.references, vec!["r0@globex.example", "r1@globex.example"]);
    assert_eq!(e.subject, "Привет Re: Quote");
    assert_eq!(
        e.from,
        vec![Mailbox {
            name: Some("Ann Müller".into()),
            address: "ann@globex.example".into()
        }]
    );
    assert_eq!(
        e.to.iter().map(|m| m.address.as_str()).collect::<Vec<_>>(),
        ["sales@acme.example", "bob@acme.example"]
    );
    assert_eq!(e.cc.len(), 1);
    assert_eq!(e.date.map(|d| d.unix_timestamp()), Some(1_795_510_800));
    assert!(e.text.contains("> Here is the quote."));
    assert_eq!(e.new_text, "Please call me back tomorrow.");
    assert_eq!(e.attachments.len(), 1);
    assert_eq!(e.attachments[0].name, "quote.pdf");
    assert_eq!(e.attachments[0].content_type, "application/pdf");
    assert_eq!(e.attachments[0].data, b"%PDF-1.4\n");
    assert_eq!(e.automated, None);
    assert_eq!(e.content_hash.len(), 64);
}

#[test]
fn html_only_mail_becomes_text_and_machines_are_recognised() {
    let html = "From: noreply@shop.example\nTo: a@b.example\nSubject: Out of office\nAuto-Submitted: auto-replied\n\
        Content-Type: text/html\n\n<html><body><p>I am away&nbsp;until Monday.</p><script>x()</script></body></html>\n";
    let e = parse_email(html.as_bytes(), &EmailLimits::default()).expect("parsed");
    assert_eq!(e.text, "I am away until Monday.");
    assert_eq!(e.automated.as_deref(), Some("auto-submitted: auto-replied"));
    assert_eq!(e.message_id, None);
    let bounce = "From: MAILER-DAEMON@mx.example\nTo: a@b.example\nSubject: Undelivered\n\nsorry\n";
    let e = parse_email(bounce.as_bytes(), &EmailLimits::default()).expect("parsed");
    assert_eq!(e.automated.as_deref(), Some("sent by mailer-daemon"));
}

#[test]
fn what_is_not_mail_is_refused_with_a_reason() {
    let limits = EmailLimits {
        max_message_bytes: 100,
        ..EmailLimits::default()
    };
    assert!(matches!(
        parse_email(&[b'a'; 101], &limits),
        Err(ParseError::TooLarge { .. })
    ));
    assert!(parse_email(b"   \n\n", &limits).is_err());
    assert!(parse_email(b"just some words without any header", &limits).is_err());
}

#[test]
fn subjects_of_one_conversation_match() {
    assert_eq!(
        thread_subject("Re: RE: Fwd:  Quote  for Q4"),
        "quote for q4"
    );
    assert_eq!(thread_subject("AW: Angebot"), "angebot");
    assert_eq!(
        thread_subject("Quote for Q4"),
        thread_subject("re:quote for q4")
    );
}

/// The shared corpus of real and hostile mail, found from the workspace (or `COMMLOG_CORPORA`).
fn corpus() -> Option<PathBuf> {
    let from_env = std::env::var_os("COMMLOG_CORPORA").map(PathBuf::from);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        from_env,
        manifest
            .ancestors()
            .nth(3)
            .map(|p| p.join("shared/corpora")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|p| p.join("mail"))
        .find(|p| p.is_dir())
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if !path.extension().is_some_and(|e| {
            e == "py" || e == "md" || e == "txt" && path.to_string_lossy().contains("LICENSE")
        }) {
            out.push(path);
        }
    }
}

#[test]
fn every_message_of_the_mail_corpus_is_parsed_or_refused_quickly() {
    let Some(dir) = corpus() else {
        eprintln!("the shared mail corpus is not next to this checkout; set COMMLOG_CORPORA");
        return;
    };
    let mut all = Vec::new();
    files(&dir, &mut all);
    assert!(
        all.len() > 300,
        "only {} files under {}",
        all.len(),
        dir.display()
    );
    let limits = EmailLimits::default();
    let (mut parsed, mut refused, mut slowest) = (0, 0, (Duration::ZERO, PathBuf::new()));
    for path in &all {
        let raw = std::fs::read(path).expect("read");
        let t = Instant::now();
        let messages: Vec<Vec<u8>> = if path.to_string_lossy().contains("mbox") {
            mbox::MboxReader::new(raw.as_slice(), limits.max_message_bytes)
                .filter_map(|m| match m {
                    Ok(mbox::MboxItem::Message { raw, .. }) => Some(raw),
                    _ => None,
                })
                .collect()
        } else {
            vec![raw]
        };
        for m in messages {
            match std::panic::catch_unwind(|| parse_email(&m, &limits)) {
                Ok(Ok(e)) => {
                    parsed += 1;
                    assert!(e.text.chars().count() <= limits.max_text_chars);
                }
                Ok(Err(e)) => {
                    refused += 1;
                    if std::env::var_os("COMMLOG_VERBOSE").is_some() {
                        eprintln!("refused {}: {e}", path.display());
                    }
                }
                Err(_) => panic!("parsing {} panicked", path.display()),
            }
        }
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, path.clone());
        }
    }
    eprintln!(
        "{parsed} parsed, {refused} refused; slowest {:?} ({})",
        slowest.0,
        slowest.1.display()
    );
    assert!(parsed > 300, "{parsed} parsed, {refused} refused");
    assert!(
        slowest.0 < Duration::from_secs(5),
        "{} took {:?}",
        slowest.1.display(),
        slowest.0
    );
}

#[test]
fn hostile_mutants_of_real_mail_never_panic_or_hang() {
    let Some(dir) = corpus() else {
        eprintln!("the shared mail corpus is not next to this checkout; set COMMLOG_CORPORA");
        return;
    };
    let out = std::env::temp_dir().join(format!("commlog-mutants-{}", std::process::id()));
    // The corpus's own generator: seeded mutants (truncation, byte flips, header and boundary
    // damage) of its real messages.
    let made = std::process::Command::new("python3")
        .arg(dir.join("generated/gen.py"))
        .args([out.as_os_str(), "300".as_ref(), ".".as_ref()])
        .current_dir(&dir)
        .output()
        .expect("python3 runs the corpus generator");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut all = Vec::new();
    files(&out, &mut all);
    assert!(all.len() >= 300, "{} mutants", all.len());
    let limits = EmailLimits::default();
    let (mut parsed, mut refused) = (0, 0);
    for path in &all {
        let raw = std::fs::read(path).expect("read");
        let t = Instant::now();
        match std::panic::catch_unwind(|| parse_email(&raw, &limits)) {
            Ok(Ok(_)) => parsed += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("parsing {} panicked", path.display()),
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{} took {:?}",
            path.display(),
            t.elapsed()
        );
    }
    let _ = std::fs::remove_dir_all(&out);
    eprintln!("{parsed} mutants parsed, {refused} refused");
    assert_eq!(parsed + refused, all.len());
}
