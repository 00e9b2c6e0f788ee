//! FreeSWITCH `mod_xml_cdr` pushes: the POST body in every `encode` mode (`cdr=` URL-encoded,
//! `cdr=` base64, `cdr=` raw XML with unescaped `&`/`=`, and `text/xml`), decoded, parsed with
//! bounded size and depth, and mapped to a [`CdrRecord`] (dedupe on its `uuid`).
//!
//! Hostile XML is refused: any `<!DOCTYPE>` (so no entity declarations, no billion laughs, no
//! external entities), entities other than the five predefined ones and character references,
//! nesting deeper than [`MAX_XML_DEPTH`] and more than [`MAX_XML_ELEMENTS`] elements.

use crate::MAX_WEBHOOK_BYTES;
use crate::cdr::{CdrRecord, resolve_times};
use crate::cdr_fields::hangup_cause_outcome;
use crate::error::{ParseError, check_size, parse_u64, shown};
use crate::event::CallSource;
use crate::tz::{PbxTimeZone, parse_local_stamp};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use commlog_domain::Direction;
use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;
use time::OffsetDateTime;

/// The deepest element nesting accepted (a FreeSWITCH CDR is about 6 deep).
pub const MAX_XML_DEPTH: usize = 32;
/// The most elements a CDR document may have.
pub const MAX_XML_ELEMENTS: usize = 20_000;

/// How the CDR was encoded in the request (`encode` in `xml_cdr.conf.xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlCdrEncoding {
    /// `encode=true`: `cdr=<URL-encoded XML>`.
    UrlEncoded,
    /// `encode=base64`: `cdr=<base64>`.
    Base64,
    /// `encode=false`: `cdr=<raw XML>`, not URL-encoded.
    Raw,
    /// `encode=textxml`: the body is the XML document.
    TextXml,
}

/// Extracts the XML document from a request body (at most [`MAX_WEBHOOK_BYTES`]).
/// `content_type` decides the encoding when it names one; otherwise it is recognised from
/// the body.
pub fn decode_body(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(XmlCdrEncoding, String), ParseError> {
    check_size(body, MAX_WEBHOOK_BYTES)?;
    let text =
        std::str::from_utf8(body).map_err(|_| ParseError::malformed("the body is not UTF-8"))?;
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if mime == "text/xml" || mime == "application/xml" || start.starts_with('<') {
        return Ok((XmlCdrEncoding::TextXml, start.to_owned()));
    }
    let value = if let Some(v) = start.strip_prefix("cdr=") {
        v
    } else if let Some((_, v)) = text.split_once("&cdr=") {
        v
    } else {
        return Err(ParseError::malformed(
            "expected a `cdr=` form field or an XML document",
        ));
    };
    // Only raw XML may contain `&`; the encoded forms end at the next field.
    let encoded = value.split('&').next().unwrap_or("").trim();
    let encoding = match mime.as_str() {
        _ if value.trim_start().starts_with('<') => XmlCdrEncoding::Raw,
        "application/x-www-form-plaintext" => XmlCdrEncoding::Raw,
        "application/x-www-form-base64-encoded" => XmlCdrEncoding::Base64,
        "application/x-www-form-urlencoded" => XmlCdrEncoding::UrlEncoded,
        _ if encoded.starts_with('%') => XmlCdrEncoding::UrlEncoded,
        _ => XmlCdrEncoding::Base64,
    };
    let xml = match encoding {
        XmlCdrEncoding::Raw | XmlCdrEncoding::TextXml => value.to_owned(),
        XmlCdrEncoding::UrlEncoded => {
            let plus_as_space = encoded.replace('+', " ");
            percent_encoding::percent_decode_str(&plus_as_space)
                .decode_utf8()
                .map_err(|_| ParseError::invalid("cdr", "URL-decodes to invalid UTF-8"))?
                .into_owned()
        }
        XmlCdrEncoding::Base64 => {
            // A proxy may have URL-encoded the base64 alphabet's `+`, `/` and `=`.
            let unescaped = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
            let compact: String = unescaped.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| ParseError::invalid("cdr", "is not valid base64"))?;
            String::from_utf8(bytes)
                .map_err(|_| ParseError::invalid("cdr", "base64-decodes to invalid UTF-8"))?
        }
    };
    Ok((encoding, xml))
}

/// Decodes and parses a `mod_xml_cdr` request body; stamps without epochs are read in `tz`.
pub fn parse_body(
    content_type: Option<&str>,
    body: &[u8],
    tz: &PbxTimeZone,
) -> Result<CdrRecord, ParseError> {
    let (_, xml) = decode_body(content_type, body)?;
    parse_xml(&xml, tz)
}

/// The values a CDR document carries: `cdr/variables/*` (URL-decoded) and the first
/// `cdr/callflow/caller_profile/*`.
#[derive(Default)]
struct Fields {
    variables: HashMap<String, String>,
    profile: HashMap<String, String>,
}

