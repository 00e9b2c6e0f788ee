//! Time buckets of analytics reports, in a company's time zone.
//!
//! Reports group communications by hour, day, week or month, and people read those periods on
//! their own wall clock: "Monday" is Monday in the company's zone, not in UTC. Local periods are
//! not fixed lengths of time: a day is 23 or 25 hours long when daylight saving time starts or
//! ends, and in a few zones (America/Santiago, Asia/Beirut) the clocks skip midnight, so such a
//! day starts at 01:00. Bucket boundaries are therefore computed here, once, from the bundled
//! IANA database (chrono-tz), instead of by adding fixed durations wherever a report needs them.
//!
//! Instants are [`time::OffsetDateTime`] at the API, as everywhere in the crate; chrono and
//! chrono-tz are used only inside. Bucket starts are returned in UTC, in whole seconds (every
//! UTC offset is a whole number of seconds).
//!
//! The helpers that walk a zone's offset changes (`offset_periods`) are shared with
//! [`crate::calendar`].

use chrono::offset::MappedLocalTime;
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike,
};
use chrono_tz::{GapInfo, Tz, TzOffset};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The length of a report's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// A local clock hour.
    Hour,
    /// A local calendar day, from midnight.
    #[default]
    Day,
    /// An ISO week, from Monday midnight.
    Week,
    /// A calendar month, from the 1st at midnight.
    Month,
}

