//! Business-hours calendars: the working days and hours of a company or a team, and the
//! working time between two instants.
//!
//! Response-time analytics measure how long a customer waited during working time ("answered
//! within 4 business hours"), not in elapsed time, or a message received on Friday evening and
//! answered on Monday morning would count as a 60-hour wait. Working hours are wall-clock times
//! in the company's zone, so the arithmetic goes through the zone's UTC offsets: a 09:00–17:00
//! day is 8 hours even on the day daylight saving time starts, unless the clocks change inside
//! the window, in which case the window is the time that really elapsed.

use crate::ValidationErrors;
use crate::buckets::{DAY, offset_periods};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// At most this many holidays per calendar (a century of public holidays).
pub const MAX_HOLIDAYS: usize = 2_000;

/// Working days and hours of a company or a team, in its time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessCalendar {
    /// ISO weekdays that are working days: 1 = Monday … 7 = Sunday.
    pub working_days: Vec<u8>,
    /// Local opening time, "HH:MM".
    pub start: String,
    /// Local closing time, "HH:MM", after start.
    pub end: String,
    /// Local dates ("YYYY-MM-DD") that are not working days.
    #[serde(default)]
    pub holidays: Vec<String>,
}

impl BusinessCalendar {
    /// Checks the calendar. Errors name their field under `field_prefix`, e.g.
    /// `calendar.start` or `calendar.holidays[2]` for the prefix `calendar` (no prefix when it
    /// is empty).
    pub fn validate(&self, field_prefix: &str) -> Result<(), ValidationErrors> {
        let field = |name: &str| {
            if field_prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{field_prefix}.{name}")
            }
        };
        let mut e = ValidationErrors::new();

        let days = field("working_days");
        if self.working_days.is_empty() {
            e.add(&days, "required", "at least one working day is required");
        }
        let mut seen = [false; 7];
        for (i, &d) in self.working_days.iter().enumerate() {
            match usize::from(d).checked_sub(1).filter(|&k| k < 7) {
                None => e.add(
                    &format!("{days}[{i}]"),
                    "out_of_range",
                    "a working day is an ISO weekday, 1 (Monday) to 7 (Sunday)",
                ),
                Some(k) if seen[k] => e.add(
                    &format!("{days}[{i}]"),
                    "duplicate",
                    "each working day may be listed once",
                ),
                Some(k) => seen[k] = true,
            }
        }

        let start = parse_hhmm(&self.start);
        let end = parse_hhmm(&self.end);
        for (name, parsed) in [("start", start), ("end", end)] {
            if parsed.is_none() {
                e.add(
                    &field(name),
                    "invalid_time",
                    format!("{name} must be a time `HH:MM`, 00:00 to 23:59"),
                );
            }
        }
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            e.add(&field("end"), "not_after_start", "end must be after start");
        }

        let holidays = field("holidays");
        if self.holidays.len() > MAX_HOLIDAYS {
            e.add(
                &holidays,
                "too_many",
                format!("at most {MAX_HOLIDAYS} holidays"),
            );
        } else {
            for (i, h) in self.holidays.iter().enumerate() {
                if parse_day(h).is_none() {
                    e.add(
                        &format!("{holidays}[{i}]"),
                        "invalid_date",
                        "a holiday must be a date `YYYY-MM-DD`",
                    );
                }
            }
        }
        e.into_result()
    }

    /// Seconds of working time from `from` to `to` in zone `tz` (0 when `to <= from`): the time
    /// during which the local wall clock is within [start, end) on a working day that is not a
    /// holiday. Sub-second parts of the instants are dropped.
    ///
    /// Across a change of UTC offset the window is the time that really elapsed: a 09:00–17:00
    /// day is 8 hours when the clocks change at night, and an 00:00–12:00 window is 11 hours on
    /// the day the clocks skip an hour in the morning (an hour repeated inside the window
    /// counts twice, an hour skipped not at all).
    ///
    /// Days are not iterated. The span is cut where the zone's offset changes, which are found
    /// by one offset look-up per day, and only within 1800–2200, the years in which the
    /// time-zone database has changes (see [`crate::buckets`]); so ten years take about 3,650
    /// look-ups and no span takes more than about 146,000. Between changes local time is UTC
    /// plus a constant, so the working time is counted arithmetically: whole weeks times the
    /// working days per week, plus the days left over, minus the holidays in the range (binary
    /// search in the sorted list), plus the partial first and last days.
    ///
    /// An invalid calendar, which [`Self::validate`] refuses, has no working time here: unknown
    /// weekdays and unparseable holidays are ignored, and unparseable or inverted hours give 0.
    pub fn business_seconds(&self, tz: Tz, from: OffsetDateTime, to: OffsetDateTime) -> i64 {
        let (from, to) = (from.unix_timestamp(), to.unix_timestamp());
        if to <= from {
            return 0;
        }
        let (Some(rules), Some(periods)) = (Rules::new(self), offset_periods(tz, from, to)) else {
            return 0;
        };
        let ends = periods.iter().skip(1).map(|&(at, _)| at).chain([to]);
        periods
            .iter()
            .zip(ends)
            .map(|(&(begin, off), end)| rules.working_seconds(begin + off, end + off))
            .sum()
    }
}

