//! E-mail messages → [`ParsedEmail`]: addresses, threading headers, the date, plain text (from
//! HTML when that is all there is, never rendered), the new text of a reply without its quote
//! and signature, attachments, and whether the mail was sent by a machine. MIME, legacy
//! charsets and encoded words are decoded by `mail-parser`; everything here is bounded, and
//! nothing panics on what it is given.

mod html;
pub mod mbox;
mod reply;

use crate::ParseError;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use html::html_to_text;
pub use reply::new_text;

/// Size limits for one message.
#[derive(Debug, Clone, Copy)]
pub struct EmailLimits {
    /// The whole raw message.
    pub max_message_bytes: usize,
    /// Attachments kept per message (the rest are counted, not kept).
    pub max_attachments: usize,
    /// Characters of body text kept.
    pub max_text_chars: usize,
}

impl Default for EmailLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 50 * 1024 * 1024,
            max_attachments: 100,
            max_text_chars: 1_000_000,
        }
    }
}

/// A mailbox: an address (lower-case) and its display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, if given.
    pub name: Option<String>,
    /// The address, lower-cased.
    pub address: String,
}

/// A file carried by the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAttachment {
    /// The file name as sent, or `part-N` when it has none.
    pub name: String,
    /// `type/subtype`.
    pub content_type: String,
    /// The decoded bytes.
    pub data: Vec<u8>,
    /// Shown inside the body (has a Content-ID or `inline` disposition).
    pub inline: bool,
}

/// What Commlog keeps of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// The Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// The messages this one answers (`In-Reply-To`), without angle brackets.
    pub in_reply_to: Vec<String>,
    /// The conversation's earlier messages (`References`), oldest first.
    pub references: Vec<String>,
    /// The decoded subject (at most 500 characters).
    pub subject: String,
    /// The Date header, when it is a real date.
    pub date: Option<OffsetDateTime>,
    /// `From`.
    pub from: Vec<Mailbox>,
    /// `To`.
    pub to: Vec<Mailbox>,
    /// `Cc`.
    pub cc: Vec<Mailbox>,
    /// `Bcc` (present on copies of sent mail).
    pub bcc: Vec<Mailbox>,
    /// The whole body as plain text.
    pub text: String,
    /// The text this message adds: without the quoted message it replies to or the signature.
    pub new_text: String,
    /// The files it carries (up to [`EmailLimits::max_attachments`]).
    pub attachments: Vec<EmailAttachment>,
    /// Attachments beyond [`EmailLimits::max_attachments`], not kept.
    pub dropped_attachments: usize,
    /// Why the message looks machine-sent (auto-reply, bounce, bulk), if it does.
    pub automated: Option<String>,
    /// SHA-256 of the raw message, to recognise a message without a Message-ID.
    pub content_hash: String,
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|s| s.trim().trim_matches(['<', '>']).to_owned())
        .filter(|s| !s.is_empty() && s.len() <= 500)
        .take(100)
        .collect()
}

fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(a) = a else { return Vec::new() };
    a.iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim().to_lowercase();
            let valid = address.len() <= 320
                && address
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
                && !address.contains(char::is_whitespace);
            valid.then(|| Mailbox {
                name: addr
                    .name()
                    .map(|n| {
                        n.trim()
                            .chars()
                            .filter(|c| !c.is_control())
                            .take(200)
                            .collect::<String>()
                    })
                    .filter(|n| !n.is_empty()),
                address,
            })
        })
        .take(500)
        .collect()
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Why a message looks sent by a machine (RFC 3834 `Auto-Submitted`, delivery reports, bulk
/// and list mail), if it does.
fn automated(m: &mail_parser::Message<'_>, from: &[Mailbox]) -> Option<String> {
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if let Some(a) = header("Auto-Submitted").filter(|v| !v.starts_with("no")) {
        return Some(format!("auto-submitted: {a}"));
    }
    if m.root_part().is_content_type("multipart", "report") {
        return Some("delivery or read report".into());
    }
    if let Some(p) = header("Precedence")
        .filter(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
    {
        return Some(format!("precedence: {p}"));
    }
    if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() {
        return Some("auto-reply".into());
    }
    let sender = from.first().map(|f| f.address.as_str()).unwrap_or("");
    let local = sender.split('@').next().unwrap_or("");
    if matches!(local, "mailer-daemon" | "postmaster") {
        return Some(format!("sent by {local}"));
    }
    None
}

/// Parses one raw message.
pub fn parse_email(raw: &[u8], limits: &EmailLimits) -> Result<ParsedEmail, ParseError> {
    if raw.len() > limits.max_message_bytes {
        return Err(ParseError::TooLarge {
            limit: limits.max_message_bytes,
            actual: raw.len(),
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::malformed("the message is empty"));
    }
    let m = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| ParseError::malformed("not an e-mail message"))?;
    let from = mailboxes(m.from());
    let to = mailboxes(m.to());
    let cc = mailboxes(m.cc());
    let bcc = mailboxes(m.bcc());
    let has_headers = m.headers().iter().any(|h| !h.name().is_empty());
    if !has_headers
        || (from.is_empty() && to.is_empty() && m.subject().is_none() && m.message_id().is_none())
    {
        return Err(ParseError::malformed(
            "no sender, recipient, subject or Message-ID: not an e-mail message",
        ));
    }
    // A plain-text body as sent; otherwise Commlog's own extraction from the HTML one.
    let plain = m
        .text_part(0)
        .filter(|p| !p.is_content_type("text", "html"))
        .and_then(|_| m.body_text(0))
        .filter(|t| !t.trim().is_empty());
    let text = match plain {
        Some(t) => t.into_owned(),
        None => m.body_html(0).map(|h| html_to_text(&h)).unwrap_or_default(),
    };
    let text = truncate(text.trim(), limits.max_text_chars);
    let new = new_text(&text);
    let date = m
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| OffsetDateTime::from_unix_timestamp(d.to_timestamp()).ok());
    let mut attachments = Vec::new();
    let mut dropped = 0;
    for (i, part) in m.attachments().enumerate() {
        if attachments.len() >= limits.max_attachments {
            dropped += 1;
            continue;
        }
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let inline = part.content_id().is_some()
            || part
                .content_disposition()
                .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline"));
        let name = part
            .attachment_name()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("part-{}", i + 1));
        attachments.push(EmailAttachment {
            name: truncate(&name, 255),
            content_type: truncate(&content_type, 100),
            data: part.contents().to_vec(),
            inline,
        });
    }
    let auto = automated(&m, &from);
    Ok(ParsedEmail {
        message_id: m
            .message_id()
            .map(|id| id.trim().trim_matches(['<', '>']).to_owned())
            .filter(|id| !id.is_empty() && id.len() <= 500),
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        subject: truncate(m.subject().unwrap_or("").trim(), 500),
        date,
        from,
        to,
        cc,
        bcc,
        new_text: new,
        text,
        attachments,
        dropped_attachments: dropped,
        automated: auto,
        content_hash: hex::encode(Sha256::digest(raw)),
    })
}

/// A subject without its reply and forward prefixes (`Re:`, `Fwd:`, `AW:`, `SV:`, `[tag]` …),
/// lower-cased: messages of one conversation share it.
pub fn thread_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let stripped = [
            "re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "tr:", "rif:", "antw:",
        ]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| &s[p.len()..]);
        match stripped {
            Some(rest) => s = rest.trim_start(),
            None => break,
        }
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests;
