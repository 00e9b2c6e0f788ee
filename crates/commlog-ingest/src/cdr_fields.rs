//! Field-level parsing shared by the CSV and XML CDR readers: splitting one CSV line,
//! `"Name" <number>` caller ids, and mapping Asterisk dispositions and Q.850 hangup causes
//! to a [`CallOutcome`].

use crate::error::shown;
use crate::event::CallOutcome;

/// Splits one CSV line into fields. Quoted fields may contain commas and doubled quotes; a
/// quoted field preceded by spaces (FreeSWITCH's default template writes `, "${accountcode}"`)
/// is unquoted too.
pub(crate) fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Ok(Vec::new()),
        Err(e) => return Err(format!("not valid CSV: {e}")),
    }
    Ok(record.iter().map(unquote_padded).collect())
}

fn unquote_padded(field: &str) -> String {
    let t = field.trim();
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if field.starts_with(' ') => inner.replace("\"\"", "\""),
        _ => field.to_owned(),
    }
}

/// Splits a caller id such as `"Alice" <1001>`, `Alice <1001>`, `<1001>` or `1001` into
/// display name and number.
pub(crate) fn parse_clid(clid: &str) -> (Option<String>, Option<String>) {
    let clid = clid.trim();
    let non_empty = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    if let Some(open) = clid.rfind('<')
        && let Some(inner) = clid.get(open + 1..).and_then(|r| r.strip_suffix('>'))
    {
        let name = clid.get(..open).unwrap_or("").trim();
        let name = name
            .strip_prefix('"')
            .and_then(|n| n.strip_suffix('"'))
            .unwrap_or(name);
        return (non_empty(name), non_empty(inner));
    }
    let looks_like_number = !clid.is_empty()
        && clid
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#' | '-' | ' '));
    if looks_like_number {
        (None, non_empty(clid))
    } else {
        (non_empty(clid.trim_matches('"')), None)
    }
}

fn is_voicemail_app(last_app: Option<&str>) -> bool {
    last_app.is_some_and(|a| a.eq_ignore_ascii_case("voicemail"))
}

/// Maps an Asterisk `disposition`; an answered call whose last application was `VoiceMail`
/// is voicemail.
pub(crate) fn disposition_outcome(
    disposition: &str,
    last_app: Option<&str>,
) -> Result<CallOutcome, String> {
    match disposition.trim().to_ascii_uppercase().as_str() {
        "ANSWERED" if is_voicemail_app(last_app) => Ok(CallOutcome::Voicemail),
        "ANSWERED" => Ok(CallOutcome::Answered),
        "NO ANSWER" => Ok(CallOutcome::NoAnswer),
        "BUSY" => Ok(CallOutcome::Busy),
        "FAILED" | "CONGESTION" => Ok(CallOutcome::Failed),
        _ => Err(format!(
            "disposition {} is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION",
            shown(disposition)
        )),
    }
}

/// Maps a Q.850 hangup cause (FreeSWITCH names) given whether the call was answered; an
/// answered call is answered (or voicemail) whatever the cause.
pub(crate) fn hangup_cause_outcome(
    cause: Option<&str>,
    answered: bool,
    last_app: Option<&str>,
) -> CallOutcome {
    if answered {
        return if is_voicemail_app(last_app) {
            CallOutcome::Voicemail
        } else {
            CallOutcome::Answered
        };
    }
    match cause.map(|c| c.trim().to_ascii_uppercase()).as_deref() {
        None
        | Some("" | "NORMAL_CLEARING" | "NO_ANSWER" | "NO_USER_RESPONSE" | "ALLOTTED_TIMEOUT") => {
            CallOutcome::NoAnswer
        }
        Some("USER_BUSY" | "CALL_REJECTED") => CallOutcome::Busy,
        Some("ORIGINATOR_CANCEL" | "LOSE_RACE" | "PICKED_OFF") => CallOutcome::Canceled,
        Some(_) => CallOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_with_quotes_and_padding() {
        let f = split_csv_line(r#""","1001","""Alice"" <1001>",,65,"a,b""#).expect("csv");
        assert_eq!(f, ["", "1001", "\"Alice\" <1001>", "", "65", "a,b"]);
        let f = split_csv_line(r#""x","y", "acct""#).expect("csv");
        assert_eq!(f, ["x", "y", "acct"]);
        let f = split_csv_line(r#""x", "say ""hi""""#).expect("csv");
        assert_eq!(f, ["x", "say \"hi\""]);
        assert_eq!(split_csv_line("").expect("csv"), Vec::<String>::new());
    }

    #[test]
    fn caller_ids_split() {
        let s = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
        assert_eq!(parse_clid("\"Alice\" <1001>"), s("Alice", "1001"));
        assert_eq!(
            parse_clid("Bob Smith <+14155550100>"),
            s("Bob Smith", "+14155550100")
        );
        assert_eq!(parse_clid("\"O\"Brien\" <1002>"), s("O\"Brien", "1002"));
        assert_eq!(parse_clid("<1003>"), (None, Some("1003".into())));
        assert_eq!(parse_clid("\"\" <1003>"), (None, Some("1003".into())));
        assert_eq!(parse_clid("1004"), (None, Some("1004".into())));
        assert_eq!(parse_clid("Reception"), (Some("Reception".into()), None));
        assert_eq!(parse_clid(""), (None, None));
        assert_eq!(parse_clid("<"), (Some("<".into()), None));
        assert_eq!(parse_clid("a <b"), (Some("a <b".into()), None));
    }

    #[test]
    fn dispositions_map() {
        assert_eq!(
            disposition_outcome("ANSWERED", None),
            Ok(CallOutcome::Answered)
        );
        assert_eq!(
            disposition_outcome("ANSWERED", Some("VoiceMail")),
            Ok(CallOutcome::Voicemail)
        );
        assert_eq!(
            disposition_outcome("NO ANSWER", None),
            Ok(CallOutcome::NoAnswer)
        );
        assert_eq!(disposition_outcome("BUSY", None), Ok(CallOutcome::Busy));
        assert_eq!(
            disposition_outcome("CONGESTION", None),
            Ok(CallOutcome::Failed)
        );
        assert!(disposition_outcome("MAYBE", None).is_err());
    }

    #[test]
    fn hangup_causes_map() {
        use CallOutcome::*;
        assert_eq!(
            hangup_cause_outcome(Some("NORMAL_CLEARING"), true, None),
            Answered
        );
        assert_eq!(
            hangup_cause_outcome(Some("NORMAL_CLEARING"), true, Some("voicemail")),
            Voicemail
        );
        assert_eq!(
            hangup_cause_outcome(Some("NORMAL_CLEARING"), false, None),
            NoAnswer
        );
        assert_eq!(hangup_cause_outcome(Some("USER_BUSY"), false, None), Busy);
        assert_eq!(
            hangup_cause_outcome(Some("ORIGINATOR_CANCEL"), false, None),
            Canceled
        );
        assert_eq!(
            hangup_cause_outcome(Some("NO_ROUTE_DESTINATION"), false, None),
            Failed
        );
        assert_eq!(hangup_cause_outcome(None, false, None), NoAnswer);
    }
}