/// A calendar in the form the arithmetic needs. Days are numbered from 1970-01-01 (day 0,
/// a Thursday), in local time; times of day are seconds since local midnight.
struct Rules {
    open: i64,
    close: i64,
    /// By weekday, Monday first.
    works: [bool; 7],
    /// Working days per week.
    per_week: i64,
    /// Holidays that fall on working weekdays (the others change nothing), sorted, each once.
    holidays: Vec<i64>,
}

impl Rules {
    fn new(cal: &BusinessCalendar) -> Option<Self> {
        let open = parse_hhmm(&cal.start)?;
        let close = parse_hhmm(&cal.end)?;
        if close <= open {
            return None;
        }
        let mut works = [false; 7];
        for &d in &cal.working_days {
            if let Some(w) = usize::from(d).checked_sub(1).and_then(|k| works.get_mut(k)) {
                *w = true;
            }
        }
        let per_week = works.iter().map(|&w| i64::from(w)).sum();
        let mut holidays: Vec<i64> = cal
            .holidays
            .iter()
            .filter_map(|h| parse_day(h))
            .filter(|&d| works[weekday(d)])
            .collect();
        holidays.sort_unstable();
        holidays.dedup();
        Some(Self {
            open,
            close,
            works,
            per_week,
            holidays,
        })
    }

    /// Working seconds in the local wall-clock interval [a, b), in seconds since 1970-01-01
    /// 00:00 local.
    fn working_seconds(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let (first, a_time) = (a.div_euclid(DAY), a.rem_euclid(DAY));
        let (last, b_time) = (b.div_euclid(DAY), b.rem_euclid(DAY));
        if first == last {
            return self.within_day(first, a_time, b_time);
        }
        self.within_day(first, a_time, DAY)
            + self.whole_days(first + 1, last) * (self.close - self.open)
            + self.within_day(last, 0, b_time)
    }

    /// Working seconds of day `day` between the times of day `from` and `to`.
    fn within_day(&self, day: i64, from: i64, to: i64) -> i64 {
        let working = self.works[weekday(day)] && self.holidays.binary_search(&day).is_err();
        if working {
            (to.min(self.close) - from.max(self.open)).max(0)
        } else {
            0
        }
    }

