//! Clock times in a sentence, and the conversion between instants and local wall-clock time
//! in a time zone (daylight-saving gaps and folds included).

use super::pattern;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use regex::Regex;
use std::sync::LazyLock;
use time::{OffsetDateTime, UtcOffset};

pub(super) static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b\.?|\bat\s+(\d{1,2})(?::(\d{2}))?\b|\b(noon|midday|midnight)\b",
    )
});

pub(super) static PART_OF_DAY: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b(morning|afternoon|evening|tonight|lunch(?:time)?)\b"));

/// `now` as a local date-time in `tz`.
pub(super) fn to_local(now: OffsetDateTime, tz: Tz) -> Option<DateTime<Tz>> {
    DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond())
        .map(|utc| utc.with_timezone(&tz))
}

/// An explicit clock time in the sentence. Without am/pm, 1–7 o'clock means afternoon
/// (business hours), as do hours said with "afternoon"/"evening"/"tonight".
pub(super) fn clock_time(sentence: &str) -> Option<NaiveTime> {
    let c = CLOCK.captures(sentence)?;
    if let Some(word) = c.get(6) {
        let hour = if word.as_str().eq_ignore_ascii_case("midnight") {
            0
        } else {
            12
        };
        return NaiveTime::from_hms_opt(hour, 0, 0);
    }
    let (h, m, meridiem) = match c.get(1) {
        Some(h) => (
            h.as_str(),
            c.get(2),
            c.get(3).map(|x| x.as_str().to_lowercase()),
        ),
        None => (c.get(4)?.as_str(), c.get(5), None),
    };
    let mut hour: u32 = h.parse().ok()?;
    let minute: u32 = m.map_or(Some(0), |m| m.as_str().parse().ok())?;
    let later = PART_OF_DAY.find(sentence).is_some_and(|p| {
        let p = p.as_str().to_lowercase();
        p == "afternoon" || p == "evening" || p == "tonight"
    });
    match meridiem.as_deref() {
        Some("p") if hour < 12 => hour += 12,
        Some("a") if hour == 12 => hour = 0,
        Some(_) if hour > 12 => return None,
        None if hour < 12 && (later || (1..=7).contains(&hour)) => hour += 12,
        _ => {}
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

pub(super) fn part_of_day(sentence: &str) -> Option<NaiveTime> {
    let word = PART_OF_DAY.find(sentence)?.as_str().to_lowercase();
    let hour = match word.as_str() {
        "morning" => 9,
        "afternoon" => 14,
        "evening" => 18,
        "tonight" => 19,
        _ => 12,
    };
    NaiveTime::from_hms_opt(hour, 0, 0)
}

/// A local wall-clock time as an instant. In a DST gap the time does not exist and moves
/// forward by the gap (02:30 → 03:30); in a fold the earlier instant is taken.
pub(super) fn local(date: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Tz>> {
    let naive = date.and_time(time);
    for shift in 0..=2 {
        match tz.from_local_datetime(&(naive + Duration::hours(shift))) {
            LocalResult::Single(at) => return Some(at),
            LocalResult::Ambiguous(earlier, _) => return Some(earlier),
            LocalResult::None => {}
        }
    }
    None
}

pub(super) fn to_offset_date_time(at: DateTime<Tz>) -> Option<OffsetDateTime> {
    let offset = UtcOffset::from_whole_seconds(at.offset().fix().local_minus_utc()).ok()?;
    Some(
        OffsetDateTime::from_unix_timestamp(at.timestamp())
            .ok()?
            .to_offset(offset),
    )
}