impl Bucket {
    /// The name used in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// Parses an IANA zone name (`UTC` included, in any case); `None` when unknown.
pub fn parse_zone(name: &str) -> Option<Tz> {
    if name.eq_ignore_ascii_case("utc") {
        return Some(Tz::UTC);
    }
    name.parse().ok()
}

/// The instant at which the local bucket containing `t` starts: the start of the local hour,
/// local midnight, Monday midnight (ISO weeks) or midnight of the 1st.
///
/// When local midnight does not exist (the clocks skip it, as in America/Santiago), the bucket
/// starts at the first instant of that local day. When the clocks go back, a local hour happens
/// twice, and each occurrence is a bucket of its own (they differ by UTC offset, and so do their
/// labels); a day that contains the repeated hour is one bucket of 25 hours.
///
/// Returns `t` itself in the only case without an answer: at the very ends of the range `time`
/// represents (years ±9999).
pub fn bucket_start(t: OffsetDateTime, tz: Tz, b: Bucket) -> OffsetDateTime {
    start_secs(t.unix_timestamp(), tz, b)
        .and_then(instant)
        .unwrap_or(t)
}

/// The start of the bucket after the one starting at `start`.
///
/// Returns `start` itself at the very end of the range `time` represents (year 9999), where no
/// next start exists; use [`bucket_starts`] to walk buckets, which cannot loop on that.
pub fn next_bucket(start: OffsetDateTime, tz: Tz, b: Bucket) -> OffsetDateTime {
    next_secs(start.unix_timestamp(), tz, b)
        .and_then(instant)
        .unwrap_or(start)
}

/// Every bucket start from the start of the bucket containing `since` up to, excluding, `until`,
/// in order (empty when `until <= since`).
///
/// `None` when there would be more than `max` buckets, so that a request cannot ask for an
/// unbounded series (and at the ends of the representable range).
pub fn bucket_starts(
    since: OffsetDateTime,
    until: OffsetDateTime,
    tz: Tz,
    b: Bucket,
    max: usize,
) -> Option<Vec<OffsetDateTime>> {
    let mut starts = Vec::new();
    if until <= since {
        return Some(starts);
    }
    let mut s = start_secs(since.unix_timestamp(), tz, b)?;
    loop {
        let at = instant(s)?;
        if at >= until {
            return Some(starts);
        }
        if starts.len() >= max {
            return None;
        }
        starts.push(at);
        s = next_secs(s, tz, b)?;
    }
}

/// The local label of a bucket starting at `start`: `2026-03-29` for a day or a week (its
/// Monday), `2026-03` for a month, and the local start with its UTC offset for an hour,
/// `2026-03-29T03:00+02:00` (the offset tells the two occurrences of a repeated hour apart).
pub fn bucket_label(start: OffsetDateTime, tz: Tz, b: Bucket) -> String {
    let secs = start.unix_timestamp();
    let Some((local, off)) = offset_at(tz, secs).and_then(|off| Some((naive(secs + off)?, off)))
    else {
        // Unreachable within `time`'s range; the UTC rendering is still a truthful label.
        return start.to_string();
    };
    let date = format!(
        "{:04}-{:02}-{:02}",
        local.year(),
        local.month(),
        local.day()
    );
    match b {
        Bucket::Day | Bucket::Week => date,
        Bucket::Month => format!("{:04}-{:02}", local.year(), local.month()),
        Bucket::Hour => {
            let sign = if off < 0 { '-' } else { '+' };
            let abs = off.abs();
            format!(
                "{date}T{:02}:{:02}{sign}{:02}:{:02}",
                local.hour(),
                local.minute(),
                abs / 3600,
                abs % 3600 / 60
            )
        }
    }
}

/// True when every UTC offset the zone uses from `since` to `until` (inclusive, changes within
/// the span included) is a whole number of hours. Then UTC hour boundaries are local hour
/// boundaries too, and hourly UTC aggregates fold exactly into local buckets. False for
/// Asia/Kolkata (+05:30), Asia/Kathmandu (+05:45), America/St_Johns (−03:30),
/// Australia/Adelaide (+09:30/+10:30), Australia/Lord_Howe (30-minute daylight saving time),
/// and for spans that reach back to local mean time (before ~1900 in most zones).
pub fn whole_hour_offsets(tz: Tz, since: OffsetDateTime, until: OffsetDateTime) -> bool {
    let (a, b) = (since.unix_timestamp(), until.unix_timestamp());
    offset_periods(tz, a.min(b), a.max(b))
        .is_some_and(|periods| periods.iter().all(|&(_, off)| off % 3600 == 0))
}

const HOUR: i64 = 3_600;
pub(crate) const DAY: i64 = 86_400;

/// Offset changes can only be found by probing (chrono-tz keeps its transition table private),
/// so [`offset_periods`] probes every `PROBE_STEP` seconds. That finds every change: in the
/// bundled database no offset stays in effect for less than 6.9 days (the shortest period,
/// America/Cambridge_Bay in 2000, lasts 597,600 s), so no period fits between two probes.
const PROBE_STEP: i64 = DAY;

/// The span in which the bundled database changes offsets: its tables start with local mean
/// time in the 1840s and end in 2100, after which offsets are constant. Outside
/// [`TABLES_FROM`, `TABLES_UNTIL`) one probe is enough, which bounds the work of a span of any
/// length (a test checks that every zone is constant outside this span).
const TABLES_FROM: i64 = -5_364_662_400; // 1800-01-01T00:00:00Z
const TABLES_UNTIL: i64 = 7_258_118_400; // 2200-01-01T00:00:00Z

/// The UTC offset (seconds east of UTC) that `tz` uses at the Unix second `t`.
pub(crate) fn offset_at(tz: Tz, t: i64) -> Option<i64> {
    let utc = DateTime::from_timestamp(t, 0)?.naive_utc();
    Some(offset_secs(tz.offset_from_utc_datetime(&utc)))
}

/// The UTC offsets in effect from `from` to `to` (Unix seconds, inclusive): each change as
/// (first second, offset), the first entry being (`from`, offset at `from`). Between two
/// entries, and after the last one, the offset is constant, so local time is plain arithmetic
/// there.
pub(crate) fn offset_periods(tz: Tz, from: i64, to: i64) -> Option<Vec<(i64, i64)>> {
    let mut at = from;
    let mut off = offset_at(tz, at)?;
    let mut periods = vec![(at, off)];
    while at < to {
        let probe = if at < TABLES_FROM {
            TABLES_FROM
        } else if at >= TABLES_UNTIL {
            to
        } else {
            at + PROBE_STEP
        }
        .min(to);
        if offset_at(tz, probe)? == off {
            at = probe;
            continue;
        }
        at = first_change(tz, at, probe, off)?;
        off = offset_at(tz, at)?;
        periods.push((at, off));
    }
    Some(periods)
}

/// The first second in (`lo`, `hi`] at which the offset is no longer `off`, by bisection, given
/// that it is `off` at `lo` and not at `hi` (changes happen on whole seconds).
fn first_change(tz: Tz, mut lo: i64, mut hi: i64, off: i64) -> Option<i64> {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, mid)? == off {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

fn offset_secs(o: TzOffset) -> i64 {
    i64::from(o.fix().local_minus_utc())
}

/// The wall-clock date and time `local_secs` seconds after 1970-01-01T00:00 (local).
fn naive(local_secs: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(local_secs, 0).map(|d| d.naive_utc())
}

/// The first instant (Unix seconds) at which the wall clock in `tz` shows `local` or later:
/// the instant itself when it exists once, its first occurrence when the clocks went back over
/// it, and the end of the gap when the clocks skipped it.
fn first_instant_at(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    let wall = local.and_utc().timestamp();
    match tz.offset_from_local_datetime(&local) {
        MappedLocalTime::Single(o) => Some(wall - offset_secs(o)),
        MappedLocalTime::Ambiguous(a, b) => {
            Some((wall - offset_secs(a)).min(wall - offset_secs(b)))
        }
        MappedLocalTime::None => GapInfo::new(&local, &tz)?.end.map(|e| e.timestamp()),
    }
}

/// The first local date of the day, week or month containing `d`.
fn first_day(d: NaiveDate, b: Bucket) -> Option<NaiveDate> {
    match b {
        Bucket::Hour | Bucket::Day => Some(d),
        Bucket::Week => {
            d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))
        }
        Bucket::Month => d.with_day(1),
    }
}