    /// The number of working days in the days [first, end): whole weeks times the working days
    /// per week, plus the working weekdays of the rest, minus the holidays in the range.
    fn whole_days(&self, first: i64, end: i64) -> i64 {
        let n = end - first;
        if n <= 0 {
            return 0;
        }
        let rest: i64 = (0..n % 7)
            .map(|k| i64::from(self.works[weekday(first + k)]))
            .sum();
        let off_lo = self.holidays.partition_point(|&h| h < first);
        let off_hi = self.holidays.partition_point(|&h| h < end);
        let off = i64::try_from(off_hi - off_lo).unwrap_or(0);
        n / 7 * self.per_week + rest - off
    }
}

/// Monday = 0 … Sunday = 6 for a day number (day 0, 1970-01-01, was a Thursday).
fn weekday(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the conversion cannot fail.
    usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0)
}

/// Parses "HH:MM" (two digits each, 00:00 to 23:59) into seconds since midnight.
fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 3_600 + m * 60)
}

/// Parses "YYYY-MM-DD" (a real date) into its day number since 1970-01-01.
fn parse_day(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, len: usize| p.len() == len && p.bytes().all(|c| c.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(
        date.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp()
            .div_euclid(DAY),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const HOUR: i64 = 3_600;
    const WORKDAY: i64 = 8 * HOUR;

    fn berlin() -> Tz {
        chrono_tz::Europe::Berlin
    }

    fn calendar(days: &[u8], start: &str, end: &str, holidays: &[&str]) -> BusinessCalendar {
        BusinessCalendar {
            working_days: days.to_vec(),
            start: start.to_owned(),
            end: end.to_owned(),
            holidays: holidays.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    /// Monday to Friday, 09:00–17:00.
    fn office(holidays: &[&str]) -> BusinessCalendar {
        calendar(&[1, 2, 3, 4, 5], "09:00", "17:00", holidays)
    }

    #[test]
    fn weekends_do_not_count() {
        // Friday 2026-03-27 16:00 CET (15:00Z) to Monday 2026-03-30 10:00 CEST (08:00Z): the
        // last hour of Friday and the first of Monday; the weekend (and the change to summer
        // time on Sunday night) adds nothing.
        let s = office(&[]).business_seconds(
            berlin(),
            datetime!(2026-03-27 15:00 UTC),
            datetime!(2026-03-30 08:00 UTC),
        );
        assert_eq!(s, 2 * HOUR);
    }

    #[test]
    fn holidays_do_not_count() {
        // Thursday 2026-04-02 00:00 CEST to Monday 2026-04-06 00:00 CEST: Thursday's 8 hours;
        // Good Friday (04-03) is a holiday, then the weekend.
        let (from, to) = (
            datetime!(2026-04-01 22:00 UTC),
            datetime!(2026-04-05 22:00 UTC),
        );
        assert_eq!(
            office(&["2026-04-03"]).business_seconds(berlin(), from, to),
            WORKDAY
        );
        // Without the holiday, Friday counts too.
        assert_eq!(
            office(&[]).business_seconds(berlin(), from, to),
            2 * WORKDAY
        );
    }

    #[test]
    fn dst_changes_at_night_keep_the_window() {
        let every_day = calendar(&[1, 2, 3, 4, 5, 6, 7], "09:00", "17:00", &[]);
        // Saturday 2026-03-28 00:00 CET (27th 23:00Z) to Monday 00:00 CEST (29th 22:00Z) is
        // 47 hours, of which Saturday 09–17 and Sunday 09–17: the clocks changed at 02:00 on
        // Sunday, outside the window, so both days are 8 hours.
        let s = every_day.business_seconds(
            berlin(),
            datetime!(2026-03-27 23:00 UTC),
            datetime!(2026-03-29 22:00 UTC),
        );
        assert_eq!(s, 2 * WORKDAY);
        // The same in autumn: 49 hours, still 2 × 8 working hours.
        let s = every_day.business_seconds(
            berlin(),
            datetime!(2026-10-23 22:00 UTC),
            datetime!(2026-10-25 23:00 UTC),
        );
        assert_eq!(s, 2 * WORKDAY);
    }

    #[test]
    fn dst_changes_inside_the_window_are_real_time() {
        let mornings = calendar(&[1, 2, 3, 4, 5, 6, 7], "00:00", "12:00", &[]);
        // Sunday 2026-03-29: 00:00 CET (28th 23:00Z) to 12:00 CEST (10:00Z) is 11 hours.
        let s = mornings.business_seconds(
            berlin(),
            datetime!(2026-03-28 23:00 UTC),
            datetime!(2026-03-29 22:00 UTC),
        );
        assert_eq!(s, 11 * HOUR);
        // Sunday 2026-10-25: 00:00 CEST (24th 22:00Z) to 12:00 CET (11:00Z) is 13 hours.
        let s = mornings.business_seconds(
            berlin(),
            datetime!(2026-10-24 22:00 UTC),
            datetime!(2026-10-25 23:00 UTC),
        );
        assert_eq!(s, 13 * HOUR);
    }

    #[test]
    fn spans_may_start_and_end_mid_day() {
        let cal = office(&[]);
        let tz = berlin();
        // Wednesday 2026-03-18 10:30 CET (09:30Z) to Thursday 15:15 CET (14:15Z): 10:30–17:00
        // is 6 h 30 min, 09:00–15:15 is 6 h 15 min.
        let s = cal.business_seconds(
            tz,
            datetime!(2026-03-18 09:30 UTC),
            datetime!(2026-03-19 14:15 UTC),
        );
        assert_eq!(s, 6 * HOUR + 1_800 + 6 * HOUR + 900);
        // Within one day: 10:30–12:00 CET is 90 minutes; 07:00–08:00 is before opening;
        // 16:00–20:00 overlaps the last hour only.
        let day = |from, to| cal.business_seconds(tz, from, to);
        assert_eq!(
            day(
                datetime!(2026-03-18 09:30 UTC),
                datetime!(2026-03-18 11:00 UTC)
            ),
            5_400
        );
        assert_eq!(
            day(
                datetime!(2026-03-18 06:00 UTC),
                datetime!(2026-03-18 07:00 UTC)
            ),
            0
        );
        assert_eq!(
            day(
                datetime!(2026-03-18 15:00 UTC),
                datetime!(2026-03-18 19:00 UTC)
            ),
            HOUR
        );
    }

    #[test]
    fn backwards_or_empty_spans_are_zero() {
        let (a, b) = (
            datetime!(2026-03-18 09:30 UTC),
            datetime!(2026-03-19 14:15 UTC),
        );
        assert_eq!(office(&[]).business_seconds(berlin(), b, a), 0);
        assert_eq!(office(&[]).business_seconds(berlin(), a, a), 0);
    }

    #[test]
    fn ten_years_match_the_formula_and_finish_fast() {
        // Monday 2026-01-05 00:00 CET (4th 23:00Z) to Saturday 2036-01-05 00:00 CET: 3,652 days
        // (2028 and 2032 are leap years) = 521 weeks + Monday to Friday, so 521 × 5 + 5 =
        // 2,610 working days of 8 hours. Berlin changes its clocks on Sunday nights only.
        let (from, to) = (
            datetime!(2026-01-04 23:00 UTC),
            datetime!(2036-01-04 23:00 UTC),
        );
        let started = std::time::Instant::now();
        assert_eq!(
            office(&[]).business_seconds(berlin(), from, to),
            2_610 * WORKDAY
        );
        // A holiday on a working day takes a day off, once however often it is listed; one on
        // a Saturday (2027-12-25) or outside the span changes nothing. 2030-12-25 is a
        // Wednesday.
        let holidays = ["2027-12-25", "2030-12-25", "2030-12-25", "2040-01-02"];
        assert_eq!(
            office(&holidays).business_seconds(berlin(), from, to),
            2_609 * WORKDAY
        );
        // A loose bound (this takes about a millisecond): iterating minutes would not make it.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn centuries_are_counted_by_weeks() {
        // Sunday 2000-01-02 12:00Z to Sunday 2800-01-02 12:00Z: 800 Gregorian years are
        // 292,194 days = 41,742 whole weeks (from Monday 2000-01-03), 5 working days each; the
        // ends fall on Sundays, so their local offset does not matter.
        let (from, to) = (
            datetime!(2000-01-02 12:00 UTC),
            datetime!(2800-01-02 12:00 UTC),
        );
        for tz in [Tz::UTC, berlin()] {
            assert_eq!(
                office(&[]).business_seconds(tz, from, to),
                41_742 * 5 * WORKDAY,
                "{}",
                tz.name()
            );
        }
    }

    #[test]
    fn invalid_calendars_have_no_working_time() {
        let (from, to) = (
            datetime!(2026-03-16 00:00 UTC),
            datetime!(2026-03-21 00:00 UTC),
        );
        for cal in [
            calendar(&[1, 2, 3, 4, 5], "9:00", "17:00", &[]),
            calendar(&[1, 2, 3, 4, 5], "17:00", "09:00", &[]),
            calendar(&[1, 2, 3, 4, 5], "09:00", "24:00", &[]),
            calendar(&[], "09:00", "17:00", &[]),
            calendar(&[0, 8, 200], "09:00", "17:00", &[]),
        ] {
            assert_eq!(cal.business_seconds(berlin(), from, to), 0, "{cal:?}");
        }
        // An unparseable holiday is ignored rather than taken for some other date.
        let cal = office(&["someday"]);
        assert_eq!(cal.business_seconds(berlin(), from, to), 5 * WORKDAY);
    }

    #[test]
    fn validation_names_fields() {
        assert_eq!(office(&["2026-12-24"]).validate("calendar"), Ok(()));
        let cal = calendar(&[1, 1, 8], "9:00", "17:60", &["2026-02-30", "2026-12-24"]);
        let errs = cal.validate("calendar").expect_err("invalid");
        let fields: Vec<(&str, &str)> = errs
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("calendar.working_days[1]", "duplicate"),
                ("calendar.working_days[2]", "out_of_range"),
                ("calendar.start", "invalid_time"),
                ("calendar.end", "invalid_time"),
                ("calendar.holidays[0]", "invalid_date"),
            ]
        );
        let errs = calendar(&[], "17:00", "17:00", &[])
            .validate("")
            .expect_err("invalid");
        let fields: Vec<&str> = errs.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["working_days", "end"]);
        let many: Vec<&str> = vec!["2026-01-01"; MAX_HOLIDAYS + 1];
        let errs = office(&many)
            .validate("team.calendar")
            .expect_err("too many");
        assert_eq!(errs.errors[0].field, "team.calendar.holidays");
    }

    #[test]
    fn parsing_is_strict() {
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("23:59"), Some(23 * HOUR + 59 * 60));
        for bad in [
            "24:00", "9:00", "09:0", "09:60", "0900", "09:00:00", "+9:00", " 09:00", "",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("1969-12-31"), Some(-1));
        // 2026-01-05 is 20,458 days after 1970-01-01 and a Monday.
        assert_eq!(parse_day("2026-01-05"), Some(20_458));
        assert_eq!(weekday(20_458), 0);
        for bad in [
            "2026-02-29",
            "2026-1-05",
            "26-01-05",
            "2026-01-05T00:00",
            "2026/01/05",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn serde_shape() {
        let json = r#"{"working_days":[1,2,3,4,5],"start":"09:00","end":"17:00"}"#;
        let cal: BusinessCalendar = serde_json::from_str(json).expect("parse");
        assert_eq!(cal, office(&[]));
        let unknown = r#"{"working_days":[1],"start":"09:00","end":"17:00","tz":"UTC"}"#;
        assert!(serde_json::from_str::<BusinessCalendar>(unknown).is_err());
    }
}
