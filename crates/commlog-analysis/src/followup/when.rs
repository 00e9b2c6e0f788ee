//! Future time expressions and their resolution to an instant in a time zone.

#[cfg(test)]
use super::clock;
use super::clock::{clock_time, local, part_of_day, to_offset_date_time};
use super::pattern;
use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use regex::{Captures, Regex};
use std::sync::LazyLock;
use time::OffsetDateTime;

/// Local hour of a commitment that names a day but no time.
pub const DEFAULT_HOUR: u32 = 9;
/// Local hour for "end of day/week/month".
const END_OF_DAY_HOUR: u32 = 17;

static TODAY: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)\b(?:today|tonight|this\s+(?:morning|afternoon|evening)|later\s+today)\b")
});
static TOMORROW: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b(day\s+after\s+)?(?:tomorrow|tmrw)\b"));
static WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(?:(next|this|coming)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri)\b",
    )
});
static IN_DURATION: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(?:in|within)\s+(a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+couple\s+(?:of\s+)?|a\s+few|couple\s+(?:of\s+)?|few|\d{1,3})\s*(minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b",
    )
});
static NEXT_PERIOD: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b(?:next|the\s+following)\s+(week|month)\b"));
static END_OF: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\bend\s+of\s+(?:the\s+|this\s+)?(day|week|month)\b|\b(eod|eow|cob)\b|\bclose\s+of\s+business\b",
    )
});
const MONTHS: &str = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b(?:,?\s+(\d{{4}}))?"
    ))
});
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    pattern(&format!(
        r"(?i)\b{MONTHS}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"
    ))
});

/// Forces every pattern; used by the unit tests.
#[cfg(test)]
pub(super) fn compile_all() {
    for re in [
        &TODAY,
        &TOMORROW,
        &WEEKDAY,
        &IN_DURATION,
        &NEXT_PERIOD,
        &END_OF,
        &DAY_MONTH,
        &MONTH_DAY,
        &clock::CLOCK,
        &clock::PART_OF_DAY,
    ] {
        assert!(!re.as_str().is_empty());
    }
}

/// The day a sentence names, and whether it names a fixed time of day (end of …).
enum Day {
    Date(NaiveDate),
    DateAt(NaiveDate, u32),
    Instant(DateTime<Tz>),
}

/// The due instant of the earliest future time expression in `sentence`, if any.
pub(super) fn due(sentence: &str, now: DateTime<Tz>) -> Option<OffsetDateTime> {
    let today = now.date_naive();
    let mut found: Vec<(usize, Day)> = Vec::new();
    let mut push = |pos: usize, day: Option<Day>| {
        if let Some(d) = day {
            found.push((pos, d));
        }
    };
    for c in TODAY.captures_iter(sentence) {
        push(start(&c), Some(Day::Date(today)));
    }
    for c in TOMORROW.captures_iter(sentence) {
        push(
            start(&c),
            today
                .checked_add_days(Days::new(if c.get(1).is_some() { 2 } else { 1 }))
                .map(Day::Date),
        );
    }
    for c in WEEKDAY.captures_iter(sentence) {
        if !preceded_by_past(sentence, start(&c)) {
            push(start(&c), weekday(&c, today).map(Day::Date));
        }
    }
    for c in IN_DURATION.captures_iter(sentence) {
        push(start(&c), in_duration(&c, now, today));
    }
    for c in NEXT_PERIOD.captures_iter(sentence) {
        let day = if c[1].eq_ignore_ascii_case("week") {
            today.checked_add_days(Days::new(
                7 - u64::from(today.weekday().num_days_from_monday()),
            ))
        } else {
            today
                .with_day(1)
                .and_then(|d| d.checked_add_months(Months::new(1)))
        };
        push(start(&c), day.map(Day::Date));
    }
    for c in END_OF.captures_iter(sentence) {
        push(
            start(&c),
            end_of(&c, today).map(|d| Day::DateAt(d, END_OF_DAY_HOUR)),
        );
    }
    for c in DAY_MONTH.captures_iter(sentence) {
        push(
            start(&c),
            calendar_date(&c[2], &c[1], c.get(3).map(|m| m.as_str()), today).map(Day::Date),
        );
    }
    for c in MONTH_DAY.captures_iter(sentence) {
        push(
            start(&c),
            calendar_date(&c[1], &c[2], c.get(3).map(|m| m.as_str()), today).map(Day::Date),
        );
    }
    let clock = clock_time(sentence);
    let (_, day) = match found.into_iter().min_by_key(|(pos, _)| *pos) {
        Some(found) => found,
        // A bare clock time ("call me at 3pm") is today if still ahead, else tomorrow.
        None => {
            let t = clock?;
            let date = if local(today, t, now.timezone())? > now {
                today
            } else {
                today.checked_add_days(Days::new(1))?
            };
            (0, Day::Date(date))
        }
    };
    let due = match day {
        Day::Instant(at) => at,
        Day::DateAt(date, hour) => local(
            date,
            clock.or_else(|| NaiveTime::from_hms_opt(hour, 0, 0))?,
            now.timezone(),
        )?,
        Day::Date(date) => {
            let time = clock
                .or_else(|| part_of_day(sentence))
                .or_else(|| NaiveTime::from_hms_opt(DEFAULT_HOUR, 0, 0))?;
            let at = local(date, time, now.timezone())?;
            // "Call me today" late in the day: due now rather than in the past.
            if at < now && date == today { now } else { at }
        }
    };
    to_offset_date_time(due)
}

