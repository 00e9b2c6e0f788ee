//! `commlog import cdr`: call-detail records from a PBX's CSV file become call logs. Each record
//! is created through the same path as an API call (validation, caller-ID matching to contacts,
//! audit), idempotent on the record's unique id, so importing a file twice adds nothing.

use commlog_domain::{CommunicationType, Direction, NewCommunicationLog, NewParticipant, Role};
use commlog_ingest::cdr::{CdrImporter, CdrRecord, MAX_CDR_LINE_BYTES};
use commlog_ingest::cdr_profile::CdrProfile;
use commlog_ingest::event::CallOutcome;
use commlog_ingest::tz::PbxTimeZone;
use commlog_store::{Scope, Store, StoreError};
use serde::Serialize;
use std::io::BufRead;
use uuid::Uuid;

/// What an import did; the first rejected lines are listed with their reasons.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub imported: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub rejected_lines: Vec<RejectedLine>,
}

#[derive(Debug, Serialize)]
pub struct RejectedLine {
    pub line: usize,
    pub reason: String,
}

/// How many rejected lines the report spells out.
const LISTED_REJECTIONS: usize = 50;

/// Imports `reader` (CDR CSV in `profile`, local times in `time_zone`) into `company_id`,
/// acting as `as_user` or else the company's first active admin.
pub async fn import_cdr(
    store: &Store,
    company_id: Uuid,
    reader: impl BufRead,
    profile: &str,
    time_zone: &str,
    as_user: Option<&str>,
) -> anyhow::Result<ImportReport> {
    let profile: CdrProfile = profile
        .parse()
        .map_err(|e| anyhow::anyhow!("--profile: {e}"))?;
    let time_zone = PbxTimeZone::iana(time_zone).map_err(|e| anyhow::anyhow!("--timezone: {e}"))?;
    let importer = CdrImporter::new(profile, time_zone);
    let scope = acting_scope(store, company_id, as_user).await?;
    let country = store.get_company(&scope).await?.default_country_code;
    let mut report = ImportReport::default();
    let reject = |report: &mut ImportReport, line: usize, reason: String| {
        report.rejected += 1;
        if report.rejected_lines.len() < LISTED_REJECTIONS {
            report.rejected_lines.push(RejectedLine { line, reason });
        }
    };
    let mut reader = reader;
    let mut raw = Vec::new();
    for i in 0.. {
        let Some(fits) = read_line_bounded(&mut reader, &mut raw, MAX_CDR_LINE_BYTES)? else {
            break;
        };
        if !fits {
            reject(
                &mut report,
                i + 1,
                format!("line is longer than {MAX_CDR_LINE_BYTES} bytes"),
            );
            continue;
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = match importer.parse_line(i + 1, &raw) {
            Ok(r) => r,
            Err(e) => {
                reject(&mut report, e.line, e.reason);
                continue;
            }
        };
        match store
            .create_log(&scope, call_log(&record, country.as_deref()), None)
            .await
        {
            Ok(created) if created.duplicate => report.duplicates += 1,
            Ok(_) => report.imported += 1,
            Err(StoreError::Invalid(errors)) => reject(&mut report, i + 1, errors.to_string()),
            Err(other) => return Err(other.into()),
        }
        let done = report.imported + report.duplicates + report.rejected;
        if done % 1000 == 0 {
            eprintln!(
                "{done} records: {} imported, {} duplicates, {} rejected",
                report.imported, report.duplicates, report.rejected
            );
        }
    }
    Ok(report)
}

/// Reads one line into `line` (without its `\n`), never holding more than `max` bytes of it:
/// `None` at the end of input, `Some(false)` for a longer line (skipped to its end).
fn read_line_bounded(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    line.clear();
    let mut fits = true;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok((!fits || !line.is_empty()).then_some(fits));
        }
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(end) => (&chunk[..end], Some(end + 1)),
            None => (chunk, None),
        };
        if fits && line.len() + part.len() <= max {
            line.extend_from_slice(part);
        } else {
            fits = false;
            line.clear();
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(fits));
        }
    }
}