/// Seconds since the start of the local clock hour.
fn into_hour(local: NaiveDateTime) -> i64 {
    i64::from(local.minute() * 60 + local.second())
}

fn start_secs(t: i64, tz: Tz, b: Bucket) -> Option<i64> {
    let off = offset_at(tz, t)?;
    let local = naive(t + off)?;
    if b == Bucket::Hour {
        // An hour bucket is a local clock hour at one offset: the hour on the clock, read with
        // the offset in effect at `t`, unless the offset changed since, in which case the bucket
        // starts with the change (e.g. 01:30 after Lord Howe's clocks went back from 02:00).
        let c = t - into_hour(local);
        let off_c = offset_at(tz, c)?;
        return if off_c == off {
            Some(c)
        } else {
            first_change(tz, c, t, off_c)
        };
    }
    let s = first_instant_at(tz, first_day(local.date(), b)?.and_time(NaiveTime::MIN))?;
    // Should the clocks ever go back across midnight into the previous date after the new day
    // started, `t` can read as the previous date although the next bucket started before it.
    // Buckets must tile time, so such a `t` belongs to the later bucket.
    match next_secs(s, tz, b) {
        Some(n) if n <= t => Some(n),
        _ => Some(s),
    }
}

fn next_secs(start: i64, tz: Tz, b: Bucket) -> Option<i64> {
    let off = offset_at(tz, start)?;
    let local = naive(start + off)?;
    let next = match b {
        Bucket::Hour => {
            // The next clock hour at the current offset, or the offset change before it.
            let n = start + HOUR - into_hour(local);
            if offset_at(tz, n)? == off {
                n
            } else {
                first_change(tz, start, n, off)?
            }
        }
        Bucket::Day | Bucket::Week | Bucket::Month => {
            let first = first_day(local.date(), b)?;
            let next_day = match b {
                Bucket::Week => first.checked_add_days(Days::new(7))?,
                Bucket::Month => first.checked_add_months(Months::new(1))?,
                _ => first.succ_opt()?,
            };
            // Midnight, or the first instant of the day when the clocks skip midnight.
            first_instant_at(tz, next_day.and_time(NaiveTime::MIN))?
        }
    };
    (next > start).then_some(next)
}