fn start(c: &Captures<'_>) -> usize {
    c.get(0).map_or(0, |m| m.start())
}

/// "last Friday", "past Monday", "previous Tuesday" refer back, not forward.
fn preceded_by_past(sentence: &str, pos: usize) -> bool {
    let before = sentence.get(..pos).unwrap_or("").trim_end().to_lowercase();
    ["last", "past", "previous"]
        .iter()
        .any(|w| before.ends_with(w))
}

fn weekday(c: &Captures<'_>, today: NaiveDate) -> Option<NaiveDate> {
    let name = c.get(2)?.as_str().to_lowercase();
    let target = name.get(..3)?.parse::<Weekday>().ok()?;
    let ahead = (7 + target.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    // "this Friday" may be today; a bare or "next" weekday is the next one after today.
    let is_this = c
        .get(1)
        .is_some_and(|m| m.as_str().eq_ignore_ascii_case("this"));
    let days = if ahead == 0 && !is_this { 7 } else { ahead };
    today.checked_add_days(Days::new(u64::from(days)))
}

fn in_duration(c: &Captures<'_>, now: DateTime<Tz>, today: NaiveDate) -> Option<Day> {
    let amount = c.get(1)?.as_str().to_lowercase();
    let n: u32 = match amount.split_whitespace().next()? {
        "a" | "an" | "one" if !amount.contains("couple") && !amount.contains("few") => 1,
        "a" | "couple" if amount.contains("couple") => 2,
        "a" | "few" => 3,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        digits => digits.parse().ok()?,
    };
    let unit = c.get(2)?.as_str().to_lowercase();
    Some(match unit.chars().next()? {
        // Minutes and hours are elapsed time; days and longer are calendar days.
        'm' if unit.starts_with("mi") => {
            Day::Instant(now.checked_add_signed(Duration::minutes(i64::from(n)))?)
        }
        'h' => Day::Instant(now.checked_add_signed(Duration::hours(i64::from(n)))?),
        'd' => Day::Date(today.checked_add_days(Days::new(u64::from(n)))?),
        'w' => Day::Date(today.checked_add_days(Days::new(7 * u64::from(n)))?),
        _ => Day::Date(today.checked_add_months(Months::new(n))?),
    })
}

fn end_of(c: &Captures<'_>, today: NaiveDate) -> Option<NaiveDate> {
    let word = c
        .get(1)
        .or_else(|| c.get(2))
        .map_or("day".to_owned(), |m| m.as_str().to_lowercase());
    match word.as_str() {
        "week" | "eow" => {
            // The working week ends on Friday; at the weekend, the coming one.
            let from_monday = today.weekday().num_days_from_monday();
            let ahead = if from_monday <= 4 {
                4 - from_monday
            } else {
                11 - from_monday
            };
            today.checked_add_days(Days::new(u64::from(ahead)))
        }
        "month" => today
            .with_day(1)?
            .checked_add_months(Months::new(1))?
            .pred_opt(),
        _ => Some(today),
    }
}

fn calendar_date(
    month: &str,
    day: &str,
    year: Option<&str>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let month = month.to_lowercase();
    let m = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|p| month.starts_with(p))? as u32
        + 1;
    let d: u32 = day.parse().ok()?;
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y.parse().ok()?, m, d);
    }
    // Without a year, the next such date (today counts).
    let this_year = NaiveDate::from_ymd_opt(today.year(), m, d);
    match this_year {
        Some(date) if date >= today => Some(date),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, m, d),
    }
}
