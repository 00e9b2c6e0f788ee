//! CDR CSV import: Asterisk `Master.csv` and FreeSWITCH `mod_cdr_csv` files read line by line
//! under a configured [`CdrProfile`] and PBX time zone, each line becoming a [`CdrRecord`] or
//! a [`CdrLineError`] saying why it was rejected, so an importer can report imported,
//! duplicate (same [`CdrRecord::dedupe_key`]) and rejected lines.
//!
//! One physical line is one record (Asterisk and FreeSWITCH never write line breaks inside
//! fields); blank lines are skipped and a leading byte-order mark is ignored.

use crate::cdr_fields::{disposition_outcome, hangup_cause_outcome, parse_clid, split_csv_line};
use crate::cdr_profile::{CdrField, CdrProfile, ColumnMap};
use crate::error::parse_u64;
use crate::event::{CallEvent, CallOutcome, CallSource, CallState};
use crate::tz::{LocalTime, PbxTimeZone, format_local_stamp, parse_local_stamp};
use commlog_domain::Direction;
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime};

/// The longest CDR line accepted (Asterisk itself drops records over 1024 bytes).
pub const MAX_CDR_LINE_BYTES: usize = 8 * 1024;

/// One call-detail record, times in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrRecord {
    /// The PBX that wrote it.
    pub source: CallSource,
    /// The 1-based line it came from (CSV only).
    pub line: Option<usize>,
    /// Dedupe key: the `uniqueid`/`uuid`, or `sha256:<hex>` of the raw line when there is none.
    pub dedupe_key: String,
    /// `uniqueid` (Asterisk) or `uuid` (FreeSWITCH), when the file has one.
    pub unique_id: Option<String>,
    /// `accountcode`.
    pub account_code: Option<String>,
    /// The calling number or extension (`src`, else the number in `clid`); empty if withheld.
    pub src: String,
    /// The called number or extension.
    pub dst: String,
    /// The caller's display name (from `clid` or `caller_id_name`).
    pub caller_name: Option<String>,
    /// The dialplan context.
    pub context: Option<String>,
    /// The calling channel.
    pub channel: Option<String>,
    /// The called channel.
    pub dst_channel: Option<String>,
    /// The last dialplan application (`VoiceMail` makes an answered call voicemail).
    pub last_app: Option<String>,
    /// When the call started.
    pub start: OffsetDateTime,
    /// `None` when the call was not answered.
    pub answer: Option<OffsetDateTime>,
    /// When the call ended.
    pub end: Option<OffsetDateTime>,
    /// Total seconds, from start to end.
    pub duration_seconds: Option<u64>,
    /// Connected seconds, from answer to end.
    pub billsec: Option<u64>,
    /// The disposition or hangup cause as written.
    pub disposition: Option<String>,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// Inbound or outbound, when the PBX says (FreeSWITCH XML `direction`).
    pub direction: Option<Direction>,
    /// Asterisk `userfield`.
    pub user_field: Option<String>,
    /// Asterisk `linkedid`; FreeSWITCH `bleg_uuid` (the other leg).
    pub linked_id: Option<String>,
    /// Asterisk `sequence`.
    pub sequence: Option<u64>,
}

impl CdrRecord {
    /// The provider-neutral event for this finished call.
    pub fn to_call_event(&self) -> CallEvent {
        CallEvent {
            source: self.source,
            external_id: self.dedupe_key.clone(),
            from: self.src.clone(),
            from_name: self.caller_name.clone(),
            to: self.dst.clone(),
            direction: self.direction,
            state: CallState::Ended,
            outcome: Some(self.outcome),
            machine_answered: false,
            duration_seconds: self.duration_seconds,
            talk_seconds: self.billsec,
            sequence: None,
            occurred_at: self.end.or(Some(self.start)),
            started_at: Some(self.start),
            answered_at: self.answer,
            ended_at: self.end,
            agent_email: None,
            recording: None,
        }
    }
}

/// A rejected CDR line and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CdrLineError {
    /// 1-based line number.
    pub line: usize,
    /// Why it was rejected.
    pub reason: String,
}

/// Reads CDR CSV under one profile and time zone.
#[derive(Debug, Clone)]
pub struct CdrImporter {
    profile: CdrProfile,
    time_zone: PbxTimeZone,
}

impl CdrImporter {
    /// An importer for files in `profile` whose local times are in `time_zone`.
    pub fn new(profile: CdrProfile, time_zone: PbxTimeZone) -> Self {
        Self { profile, time_zone }
    }

