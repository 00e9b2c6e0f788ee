//! Every column variant, quoting, empty answers, daylight-saving folds and gaps, and
//! malformed lines rejected with a reason.

use super::*;
use crate::cdr_profile::AsteriskColumns;
use time::macros::datetime;

const BASE16: &str = r#""","1001","2002","from-internal","""Alice"" <1001>","PJSIP/1001-00000001","PJSIP/2002-00000002","Dial","PJSIP/2002,30","2026-11-24 10:00:00","2026-11-24 10:00:05","2026-11-24 10:01:05",65,60,"ANSWERED","DOCUMENTATION""#;

fn importer(profile: &str, tz: &str) -> CdrImporter {
    CdrImporter::new(
        profile.parse().expect("profile"),
        PbxTimeZone::iana(tz).expect("zone"),
    )
}

fn ny(profile: &str) -> CdrImporter {
    importer(profile, "America/New_York")
}

fn line(s: &str) -> Result<CdrRecord, CdrLineError> {
    ny("asterisk").parse_line(1, s.as_bytes())
}

#[test]
fn asterisk_18_sample_line() {
    let s = format!(r#"{BASE16},"1764000000.1","""#);
    let r = line(&s).expect("record");
    assert_eq!(r.source, CallSource::Asterisk);
    assert_eq!(r.src, "1001");
    assert_eq!(r.dst, "2002");
    assert_eq!(r.caller_name.as_deref(), Some("Alice"));
    assert_eq!(r.context.as_deref(), Some("from-internal"));
    assert_eq!(r.last_app.as_deref(), Some("Dial"));
    assert_eq!(r.start, datetime!(2026-11-24 15:00:00 UTC));
    assert_eq!(r.answer, Some(datetime!(2026-11-24 15:00:05 UTC)));
    assert_eq!(r.end, Some(datetime!(2026-11-24 15:01:05 UTC)));
    assert_eq!((r.duration_seconds, r.billsec), (Some(65), Some(60)));
    assert_eq!(r.outcome, CallOutcome::Answered);
    assert_eq!(r.dedupe_key, "1764000000.1");
    assert_eq!(r.user_field, None);
    assert_eq!(r.line, Some(1));
    let ev = r.to_call_event();
    assert_eq!(ev.external_id, "1764000000.1");
    assert_eq!(ev.state, CallState::Ended);
    assert_eq!(ev.talk_seconds, Some(60));
    assert_eq!(ev.started_at, Some(datetime!(2026-11-24 15:00:00 UTC)));
}

#[test]
fn every_asterisk_variant_parses_and_requires_its_count() {
    let l16 = BASE16.to_owned();
    let l17 = format!(r#"{BASE16},"1764000000.2""#);
    let l18 = format!(r#"{BASE16},"1764000000.3","vip""#);
    let l21 = format!(r#"{BASE16},"1764000000.4","vip","","1764000000.0",7"#);
    let cases = [
        ("asterisk-16", &l16),
        ("asterisk-17", &l17),
        ("asterisk-18", &l18),
        ("asterisk-21", &l21),
    ];
    for (profile, l) in cases {
        let r = ny(profile).parse_line(3, l.as_bytes()).expect(profile);
        assert_eq!(r.outcome, CallOutcome::Answered, "{profile}");
        // The same line is accepted by auto, and refused by every other fixed variant.
        assert_eq!(ny("asterisk").parse_line(3, l.as_bytes()).as_ref(), Ok(&r));
        for (other, _) in cases.iter().filter(|(p, _)| *p != profile) {
            let err = ny(other).parse_line(3, l.as_bytes()).expect_err(other);
            assert_eq!(err.line, 3);
            assert!(err.reason.starts_with("expected "), "{}", err.reason);
        }
    }
    let r21 = ny("asterisk-21").parse_line(1, l21.as_bytes()).expect("21");
    assert_eq!(r21.linked_id.as_deref(), Some("1764000000.0"));
    assert_eq!(r21.sequence, Some(7));
    assert_eq!(r21.user_field.as_deref(), Some("vip"));
    assert_eq!(
        ny("asterisk-17")
            .parse_line(1, l17.as_bytes())
            .expect("17")
            .dedupe_key,
        "1764000000.2"
    );
}

#[test]
fn without_a_unique_id_the_raw_line_is_the_key() {
    let a = line(BASE16).expect("a");
    assert!(a.dedupe_key.starts_with("sha256:"));
    assert_eq!(a.dedupe_key.len(), "sha256:".len() + 64);
    assert_eq!(line(BASE16).expect("again").dedupe_key, a.dedupe_key);
    // The line break style does not change it.
    let crlf = ny("asterisk")
        .parse_line(1, format!("{BASE16}\r").as_bytes())
        .expect("crlf");
    assert_eq!(crlf.dedupe_key, a.dedupe_key);
    let other = line(&BASE16.replace("2002\"", "2003\"")).expect("other");
    assert_ne!(other.dedupe_key, a.dedupe_key);
}

#[test]
fn unanswered_calls_have_no_answer_time() {
    let s = BASE16
        .replace(r#""2026-11-24 10:00:05","#, ",")
        .replace("65,60,\"ANSWERED\"", "20,0,\"NO ANSWER\"")
        .replace("10:01:05", "10:00:20");
    let r = line(&s).expect("record");
    assert_eq!(r.answer, None);
    assert_eq!(r.outcome, CallOutcome::NoAnswer);
    for (d, o) in [
        ("BUSY", CallOutcome::Busy),
        ("FAILED", CallOutcome::Failed),
        ("CONGESTION", CallOutcome::Failed),
    ] {
        let r = line(&s.replace("NO ANSWER", d)).expect(d);
        assert_eq!(r.outcome, o, "{d}");
    }
    let vm = line(&BASE16.replace("\"Dial\"", "\"VoiceMail\"")).expect("vm");
    assert_eq!(vm.outcome, CallOutcome::Voicemail);
}

#[test]
fn quotes_inside_caller_names() {
    let s = BASE16.replace(
        r#""""Alice"" <1001>""#,
        r#""""Alice ""The Boss"" O'Neil"" <1001>""#,
    );
    let r = line(&s).expect("record");
    assert_eq!(r.caller_name.as_deref(), Some("Alice \"The Boss\" O'Neil"));
    let anon = BASE16
        .replace(r#""1001","2002""#, r#""","2002""#)
        .replace(r#""""Alice"" <1001>""#, r#""""Bob"" <+14155550100>""#);
    let r = line(&anon).expect("anonymous src");
    assert_eq!(r.src, "+14155550100");
}

#[test]
fn freeswitch_default_template() {
    let s = r#""Alice","1001","2002","default","2026-07-01 10:00:00","2026-07-01 10:00:04","2026-07-01 10:02:04","124","120","NORMAL_CLEARING","a1b2c3d4-0000-4000-8000-000000000001","", "acct7""#;
    let r = ny("freeswitch")
        .parse_line(1, s.as_bytes())
        .expect("record");
    assert_eq!(r.source, CallSource::FreeSwitch);
    assert_eq!(r.caller_name.as_deref(), Some("Alice"));
    assert_eq!(r.start, datetime!(2026-07-01 14:00:00 UTC));
    assert_eq!(r.billsec, Some(120));
    assert_eq!(r.outcome, CallOutcome::Answered);
    assert_eq!(r.account_code.as_deref(), Some("acct7"));
    assert_eq!(r.dedupe_key, "a1b2c3d4-0000-4000-8000-000000000001");
    let missed = s.replace(r#""2026-07-01 10:00:04""#, r#""""#).replace(
        r#""124","120","NORMAL_CLEARING""#,
        r#""30","0","ORIGINATOR_CANCEL""#,
    );
    let r = ny("freeswitch")
        .parse_line(1, missed.as_bytes())
        .expect("missed");
    assert_eq!((r.answer, r.outcome), (None, CallOutcome::Canceled));
    assert!(ny("freeswitch").parse_line(1, BASE16.as_bytes()).is_err());
}

#[test]
fn freeswitch_asterisk_compatible_template() {
    let s = r#""","1001","2002","default","""Alice"" <1001>","sofia/internal/1001@pbx","sofia/internal/2002@pbx","bridge","user/2002","2026-07-01 10:00:00","","2026-07-01 10:00:30","30","0","USER_BUSY","default","a1b2c3d4-0000-4000-8000-000000000002","""#;
    let r = ny("freeswitch-asterisk")
        .parse_line(1, s.as_bytes())
        .expect("record");
    assert_eq!(r.source, CallSource::FreeSwitch);
    assert_eq!(r.outcome, CallOutcome::Busy);
    assert_eq!(r.disposition.as_deref(), Some("USER_BUSY"));
    assert_eq!(r.caller_name.as_deref(), Some("Alice"));
}

#[test]
fn custom_column_map() {
    let p = "custom:src=1,dst=2,start=9,answer=10,end=11,billsec=13,disposition=14,uniqueid=16";
    let s = format!(r#"{BASE16},"1764000000.9""#);
    let r = ny(p).parse_line(1, s.as_bytes()).expect("record");
    assert_eq!(r.dedupe_key, "1764000000.9");
    assert_eq!(r.duration_seconds, None);
    assert_eq!(r.billsec, Some(60));
    assert_eq!(r.caller_name, None);
    let short = ny(p).parse_line(1, BASE16.as_bytes()).expect_err("short");
    assert_eq!(short.reason, "expected at least 17 columns, found 16");
}

#[test]
fn daylight_saving_fold_is_resolved_by_duration() {
    // 2026-11-01 in New York: 01:00–01:59 happens twice. A 60 s call from 01:59:30 EDT
    // ends at 01:00:30 EST: the end's wall time is before the start's.
    let s = BASE16
        .replace("2026-11-24 10:00:00", "2026-11-01 01:59:30")
        .replace("2026-11-24 10:00:05", "2026-11-01 01:59:35")
        .replace("2026-11-24 10:01:05", "2026-11-01 01:00:30")
        .replace("65,60", "60,55");
    let r = line(&s).expect("record");
    assert_eq!(r.start, datetime!(2026-11-01 05:59:30 UTC));
    assert_eq!(r.answer, Some(datetime!(2026-11-01 05:59:35 UTC)));
    assert_eq!(r.end, Some(datetime!(2026-11-01 06:00:30 UTC)));
    // Entirely inside the fold: the earlier reading wins.
    let inside = BASE16
        .replace("2026-11-24 10:00:00", "2026-11-01 01:30:00")
        .replace("2026-11-24 10:00:05", "2026-11-01 01:30:05")
        .replace("2026-11-24 10:01:05", "2026-11-01 01:31:05");
    let r = line(&inside).expect("record");
    assert_eq!(r.start, datetime!(2026-11-01 05:30:00 UTC));
    // In UTC the same wall time is just that.
    let utc = importer("asterisk", "UTC")
        .parse_line(1, inside.as_bytes())
        .expect("utc");
    assert_eq!(utc.start, datetime!(2026-11-01 01:30:00 UTC));
}

#[test]
fn daylight_saving_gap_is_rejected_with_a_reason() {
    let s = BASE16
        .replace("2026-11-24 10:00:00", "2026-03-08 02:30:00")
        .replace("2026-11-24 10:00:05", "2026-03-08 03:00:05")
        .replace("2026-11-24 10:01:05", "2026-03-08 03:01:05");
    let err = line(&s).expect_err("gap");
    assert_eq!(
        err.reason,
        "start: `2026-03-08 02:30:00` does not exist in America/New_York (skipped by a daylight-saving change)"
    );
}

#[test]
fn malformed_lines_are_rejected_with_a_reason() {
    let cases = [
        (BASE16.replacen(",65,", ",6x,", 1), "duration"),
        (BASE16.replacen(",60,", ",-60,", 1), "billsec"),
        (
            BASE16.replace("2026-11-24 10:00:00", "2026-11-31 10:00:00"),
            "start",
        ),
        (BASE16.replace("2026-11-24 10:00:05", "yesterday"), "answer"),
        (
            BASE16.replace(r#""2026-11-24 10:00:00""#, "\"\""),
            "`start` is empty",
        ),
        (BASE16.replace(r#""2002""#, "\"\""), "`dst` is empty"),
        (BASE16.replace("ANSWERED", "PROBABLY"), "disposition"),
        (BASE16.replace("10:01:05", "09:00:00"), "out of order"),
        (
            BASE16.replacen(r#""","#, "", 1),
            "expected 16, 17, 18 or 21 columns, found 15",
        ),
        ("just some text".to_owned(), "found 1"),
        ("x".repeat(MAX_CDR_LINE_BYTES + 1), "more than"),
    ];
    for (s, why) in cases {
        let err = line(&s).expect_err(why);
        assert!(err.reason.contains(why), "{why}: {}", err.reason);
        assert!(err.to_string().starts_with("line 1: "));
    }
}

#[test]
fn whole_files_report_per_line() {
    let good = format!(r#"{BASE16},"1764000000.1","""#);
    let file = format!(
        "\u{feff}{good}\r\n\r\n{}\n   \n{good}\n",
        BASE16.replace("ANSWERED", "??")
    );
    let imp = ny("asterisk-18");
    let results: Vec<_> = imp.parse(file.as_bytes()).collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().map(|r| r.line), Ok(Some(1)));
    assert_eq!(results[1].as_ref().map_err(|e| e.line), Err(3));
    assert_eq!(
        results[2].as_ref().map(|r| r.dedupe_key.as_str()),
        Ok("1764000000.1")
    );
}

#[test]
fn no_prefix_of_a_line_panics() {
    let imp = CdrImporter::new(
        CdrProfile::Asterisk(AsteriskColumns::Auto),
        PbxTimeZone::utc(),
    );
    let s = format!(r#"{BASE16},"1764000000.4","vip","","1764000000.0",7"#);
    for end in 0..=s.len() {
        let _ = imp.parse_line(1, &s.as_bytes()[..end]);
    }
    for bytes in [
        &b"\xff\xfe\x00,\"\"\"\""[..],
        b"\"",
        b",,,,,,,,,,,,,,,,",
        b"\r\r\r",
    ] {
        let _ = imp.parse_line(1, bytes);
    }
}
