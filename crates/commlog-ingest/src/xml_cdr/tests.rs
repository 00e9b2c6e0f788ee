//! Every `encode` mode, epochs and stamps, and hostile documents.

use super::*;
use crate::event::CallOutcome;
use time::macros::datetime;

const SAMPLE: &str = r#"<?xml version="1.0"?>
<cdr core-uuid="6d4a5b0e-1111-4222-8333-444455556666" switchname="pbx1">
  <channel_data><state>CS_REPORTING</state><direction>inbound</direction></channel_data>
  <variables>
    <direction>inbound</direction>
    <uuid>a1b2c3d4-0000-4000-8000-000000000010</uuid>
    <caller_id_name>Alice%20O%27Neil</caller_id_name>
    <caller_id_number>%2B14155550100</caller_id_number>
    <start_stamp>2026-11-24%2010%3A00%3A00</start_stamp>
    <answer_stamp>2026-11-24%2010%3A00%3A05</answer_stamp>
    <end_stamp>2026-11-24%2010%3A01%3A05</end_stamp>
    <start_epoch>1795532400</start_epoch>
    <answer_epoch>1795532405</answer_epoch>
    <end_epoch>1795532465</end_epoch>
    <duration>65</duration>
    <billsec>60</billsec>
    <hangup_cause>NORMAL_CLEARING</hangup_cause>
    <last_app>bridge</last_app>
    <last_arg>user/2002@default&amp;x=1&#38;y=&lt;2&gt;</last_arg>
    <accountcode><![CDATA[acct&7]]></accountcode>
  </variables>
  <app_log><application app_name="bridge" app_data="user/2002"/></app_log>
  <callflow dialplan="XML" profile_index="1">
    <extension name="local" number="2002"><application app_name="bridge" app_data="user/2002"/></extension>
    <caller_profile>
      <username>1001</username>
      <caller_id_name>Alice O'Neil</caller_id_name>
      <destination_number>2002</destination_number>
      <context>default</context>
      <originatee><originatee_caller_profile><destination_number>9998</destination_number></originatee_caller_profile></originatee>
    </caller_profile>
  </callflow>
  <callflow dialplan="XML" profile_index="0">
    <caller_profile><destination_number>9999</destination_number></caller_profile>
  </callflow>
</cdr>
"#;

fn ny() -> PbxTimeZone {
    PbxTimeZone::iana("America/New_York").expect("zone")
}

fn check_sample(r: &CdrRecord) {
    assert_eq!(r.source, CallSource::FreeSwitch);
    assert_eq!(r.dedupe_key, "a1b2c3d4-0000-4000-8000-000000000010");
    assert_eq!(r.src, "+14155550100");
    assert_eq!(r.caller_name.as_deref(), Some("Alice O'Neil"));
    assert_eq!(r.dst, "2002");
    assert_eq!(r.context.as_deref(), Some("default"));
    assert_eq!(r.account_code.as_deref(), Some("acct&7"));
    assert_eq!(r.direction, Some(Direction::Inbound));
    assert_eq!(r.start, datetime!(2026-11-24 15:00:00 UTC));
    assert_eq!(r.answer, Some(datetime!(2026-11-24 15:00:05 UTC)));
    assert_eq!(r.end, Some(datetime!(2026-11-24 15:01:05 UTC)));
    assert_eq!((r.duration_seconds, r.billsec), (Some(65), Some(60)));
    assert_eq!(r.outcome, CallOutcome::Answered);
    assert_eq!(r.disposition.as_deref(), Some("NORMAL_CLEARING"));
}

#[test]
fn every_encoding_yields_the_same_record() {
    let url: String = form_urlencoded::byte_serialize(SAMPLE.as_bytes()).collect();
    let b64 = STANDARD.encode(SAMPLE);
    let b64_escaped: String = form_urlencoded::byte_serialize(b64.as_bytes()).collect();
    let cases: Vec<(Option<&str>, String, XmlCdrEncoding)> = vec![
        (Some("text/xml"), SAMPLE.to_owned(), XmlCdrEncoding::TextXml),
        (None, SAMPLE.to_owned(), XmlCdrEncoding::TextXml),
        (
            Some("application/x-www-form-plaintext"),
            format!("cdr={SAMPLE}"),
            XmlCdrEncoding::Raw,
        ),
        (None, format!("cdr={SAMPLE}"), XmlCdrEncoding::Raw),
        (
            Some("application/x-www-form-urlencoded"),
            format!("cdr={url}"),
            XmlCdrEncoding::UrlEncoded,
        ),
        (None, format!("cdr={url}"), XmlCdrEncoding::UrlEncoded),
        (
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            format!("uuid=x&cdr={url}"),
            XmlCdrEncoding::UrlEncoded,
        ),
        (
            Some("application/x-www-form-base64-encoded"),
            format!("cdr={b64}"),
            XmlCdrEncoding::Base64,
        ),
        (None, format!("cdr={b64}"), XmlCdrEncoding::Base64),
        (None, format!("cdr={b64_escaped}"), XmlCdrEncoding::Base64),
        (None, format!("\u{feff}{SAMPLE}"), XmlCdrEncoding::TextXml),
    ];
    for (ct, body, expected) in cases {
        let (enc, xml) = decode_body(ct, body.as_bytes()).expect("decode");
        assert_eq!(enc, expected, "{ct:?}");
        assert_eq!(xml.trim(), SAMPLE.trim(), "{ct:?}");
        let r = parse_body(ct, body.as_bytes(), &ny()).expect("record");
        check_sample(&r);
    }
}