    /// Every non-blank line of `input`, parsed.
    pub fn parse<'a>(
        &'a self,
        input: &'a [u8],
    ) -> impl Iterator<Item = Result<CdrRecord, CdrLineError>> + 'a {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        input
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, raw)| !raw.iter().all(u8::is_ascii_whitespace))
            .map(|(i, raw)| self.parse_line(i + 1, raw))
    }

    /// Parses one line (without its line break; a trailing `\r` is ignored).
    pub fn parse_line(&self, line: usize, raw: &[u8]) -> Result<CdrRecord, CdrLineError> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let fail = |reason: String| CdrLineError { line, reason };
        if raw.len() > MAX_CDR_LINE_BYTES {
            return Err(fail(format!(
                "line is {} bytes, more than {MAX_CDR_LINE_BYTES}",
                raw.len()
            )));
        }
        // Caller names in legacy encodings survive as replacement characters.
        let text = String::from_utf8_lossy(raw);
        let fields = split_csv_line(&text).map_err(fail)?;
        let map = self.profile.layout(fields.len()).map_err(fail)?;
        let mut record = self.build(&map, &fields).map_err(fail)?;
        record.line = Some(line);
        if record.unique_id.is_none() {
            record.dedupe_key = format!("sha256:{}", hex::encode(Sha256::digest(raw)));
        }
        Ok(record)
    }

    fn build(&self, map: &ColumnMap, fields: &[String]) -> Result<CdrRecord, String> {
        let get = |f: CdrField| -> Option<String> {
            map.get(f)
                .and_then(|i| fields.get(i))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let number = |f: CdrField| -> Result<Option<u64>, String> {
            get(f)
                .map(|v| parse_u64(f.key(), &v).map_err(|e| e.to_string()))
                .transpose()
        };
        let stamp = |f: CdrField| -> Result<Option<PrimitiveDateTime>, String> {
            get(f)
                .map(|v| parse_local_stamp(&v).map_err(|e| format!("{}: {e}", f.key())))
                .transpose()
        };
        let (clid_name, clid_number) = get(CdrField::Clid).map_or((None, None), |c| parse_clid(&c));
        let src = get(CdrField::Src).or(clid_number).unwrap_or_default();
        let dst = get(CdrField::Dst).ok_or("`dst` is empty")?;
        let start = stamp(CdrField::Start)?.ok_or("`start` is empty")?;
        let duration = number(CdrField::Duration)?;
        let billsec = number(CdrField::Billsec)?;
        let (start, answer, end) = resolve_times(
            &self.time_zone,
            start,
            stamp(CdrField::Answer)?,
            stamp(CdrField::End)?,
            duration,
        )?;
        let last_app = get(CdrField::LastApp);
        let (disposition, outcome) = if let Some(d) = get(CdrField::Disposition) {
            let o = disposition_outcome(&d, last_app.as_deref())?;
            (Some(d), o)
        } else {
            let cause = get(CdrField::HangupCause);
            let answered = answer.is_some() || billsec.is_some_and(|b| b > 0);
            let o = hangup_cause_outcome(cause.as_deref(), answered, last_app.as_deref());
            (cause, o)
        };
        let unique_id = get(CdrField::UniqueId);
        Ok(CdrRecord {
            source: map.source(),
            line: None,
            dedupe_key: unique_id.clone().unwrap_or_default(),
            unique_id,
            account_code: get(CdrField::AccountCode),
            src,
            dst,
            caller_name: get(CdrField::CallerName).or(clid_name),
            context: get(CdrField::Context),
            channel: get(CdrField::Channel),
            dst_channel: get(CdrField::DstChannel),
            last_app,
            start,
            answer,
            end,
            duration_seconds: duration,
            billsec,
            disposition,
            outcome,
            direction: None,
            user_field: get(CdrField::UserField),
            linked_id: get(CdrField::LinkedId),
            sequence: number(CdrField::Sequence)?,
        })
    }
}

type Resolved = (
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

/// Resolves start/answer/end local times to UTC. Times in a daylight-saving gap are refused;
/// in a fold, the combination that keeps start ≤ answer ≤ end and best matches `duration`
/// wins (the earlier instant on a tie).
pub(crate) fn resolve_times(
    tz: &PbxTimeZone,
    start: PrimitiveDateTime,
    answer: Option<PrimitiveDateTime>,
    end: Option<PrimitiveDateTime>,
    duration: Option<u64>,
) -> Result<Resolved, String> {
    let candidates =
        |name: &str, t: Option<PrimitiveDateTime>| -> Result<Vec<Option<OffsetDateTime>>, String> {
            let Some(t) = t else { return Ok(vec![None]) };
            match tz.resolve(t) {
                LocalTime::Gap => Err(format!(
                    "{name}: `{}` does not exist in {} (skipped by a daylight-saving change)",
                    format_local_stamp(t),
                    tz.name()
                )),
                lt => Ok(lt.candidates().into_iter().map(Some).collect()),
            }
        };
    let starts = candidates("start", Some(start))?;
    let answers = candidates("answer", answer)?;
    let ends = candidates("end", end)?;
    let duration = duration.and_then(|d| i64::try_from(d).ok());
    let mut best: Option<(i64, Resolved)> = None;
    for s in starts.iter().flatten() {
        for a in &answers {
            for e in &ends {
                let ordered = a.is_none_or(|a| a >= *s)
                    && e.is_none_or(|e| e >= *s && a.is_none_or(|a| e >= a));
                if !ordered {
                    continue;
                }
                let score = match (e, duration) {
                    (Some(e), Some(d)) => ((*e - *s).whole_seconds() - d).saturating_abs(),
                    _ => 0,
                };
                if best.as_ref().is_none_or(|(b, _)| score < *b) {
                    best = Some((score, (*s, *a, *e)));
                }
            }
        }
    }
    best.map(|(_, r)| r).ok_or_else(|| {
        format!(
            "times are out of order (start `{}`, answer `{}`, end `{}`)",
            format_local_stamp(start),
            answer.map_or("-".into(), format_local_stamp),
            end.map_or("-".into(), format_local_stamp)
        )
    })
}

#[cfg(test)]
mod tests;