pub(crate) async fn acting_scope(
    store: &Store,
    company_id: Uuid,
    as_user: Option<&str>,
) -> anyhow::Result<Scope> {
    let probe = Scope::admin(company_id, Uuid::nil());
    store
        .get_company(&probe)
        .await
        .map_err(|_| anyhow::anyhow!("no company {company_id}"))?;
    let users = store.list_users(&probe, &Default::default()).await?;
    let user = match as_user {
        Some(email) => users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email) && u.is_active),
        None => users.iter().find(|u| u.role == Role::Admin && u.is_active),
    }
    .ok_or_else(|| {
        anyhow::anyhow!("no active user to attribute the import to (use --as-user EMAIL)")
    })?;
    Ok(Scope::new(commlog_domain::Actor {
        company_id,
        user_id: user.id,
        role: user.role,
        team_id: user.team_id,
        compliance: user.is_compliance,
        limited_to: None,
    }))
}

/// The log a record becomes. Numbers that are not E.164 (internal extensions) stay in the text.
fn call_log(r: &CdrRecord, country: Option<&str>) -> NewCommunicationLog {
    // Without a direction in the record, a short source number is one of ours (an extension).
    let direction = r.direction.unwrap_or(if digits(&r.src) <= 6 {
        Direction::Outbound
    } else {
        Direction::Inbound
    });
    let caller = match &r.caller_name {
        Some(name) if !name.is_empty() => format!("{name} <{}>", r.src),
        _ => r.src.clone(),
    };
    let talk = r
        .billsec
        .filter(|s| *s > 0)
        .map(|s| format!(", talked {s} s"))
        .unwrap_or_default();
    let disposition = r
        .disposition
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let content = format!(
        "{} call from {caller} to {}{talk}. Imported from {} CDR{disposition}.",
        outcome_text(r.outcome),
        r.dst,
        r.source.as_str()
    );
    let participants = NewParticipant::call_parties(&r.src, r.caller_name.clone(), &r.dst, country);
    let kind = if r.outcome == CallOutcome::Voicemail {
        CommunicationType::Voicemail
    } else {
        CommunicationType::Call
    };
    let mut log = NewCommunicationLog::minimal(kind, "phone", direction, r.start, content);
    log.end_time = r.end.filter(|e| *e >= r.start);
    log.duration_seconds = r.duration_seconds.and_then(|d| i64::try_from(d).ok());
    log.call_outcome = r.outcome.as_str().parse().ok();
    log.is_internal = direction == Direction::Internal;
    log.source = Some(r.source.as_str().to_owned());
    log.external_id = Some(r.dedupe_key.chars().take(500).collect());
    log.participants = participants;
    log
}

pub(crate) fn digits(number: &str) -> usize {
    number.chars().filter(char::is_ascii_digit).count()
}

pub(crate) fn outcome_text(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::Answered => "Answered",
        CallOutcome::NoAnswer => "Unanswered",
        CallOutcome::Busy => "Busy",
        CallOutcome::Failed => "Failed",
        CallOutcome::Voicemail => "Voicemail",
        CallOutcome::Canceled => "Canceled",
    }
}

#[cfg(test)]
mod tests {
    use super::read_line_bounded;

    fn lines(input: &[u8], max: usize) -> Vec<(bool, Vec<u8>)> {
        // A tiny buffer makes lines span several reads.
        let mut reader = std::io::BufReader::with_capacity(3, input);
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(fits) = read_line_bounded(&mut reader, &mut line, max).expect("read") {
            out.push((fits, line.clone()));
        }
        out
    }

    #[test]
    fn lines_are_read_whole_and_long_ones_skipped_without_buffering_them() {
        let got = lines(b"ab\n\nabcdefgh\ncd", 5);
        assert_eq!(
            got,
            vec![
                (true, b"ab".to_vec()),
                (true, vec![]),
                (false, vec![]),
                (true, b"cd".to_vec())
            ]
        );
        assert_eq!(lines(b"ab\n", 5), vec![(true, b"ab".to_vec())]);
        assert_eq!(lines(b"", 5), vec![]);
        assert_eq!(lines(&[b'x'; 100], 5), vec![(false, vec![])]);
    }
}