impl Fields {
    fn var(&self, key: &str) -> Option<&str> {
        self.variables
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn either(&self, key: &str) -> Option<&str> {
        self.var(key).or_else(|| {
            self.profile
                .get(key)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        })
    }
}

fn read_fields(xml: &str) -> Result<Fields, ParseError> {
    check_size(xml.as_bytes(), MAX_WEBHOOK_BYTES)?;
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut fields = Fields::default();
    let mut elements = 0usize;
    let mut callflow_done = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            ParseError::malformed(format!(
                "not well-formed XML near byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Eof => break,
            Event::DocType(_) => {
                return Err(ParseError::malformed(
                    "a DOCTYPE is not allowed (entity declarations are refused)",
                ));
            }
            Event::Start(e) => {
                open(&path, e.name().as_ref(), &mut elements)?;
                path.push(e.name().as_ref().to_owned());
                text.clear();
            }
            Event::Empty(e) => {
                open(&path, e.name().as_ref(), &mut elements)?;
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => text.push(resolve_reference(&r)?),
            Event::End(_) => {
                let leaf = path.pop().unwrap_or_default();
                let parents: Vec<&str> = path.iter().map(String::as_str).collect();
                match parents.as_slice() {
                    ["cdr", "variables"] => {
                        let value = percent_encoding::percent_decode_str(text.trim())
                            .decode_utf8_lossy()
                            .into_owned();
                        fields.variables.entry(leaf).or_insert(value);
                    }
                    ["cdr", "callflow", "caller_profile"] if !callflow_done => {
                        fields
                            .profile
                            .entry(leaf)
                            .or_insert_with(|| text.trim().to_owned());
                    }
                    ["cdr"] if leaf == "callflow" => callflow_done = true,
                    _ => {}
                }
                text.clear();
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !path.is_empty() {
        return Err(ParseError::malformed("the document ends inside an element"));
    }
    if elements == 0 {
        return Err(ParseError::malformed("no `cdr` element"));
    }
    Ok(fields)
}

/// Counts an opening element and checks the root name and the depth.
fn open(path: &[String], name: &str, elements: &mut usize) -> Result<(), ParseError> {
    *elements += 1;
    if *elements > MAX_XML_ELEMENTS {
        return Err(ParseError::malformed(format!(
            "more than {MAX_XML_ELEMENTS} elements"
        )));
    }
    if path.is_empty() && (name != "cdr" || *elements > 1) {
        return Err(ParseError::malformed(format!(
            "the root element is {}, expected one `cdr`",
            shown(name)
        )));
    }
    if path.len() >= MAX_XML_DEPTH {
        return Err(ParseError::malformed(format!(
            "elements are nested more than {MAX_XML_DEPTH} deep"
        )));
    }
    Ok(())
}

/// The five predefined entities and character references; anything else is refused.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, ParseError> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Ok(c);
    }
    let name: &str = r.as_ref();
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => Err(ParseError::malformed(format!(
            "undefined or invalid entity {}",
            shown(&format!("&{name};"))
        ))),
    }
}

/// Parses a `mod_xml_cdr` document into a record. Epoch fields (`start_epoch`, …) are used
/// when present; otherwise the `*_stamp` local times are read in `tz`.
pub fn parse_xml(xml: &str, tz: &PbxTimeZone) -> Result<CdrRecord, ParseError> {
    let f = read_fields(xml)?;
    let uuid = f
        .either("uuid")
        .ok_or_else(|| ParseError::missing("uuid"))?;
    crate::error::check_text("uuid", uuid, 256)?;
    let dst = f
        .either("destination_number")
        .ok_or_else(|| ParseError::missing("destination_number"))?;
    let number = |key: &str| f.var(key).map(|v| parse_u64(key, v)).transpose();
    let duration = number("duration")?;
    let billsec = number("billsec")?;
    let (start, answer, end) = if f.var("start_epoch").is_some() {
        let start = epoch(&f, "start_epoch")?.ok_or_else(|| ParseError::missing("start_epoch"))?;
        (start, epoch(&f, "answer_epoch")?, epoch(&f, "end_epoch")?)
    } else {
        let stamp = |key: &str| {
            f.var(key)
                .map(|v| parse_local_stamp(v).map_err(|e| ParseError::invalid(key, e)))
                .transpose()
        };
        let start = stamp("start_stamp")?.ok_or_else(|| ParseError::missing("start_epoch"))?;
        resolve_times(
            tz,
            start,
            stamp("answer_stamp")?,
            stamp("end_stamp")?,
            duration,
        )
        .map_err(|e| ParseError::invalid("start_stamp", e))?
    };
    let last_app = f.var("last_app").map(str::to_owned);
    let cause = f.var("hangup_cause").map(str::to_owned);
    let answered = answer.is_some() || billsec.is_some_and(|b| b > 0);
    let direction = match f.var("direction") {
        Some("inbound") => Some(Direction::Inbound),
        Some("outbound") => Some(Direction::Outbound),
        _ => None,
    };
    let owned = |key: &str| f.either(key).map(str::to_owned);
    Ok(CdrRecord {
        source: CallSource::FreeSwitch,
        line: None,
        dedupe_key: uuid.to_owned(),
        unique_id: Some(uuid.to_owned()),
        account_code: owned("accountcode"),
        src: owned("caller_id_number").unwrap_or_default(),
        dst: dst.to_owned(),
        caller_name: owned("caller_id_name"),
        context: owned("context"),
        channel: owned("chan_name").or_else(|| owned("channel_name")),
        dst_channel: None,
        outcome: hangup_cause_outcome(cause.as_deref(), answered, last_app.as_deref()),
        last_app,
        start,
        answer,
        end,
        duration_seconds: duration,
        billsec,
        disposition: cause,
        direction,
        user_field: None,
        linked_id: owned("bleg_uuid"),
        sequence: None,
    })
}

/// A unix-seconds variable; `0` (FreeSWITCH's "never") is `None`.
fn epoch(f: &Fields, key: &str) -> Result<Option<OffsetDateTime>, ParseError> {
    let Some(v) = f.var(key) else { return Ok(None) };
    let secs = parse_u64(key, v)?;
    if secs == 0 {
        return Ok(None);
    }
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map(Some)
        .ok_or_else(|| ParseError::invalid(key, format!("{} is out of range", shown(v))))
}

#[cfg(test)]
mod tests;
