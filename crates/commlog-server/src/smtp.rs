//! The forwarding address: a small SMTP listener (`commlog serve --smtp-bind ADDR`) that accepts
//! mail for each company's secret address, `capture-<token>@<any domain>`, so users can BCC or
//! forward conversations into Commlog. Each message is captured through the e-mail pipeline
//! before `250` is answered, so an accepted message is stored. Plain SMTP only: run it on a
//! private address or behind the company's MTA, which relays to it.

use crate::capture::email::{EmailCapture, EmailOutcome};
use crate::state::AppState;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// The local-part prefix of capture addresses.
pub const ADDRESS_PREFIX: &str = "capture-";
/// The largest message accepted.
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
/// Recipients per message.
const MAX_RECIPIENTS: usize = 100;
/// How long a client may stay silent.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest command line (RFC 5321 says 512; be lenient).
const MAX_LINE: usize = 4096;

/// Accepts SMTP connections until the process ends.
pub async fn serve(listener: TcpListener, app: AppState) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let app = app.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, &app).await {
                        tracing::debug!("smtp session ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("smtp accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The token of a capture address (`capture-<token>@domain`), if it is one.
pub fn token_of(address: &str) -> Option<&str> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let token = local.strip_prefix(ADDRESS_PREFIX)?;
    (token.len() >= 16 && token.len() <= 64 && token.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(token)
}

/// Reads one line (without CRLF); `None` at the end of the stream. Longer lines are an error.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<()>> {
    line.clear();
    let read = tokio::time::timeout(
        IDLE_TIMEOUT,
        (&mut *reader)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', line),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some(()))
}

use tokio::io::AsyncReadExt;

async fn session(stream: TcpStream, app: &AppState) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 commlog ESMTP ready\r\n").await?;
    let mut line = Vec::new();
    let mut sender: Option<String> = None;
    let mut companies: BTreeSet<(Uuid, String)> = BTreeSet::new();
    let mut recipients = 0;
    while read_line(&mut reader, &mut line).await?.is_some() {
        let text = String::from_utf8_lossy(&line).into_owned();
        let upper = text.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            format!(
                "250-commlog\r\n250-SIZE {MAX_MESSAGE_BYTES}\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            )
        } else if upper.starts_with("HELO") {
            "250 commlog\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            let declared = upper
                .split_whitespace()
                .find_map(|p| p.strip_prefix("SIZE="))
                .and_then(|n| n.parse::<usize>().ok());
            if declared.is_some_and(|n| n > MAX_MESSAGE_BYTES) {
                "552 5.3.4 message too large\r\n".into()
            } else {
                sender = Some(text[10..].trim().to_owned());
                companies.clear();
                recipients = 0;
                "250 2.1.0 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let address = text[8..].split_whitespace().next().unwrap_or("").to_owned();
            if sender.is_none() {
                "503 5.5.1 MAIL first\r\n".into()
            } else if recipients >= MAX_RECIPIENTS {
                "452 4.5.3 too many recipients\r\n".into()
            } else {
                match token_of(&address) {
                    Some(token) => match app.store.company_by_capture_token(token).await {
                        Ok(Some(company)) => {
                            recipients += 1;
                            companies
                                .insert((company, address.trim_matches(['<', '>']).to_lowercase()));
                            "250 2.1.5 ok\r\n".into()
                        }
                        Ok(None) => "550 5.1.1 no such capture address\r\n".into(),
                        Err(_) => "451 4.3.0 try again later\r\n".into(),
                    },
                    None => "550 5.1.1 no such capture address\r\n".into(),
                }
            }
        } else if upper == "DATA" {
            if companies.is_empty() {
                "503 5.5.1 RCPT first\r\n".into()
            } else {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let reply = match read_data(&mut reader).await? {
                    Some(message) => deliver(app, &companies, &message).await,
                    None => "552 5.3.4 message too large\r\n".into(),
                };
                sender = None;
                companies.clear();
                recipients = 0;
                reply
            }
        } else if upper == "RSET" {
            sender = None;
            companies.clear();
            recipients = 0;
            "250 2.0.0 ok\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else if upper.starts_with("STARTTLS") {
            "502 5.5.1 not offered: relay through your MTA for TLS\r\n".into()
        } else {
            "500 5.5.2 unknown command\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

/// Reads the message after DATA up to the lone `.` line, undoing dot-stuffing. `None` when it
/// is larger than the limit (read to its end all the same, so the session can go on).
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = tokio::time::timeout(
            IDLE_TIMEOUT,
            (&mut *reader)
                .take(MAX_LINE as u64 * 16)
                .read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the client left during DATA",
            ));
        }
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content == b"." {
            return Ok((!too_large).then_some(message));
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        if message.len() + unstuffed.len() > MAX_MESSAGE_BYTES {
            too_large = true;
            message = Vec::new();
        } else if !too_large {
            message.extend_from_slice(unstuffed);
        }
    }
}

/// Captures the message for every company addressed; `250` only once each has it.
async fn deliver(app: &AppState, companies: &BTreeSet<(Uuid, String)>, message: &[u8]) -> String {
    let mut done: BTreeSet<Uuid> = BTreeSet::new();
    for (company, address) in companies {
        if !done.insert(*company) {
            continue;
        }
        let outcome = async {
            let scope = crate::import::acting_scope(&app.store, *company, None).await?;
            let capture = EmailCapture::new(
                &app.store,
                app.blobs.as_ref(),
                scope,
                app.limits.max_attachment_bytes,
            )
            .await?;
            capture.ingest(message, &format!("smtp:{address}")).await
        }
        .await;
        match outcome {
            // Stored, already stored, kept aside or left out by policy: accepted either way.
            Ok(
                EmailOutcome::Imported(_)
                | EmailOutcome::Duplicate(_)
                | EmailOutcome::Quarantined { .. }
                | EmailOutcome::Skipped(_),
            ) => {}
            Err(e) => {
                tracing::warn!(%company, "smtp capture failed: {e:#}");
                return "451 4.3.0 could not store the message, try again later\r\n".into();
            }
        }
    }
    "250 2.0.0 captured\r\n".into()
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn capture_addresses_are_recognised() {
        assert_eq!(
            token_of("<capture-abcdefghijklmnop1234@crm.example.com>"),
            Some("abcdefghijklmnop1234")
        );
        assert_eq!(
            token_of("capture-abcdefghijklmnop1234"),
            Some("abcdefghijklmnop1234")
        );
        for other in [
            "<sales@crm.example.com>",
            "<capture-short@x>",
            "<capture-abc/def../ghijklmnop@x>",
            "<>",
        ] {
            assert_eq!(token_of(other), None, "{other}");
        }
    }
}