#[test]
fn unanswered_calls_and_stamps() {
    let missed = SAMPLE
        .replace(
            "<answer_epoch>1795532405</answer_epoch>",
            "<answer_epoch>0</answer_epoch>",
        )
        .replace("<billsec>60</billsec>", "<billsec>0</billsec>")
        .replace("NORMAL_CLEARING", "ORIGINATOR_CANCEL");
    let r = parse_xml(&missed, &ny()).expect("record");
    assert_eq!((r.answer, r.outcome), (None, CallOutcome::Canceled));

    // Without epochs, the local stamps are read in the PBX's zone.
    let stamps: String = SAMPLE
        .lines()
        .filter(|l| !l.contains("_epoch>"))
        .collect::<Vec<_>>()
        .join("\n");
    let r = parse_xml(&stamps, &ny()).expect("stamps");
    check_sample(&r);
    let utc = parse_xml(&stamps, &PbxTimeZone::utc()).expect("utc");
    assert_eq!(utc.start, datetime!(2026-11-24 10:00:00 UTC));
    let ev = r.to_call_event();
    assert_eq!(ev.external_id, "a1b2c3d4-0000-4000-8000-000000000010");
}

#[test]
fn missing_and_invalid_fields_say_which() {
    for (from, to, why) in [
        (
            "<uuid>a1b2c3d4-0000-4000-8000-000000000010</uuid>",
            "",
            "`uuid` is missing",
        ),
        (
            "<destination_number>2002</destination_number>",
            "",
            "`destination_number` is missing",
        ),
        (
            "<duration>65</duration>",
            "<duration>6x</duration>",
            "`duration` is invalid",
        ),
        (
            "<start_epoch>1795532400</start_epoch>",
            "<start_epoch>soon</start_epoch>",
            "`start_epoch` is invalid",
        ),
        (
            "<end_epoch>1795532465</end_epoch>",
            "<end_epoch>99999999999999999</end_epoch>",
            "out of range",
        ),
    ] {
        let xml = SAMPLE
            .replace(from, to)
            .replace("<destination_number>9999</destination_number>", "");
        let err = parse_xml(&xml, &ny()).expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn bad_bodies_are_refused() {
    let cases: Vec<(Option<&str>, Vec<u8>, &str)> = vec![
        (None, b"hello".to_vec(), "expected a `cdr=`"),
        (None, b"cdr=!!!not-base64!!!".to_vec(), "not valid base64"),
        (None, b"cdr=%FF%FE".to_vec(), "invalid UTF-8"),
        (None, vec![0xff, 0xfe], "not UTF-8"),
        (
            None,
            vec![b' '; crate::MAX_WEBHOOK_BYTES + 1],
            "more than the limit",
        ),
    ];
    for (ct, body, why) in cases {
        let err = decode_body(ct, &body).expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn malformed_documents_are_refused() {
    for (xml, why) in [
        (
            "<cdr><variables><uuid>x</variables></cdr>",
            "not well-formed",
        ),
        ("<cdr><variables>", "ends inside an element"),
        ("<record><uuid>x</uuid></record>", "expected one `cdr`"),
        ("<cdr/><cdr/>", "expected one `cdr`"),
        ("just text", "no `cdr` element"),
        ("", "no `cdr` element"),
        (
            "<cdr><variables><uuid>&#0;</uuid></variables></cdr>",
            "invalid entity",
        ),
    ] {
        let err = parse_xml(xml, &ny()).expect_err(why).to_string();
        assert!(err.contains(why), "{xml}: {err}");
    }
}

#[test]
fn entity_expansion_attacks_are_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<cdr><variables><uuid>&lol9;</uuid></variables></cdr>"#;
    let err = parse_xml(laughs, &ny()).expect_err("doctype").to_string();
    assert!(err.contains("DOCTYPE is not allowed"), "{err}");
    let external = r#"<!DOCTYPE cdr [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><cdr><variables><uuid>&xxe;</uuid></variables></cdr>"#;
    assert!(parse_xml(external, &ny()).is_err());
    // Without a DOCTYPE, an undeclared entity is refused rather than kept or expanded.
    let bare = "<cdr><variables><uuid>&lol9;</uuid></variables></cdr>";
    let err = parse_xml(bare, &ny()).expect_err("entity").to_string();
    assert!(err.contains("`&lol9;`"), "{err}");
}

#[test]
fn deep_and_wide_documents_are_refused() {
    let deep = format!(
        "<cdr>{}{}</cdr>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    let err = parse_xml(&deep, &ny()).expect_err("deep").to_string();
    assert!(err.contains("nested more than 32"), "{err}");
    let wide = format!("<cdr>{}</cdr>", "<a/>".repeat(MAX_XML_ELEMENTS + 1));
    let err = parse_xml(&wide, &ny()).expect_err("wide").to_string();
    assert!(err.contains("more than 20000 elements"), "{err}");
}

#[test]
fn no_prefix_of_a_document_panics() {
    for end in (0..SAMPLE.len()).filter(|i| SAMPLE.is_char_boundary(*i)) {
        let _ = parse_xml(&SAMPLE[..end], &ny());
        let _ = decode_body(None, &SAMPLE.as_bytes()[..end]);
    }
}