/// A Unix second as an instant in UTC.
fn instant(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn zone(name: &str) -> Tz {
        parse_zone(name).expect("known zone")
    }

    fn hours(a: OffsetDateTime, b: OffsetDateTime) -> i64 {
        (b - a).whole_hours()
    }

    #[test]
    fn names_and_zones() {
        assert_eq!(Bucket::default(), Bucket::Day);
        for b in [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month] {
            let json = serde_json::to_string(&b).expect("serialize");
            assert_eq!(json, format!("\"{}\"", b.as_str()));
            assert_eq!(serde_json::from_str::<Bucket>(&json).expect("parse"), b);
        }
        assert_eq!(parse_zone("UTC"), Some(Tz::UTC));
        assert_eq!(parse_zone("utc"), Some(Tz::UTC));
        assert_eq!(parse_zone("Europe/Berlin"), Some(Tz::Europe__Berlin));
        assert_eq!(parse_zone("Europe/Atlantis"), None);
        assert_eq!(parse_zone(""), None);
    }

    #[test]
    fn berlin_days_across_spring_forward() {
        let tz = zone("Europe/Berlin");
        // On Sunday 2026-03-29 Berlin goes from 02:00 CET (+01) to 03:00 CEST (+02), at
        // 01:00Z. The day starts at 00:00 CET = 2026-03-28T23:00Z and ends at Monday's 00:00
        // CEST = 2026-03-29T22:00Z: 23 hours.
        let t = datetime!(2026-03-29 12:00 UTC);
        let start = bucket_start(t, tz, Bucket::Day);
        assert_eq!(start, datetime!(2026-03-28 23:00 UTC));
        let next = next_bucket(start, tz, Bucket::Day);
        assert_eq!(next, datetime!(2026-03-29 22:00 UTC));
        assert_eq!(hours(start, next), 23);
        assert_eq!(bucket_label(start, tz, Bucket::Day), "2026-03-29");
        assert_eq!(bucket_label(next, tz, Bucket::Day), "2026-03-30");

        // From Saturday noon UTC (13:00 CET) to Tuesday 00:00Z (Tuesday 02:00 CEST): the
        // buckets of Saturday 28 (from 27th 23:00Z), Sunday 29 (28th 23:00Z), Monday 30 (29th
        // 22:00Z, now on summer time) and Tuesday 31 (30th 22:00Z, before 31st 00:00Z).
        let starts = bucket_starts(
            datetime!(2026-03-28 12:00 UTC),
            datetime!(2026-03-31 00:00 UTC),
            tz,
            Bucket::Day,
            100,
        )
        .expect("few buckets");
        assert_eq!(
            starts,
            [
                datetime!(2026-03-27 23:00 UTC),
                datetime!(2026-03-28 23:00 UTC),
                datetime!(2026-03-29 22:00 UTC),
                datetime!(2026-03-30 22:00 UTC),
            ]
        );
        let labels: Vec<String> = starts
            .iter()
            .map(|s| bucket_label(*s, tz, Bucket::Day))
            .collect();
        assert_eq!(
            labels,
            ["2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]
        );
    }

    #[test]
    fn berlin_days_across_fall_back() {
        let tz = zone("Europe/Berlin");
        // On Sunday 2026-10-25 Berlin goes back from 03:00 CEST (+02) to 02:00 CET (+01), at
        // 01:00Z. The day starts at 00:00 CEST = 2026-10-24T22:00Z and ends at Monday's 00:00
        // CET = 2026-10-25T23:00Z: 25 hours. An instant in the repeated hour (01:30Z = 02:30
        // CET, the second 02:30) belongs to that day.
        let start = bucket_start(datetime!(2026-10-25 01:30 UTC), tz, Bucket::Day);
        assert_eq!(start, datetime!(2026-10-24 22:00 UTC));
        let next = next_bucket(start, tz, Bucket::Day);
        assert_eq!(next, datetime!(2026-10-25 23:00 UTC));
        assert_eq!(hours(start, next), 25);
        // The last second of the 25-hour day is still in it.
        assert_eq!(
            bucket_start(datetime!(2026-10-25 22:59:59 UTC), tz, Bucket::Day),
            start
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        let tz = zone("Europe/Berlin");
        // 2026-03-29 is a Sunday: its ISO week started on Monday 2026-03-23 at 00:00 CET
        // (2026-03-22T23:00Z) and the next one starts on Monday 2026-03-30 at 00:00 CEST
        // (2026-03-29T22:00Z), so that week is 7 × 24 − 1 = 167 hours long.
        let start = bucket_start(datetime!(2026-03-29 20:00 UTC), tz, Bucket::Week);
        assert_eq!(start, datetime!(2026-03-22 23:00 UTC));
        assert_eq!(bucket_label(start, tz, Bucket::Week), "2026-03-23");
        let next = next_bucket(start, tz, Bucket::Week);
        assert_eq!(next, datetime!(2026-03-29 22:00 UTC));
        assert_eq!(hours(start, next), 167);
        // Monday 00:00 local belongs to the new week; Sunday 23:59:59 local to the old one.
        assert_eq!(bucket_start(next, tz, Bucket::Week), next);
        assert_eq!(
            bucket_start(datetime!(2026-03-29 21:59:59 UTC), tz, Bucket::Week),
            start
        );
        // In UTC, Thursday 2026-01-01 is in the week of Monday 2025-12-29.
        let utc = bucket_start(datetime!(2026-01-01 08:00 UTC), Tz::UTC, Bucket::Week);
        assert_eq!(utc, datetime!(2025-12-29 00:00 UTC));
    }

    #[test]
    fn months() {
        let tz = zone("Europe/Berlin");
        // March 2026 starts on the 1st at 00:00 CET (February 28th, 23:00Z) and April on the
        // 1st at 00:00 CEST (March 31st, 22:00Z): 31 × 24 − 1 = 743 hours.
        let start = bucket_start(datetime!(2026-03-15 12:00 UTC), tz, Bucket::Month);
        assert_eq!(start, datetime!(2026-02-28 23:00 UTC));
        assert_eq!(bucket_label(start, tz, Bucket::Month), "2026-03");
        let next = next_bucket(start, tz, Bucket::Month);
        assert_eq!(next, datetime!(2026-03-31 22:00 UTC));
        assert_eq!(hours(start, next), 743);
        // December rolls over into January of the next year.
        let dec = bucket_start(datetime!(2026-12-31 22:59 UTC), tz, Bucket::Month);
        assert_eq!(dec, datetime!(2026-11-30 23:00 UTC));
        assert_eq!(
            next_bucket(dec, tz, Bucket::Month),
            datetime!(2026-12-31 23:00 UTC)
        );
        // A whole year is twelve buckets.
        let year = bucket_starts(
            datetime!(2025-12-31 23:00 UTC),
            datetime!(2026-12-31 23:00 UTC),
            tz,
            Bucket::Month,
            12,
        )
        .expect("twelve months");
        assert_eq!(year.len(), 12);
        assert_eq!(bucket_label(year[11], tz, Bucket::Month), "2026-12");
    }

    #[test]
    fn new_york_days_and_hours() {
        let tz = zone("America/New_York");
        // 2026-03-08: 02:00 EST (−05) becomes 03:00 EDT (−04) at 07:00Z. The day runs from
        // 00:00 EST = 05:00Z to Monday's 00:00 EDT = 2026-03-09T04:00Z: 23 hours.
        let start = bucket_start(datetime!(2026-03-08 15:00 UTC), tz, Bucket::Day);
        assert_eq!(start, datetime!(2026-03-08 05:00 UTC));
        assert_eq!(
            next_bucket(start, tz, Bucket::Day),
            datetime!(2026-03-09 04:00 UTC)
        );
        // 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z. The day runs from 00:00 EDT =
        // 04:00Z to Monday's 00:00 EST = 2026-11-02T05:00Z: 25 hours.
        let start = bucket_start(datetime!(2026-11-01 15:00 UTC), tz, Bucket::Day);
        assert_eq!(start, datetime!(2026-11-01 04:00 UTC));
        assert_eq!(
            next_bucket(start, tz, Bucket::Day),
            datetime!(2026-11-02 05:00 UTC)
        );
        // Its hours from 04:00Z to 08:00Z: 00:00 EDT, 01:00 EDT, 01:00 EST (the repeated hour
        // is a bucket of its own, told apart by its offset) and 02:00 EST.
        let starts = bucket_starts(
            datetime!(2026-11-01 04:00 UTC),
            datetime!(2026-11-01 08:00 UTC),
            tz,
            Bucket::Hour,
            10,
        )
        .expect("four hours");
        let labels: Vec<String> = starts
            .iter()
            .map(|s| bucket_label(*s, tz, Bucket::Hour))
            .collect();
        assert_eq!(
            labels,
            [
                "2026-11-01T00:00-04:00",
                "2026-11-01T01:00-04:00",
                "2026-11-01T01:00-05:00",
                "2026-11-01T02:00-05:00",
            ]
        );
        // 06:30Z is 01:30 EST, the second 01:30: its hour starts at 06:00Z, not at 05:00Z.
        assert_eq!(
            bucket_start(datetime!(2026-11-01 06:30 UTC), tz, Bucket::Hour),
            datetime!(2026-11-01 06:00 UTC)
        );
        // In spring, 01:00 EST (06:00Z) is followed directly by 03:00 EDT (07:00Z).
        let one = datetime!(2026-03-08 06:00 UTC);
        assert_eq!(
            next_bucket(one, tz, Bucket::Hour),
            datetime!(2026-03-08 07:00 UTC)
        );
        assert_eq!(
            bucket_label(datetime!(2026-03-08 07:00 UTC), tz, Bucket::Hour),
            "2026-03-08T03:00-04:00"
        );
    }

    #[test]
    fn berlin_hour_labels() {
        let tz = zone("Europe/Berlin");
        // 01:30Z on 2026-03-29 is 03:30 CEST: its hour starts at 01:00Z = 03:00 CEST, and the
        // one before it at 00:00Z = 01:00 CET (02:00 never happened).
        let start = bucket_start(datetime!(2026-03-29 01:30 UTC), tz, Bucket::Hour);
        assert_eq!(start, datetime!(2026-03-29 01:00 UTC));
        assert_eq!(
            bucket_label(start, tz, Bucket::Hour),
            "2026-03-29T03:00+02:00"
        );
        let before = datetime!(2026-03-29 00:00 UTC);
        assert_eq!(next_bucket(before, tz, Bucket::Hour), start);
        assert_eq!(
            bucket_label(before, tz, Bucket::Hour),
            "2026-03-29T01:00+01:00"
        );
    }

    #[test]
    fn half_hour_zones_use_local_hours() {
        // Kolkata is +05:30: 00:10Z on 2026-01-01 is 05:40 IST, whose hour started at 05:00
        // IST = 2025-12-31T23:30Z.
        let tz = zone("Asia/Kolkata");
        let start = bucket_start(datetime!(2026-01-01 00:10 UTC), tz, Bucket::Hour);
        assert_eq!(start, datetime!(2025-12-31 23:30 UTC));
        assert_eq!(
            bucket_label(start, tz, Bucket::Hour),
            "2026-01-01T05:00+05:30"
        );
        assert_eq!(
            next_bucket(start, tz, Bucket::Hour),
            datetime!(2026-01-01 00:30 UTC)
        );
        // Its day starts at 00:00 IST = the previous day's 18:30Z.
        assert_eq!(
            bucket_start(datetime!(2026-01-01 00:10 UTC), tz, Bucket::Day),
            datetime!(2025-12-31 18:30 UTC)
        );

        // Lord Howe goes back from 02:00 (+11) to 01:30 (+10:30) on 2026-04-05 at 15:00Z
        // (April 4th). 01:00 +11 = 14:00Z starts an hour that the change cuts short at 15:00Z;
        // the repeated 01:30–02:00 (+10:30) is a half-hour bucket; 02:00 +10:30 = 15:30Z
        // starts the next full hour.
        let tz = zone("Australia/Lord_Howe");
        let first = bucket_start(datetime!(2026-04-04 14:40 UTC), tz, Bucket::Hour);
        assert_eq!(first, datetime!(2026-04-04 14:00 UTC));
        let repeated = next_bucket(first, tz, Bucket::Hour);
        assert_eq!(repeated, datetime!(2026-04-04 15:00 UTC));
        assert_eq!(
            bucket_label(repeated, tz, Bucket::Hour),
            "2026-04-05T01:30+10:30"
        );
        assert_eq!(
            bucket_start(datetime!(2026-04-04 15:10 UTC), tz, Bucket::Hour),
            repeated
        );
        assert_eq!(
            next_bucket(repeated, tz, Bucket::Hour),
            datetime!(2026-04-04 15:30 UTC)
        );
    }

    #[test]
    fn skipped_midnight_starts_the_day_at_the_gap_end() {
        // Santiago goes from 00:00 (−04) to 01:00 (−03) on Sunday 2026-09-06 at 04:00Z: that
        // day starts at 01:00 −03 = 04:00Z and lasts until Monday's 00:00 −03 = 03:00Z, 23 h.
        let tz = zone("America/Santiago");
        let start = bucket_start(datetime!(2026-09-06 12:00 UTC), tz, Bucket::Day);
        assert_eq!(start, datetime!(2026-09-06 04:00 UTC));
        assert_eq!(bucket_label(start, tz, Bucket::Day), "2026-09-06");
        assert_eq!(
            next_bucket(datetime!(2026-09-05 04:00 UTC), tz, Bucket::Day),
            start
        );
        assert_eq!(
            next_bucket(start, tz, Bucket::Day),
            datetime!(2026-09-07 03:00 UTC)
        );
        // Beirut skips its midnight too: 00:00 (+02) becomes 01:00 (+03) on 2026-03-29, at
        // 22:00Z on the 28th.
        let tz = zone("Asia/Beirut");
        assert_eq!(
            bucket_start(datetime!(2026-03-29 10:00 UTC), tz, Bucket::Day),
            datetime!(2026-03-28 22:00 UTC)
        );
        // Samoa skipped Friday 2011-12-30 altogether (−10 to +14 at 10:00Z): Thursday's
        // bucket is followed by Saturday's, which starts at the change.
        let tz = zone("Pacific/Apia");
        let thursday = bucket_start(datetime!(2011-12-29 20:00 UTC), tz, Bucket::Day);
        let saturday = next_bucket(thursday, tz, Bucket::Day);
        assert_eq!(saturday, datetime!(2011-12-30 10:00 UTC));
        assert_eq!(bucket_label(saturday, tz, Bucket::Day), "2011-12-31");
    }

    #[test]
    fn buckets_tile_time() {
        // Whatever the zone, consecutive buckets must neither overlap nor leave holes: every
        // instant of a bucket maps back to its start.
        for name in [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "America/Santiago",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Pacific/Apia",
        ] {
            let tz = zone(name);
            for b in [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month] {
                let starts = bucket_starts(
                    datetime!(2026-01-01 00:00 UTC),
                    datetime!(2027-01-01 00:00 UTC),
                    tz,
                    b,
                    10_000,
                )
                .expect("bounded");
                for pair in starts.windows(2) {
                    let (s, n) = (pair[0], pair[1]);
                    assert!(n > s, "{name} {b:?} {s}");
                    assert_eq!(next_bucket(s, tz, b), n, "{name} {b:?} {s}");
                    for t in [s, s + (n - s) / 2, n - time::Duration::SECOND] {
                        assert_eq!(bucket_start(t, tz, b), s, "{name} {b:?} {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn bucket_series_are_bounded() {
        let tz = zone("Europe/Berlin");
        let (since, until) = (
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2027-01-01 00:00 UTC),
        );
        // 00:00Z is 01:00 in Berlin, so the span touches the 365 local days of 2026 (the first
        // starting at 2025-12-31T23:00Z) and 2027-01-01, which starts at 2026-12-31T23:00Z.
        let days = bucket_starts(since, until, tz, Bucket::Day, 366).expect("366 days");
        assert_eq!(days.len(), 366);
        assert_eq!(bucket_starts(since, until, tz, Bucket::Day, 365), None);
        assert_eq!(
            bucket_starts(until, since, tz, Bucket::Day, 0),
            Some(Vec::new())
        );
    }

    #[test]
    fn whole_hour_offsets_by_zone() {
        let (since, until) = (
            datetime!(2020-01-01 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        );
        // CET/CEST and EST/EDT are whole hours, summer and winter alike.
        assert!(whole_hour_offsets(zone("Europe/Berlin"), since, until));
        assert!(whole_hour_offsets(zone("America/New_York"), since, until));
        assert!(whole_hour_offsets(Tz::UTC, since, until));
        // +05:30, +05:45, −03:30/−02:30, +09:30/+10:30 and +10:30/+11 are not.
        for name in [
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Australia/Adelaide",
            "Australia/Lord_Howe",
        ] {
            assert!(!whole_hour_offsets(zone(name), since, until), "{name}");
        }
        // Berlin used local mean time (+00:53:28) until 1893-04-01.
        assert!(!whole_hour_offsets(
            zone("Europe/Berlin"),
            datetime!(1890-01-01 00:00 UTC),
            datetime!(1900-01-01 00:00 UTC)
        ));
        // Caracas was −04:00 at both ends of 2005–2018 but −04:30 from 2007-12-09 to
        // 2016-05-01: the changes inside the span count, not only its ends.
        let caracas = zone("America/Caracas");
        assert_eq!(
            offset_at(caracas, datetime!(2005-01-01 00:00 UTC).unix_timestamp()),
            offset_at(caracas, datetime!(2018-01-01 00:00 UTC).unix_timestamp())
        );
        assert!(!whole_hour_offsets(
            caracas,
            datetime!(2005-01-01 00:00 UTC),
            datetime!(2018-01-01 00:00 UTC)
        ));
        // Reversed ends are the same span; a single instant is checked too.
        assert!(!whole_hour_offsets(
            caracas,
            datetime!(2018-01-01 00:00 UTC),
            datetime!(2005-01-01 00:00 UTC)
        ));
        assert!(whole_hour_offsets(caracas, until, until));
    }

    #[test]
    fn offsets_are_constant_outside_the_probed_span() {
        // `offset_periods` probes once before TABLES_FROM and once after TABLES_UNTIL; that is
        // exact only while the bundled database has no changes out there. Checked for every
        // zone at a few points (a seasonal rule would show up as January ≠ July).
        let far = [
            (TABLES_UNTIL, datetime!(2300-01-01 00:00 UTC)),
            (TABLES_UNTIL, datetime!(2300-07-01 00:00 UTC)),
            (TABLES_UNTIL, datetime!(9999-07-01 00:00 UTC)),
            (TABLES_FROM, datetime!(1700-07-01 00:00 UTC)),
            (TABLES_FROM, datetime!(-9999-01-01 00:00 UTC)),
        ];
        for tz in chrono_tz::TZ_VARIANTS {
            for (edge, at) in far {
                assert_eq!(
                    offset_at(tz, edge),
                    offset_at(tz, at.unix_timestamp()),
                    "{}",
                    tz.name()
                );
            }
        }
        // A span over the whole representable range stays cheap and finds Berlin's changes.
        let periods = offset_periods(
            zone("Europe/Berlin"),
            datetime!(-9999-01-01 00:00 UTC).unix_timestamp(),
            datetime!(9999-12-31 23:59:59 UTC).unix_timestamp(),
        )
        .expect("in range");
        assert!(periods.len() > 200, "{}", periods.len());
    }
}
