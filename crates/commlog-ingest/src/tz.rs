//! The PBX's wall clock: CDR timestamps are local times without an offset, so an importer is
//! configured with the PBX's IANA time zone (bundled database, no system files needed) and
//! each local time is resolved to UTC here, with daylight-saving folds and gaps made explicit.

use crate::error::{ParseError, shown};
use chrono::offset::MappedLocalTime;
use chrono::{NaiveDate, Offset, TimeZone};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The time zone a PBX writes its local timestamps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PbxTimeZone(Zone);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    Utc,
    Iana(chrono_tz::Tz),
}

/// A local time resolved in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTime {
    /// Exactly one instant has this wall-clock time.
    Unique(OffsetDateTime),
    /// The clock went back (end of daylight saving): the time happened twice.
    Ambiguous {
        /// The first occurrence (still on summer time).
        earlier: OffsetDateTime,
        /// The second occurrence (back on standard time).
        later: OffsetDateTime,
    },
    /// The clock skipped this time (start of daylight saving): no instant has it.
    Gap,
}

impl LocalTime {
    /// The instants this local time may denote, earliest first (none for a gap).
    pub fn candidates(self) -> Vec<OffsetDateTime> {
        match self {
            Self::Unique(t) => vec![t],
            Self::Ambiguous { earlier, later } => vec![earlier, later],
            Self::Gap => Vec::new(),
        }
    }
}

impl PbxTimeZone {
    /// UTC, for a PBX that writes UTC (Asterisk `usegmtime=yes`).
    pub fn utc() -> Self {
        Self(Zone::Utc)
    }

    /// An IANA zone such as `America/New_York`; `UTC` is accepted too.
    pub fn iana(name: &str) -> Result<Self, ParseError> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") {
            return Ok(Self::utc());
        }
        name.parse::<chrono_tz::Tz>()
            .map(|tz| Self(Zone::Iana(tz)))
            .map_err(|_| {
                ParseError::invalid(
                    "time_zone",
                    format!("{} is not an IANA time zone name", shown(name)),
                )
            })
    }

    /// The zone's name.
    pub fn name(&self) -> &'static str {
        match self.0 {
            Zone::Utc => "UTC",
            Zone::Iana(tz) => tz.name(),
        }
    }

    /// Resolves a wall-clock time in this zone.
    pub fn resolve(&self, local: PrimitiveDateTime) -> LocalTime {
        let tz = match self.0 {
            Zone::Utc => return LocalTime::Unique(local.assume_utc()),
            Zone::Iana(tz) => tz,
        };
        let naive = NaiveDate::from_ymd_opt(
            local.year(),
            u32::from(u8::from(local.month())),
            u32::from(local.day()),
        )
        .and_then(|d| {
            d.and_hms_opt(
                u32::from(local.hour()),
                u32::from(local.minute()),
                u32::from(local.second()),
            )
        });
        let Some(naive) = naive else {
            return LocalTime::Gap;
        };
        let at = |offset: chrono_tz::TzOffset| -> Option<OffsetDateTime> {
            let secs = offset.fix().local_minus_utc();
            let off = UtcOffset::from_whole_seconds(secs).ok()?;
            Some(local.assume_offset(off).to_offset(UtcOffset::UTC))
        };
        match tz.offset_from_local_datetime(&naive) {
            MappedLocalTime::Single(o) => at(o).map_or(LocalTime::Gap, LocalTime::Unique),
            MappedLocalTime::Ambiguous(a, b) => match (at(a), at(b)) {
                (Some(a), Some(b)) => LocalTime::Ambiguous {
                    earlier: a.min(b),
                    later: a.max(b),
                },
                (Some(t), None) | (None, Some(t)) => LocalTime::Unique(t),
                (None, None) => LocalTime::Gap,
            },
            MappedLocalTime::None => LocalTime::Gap,
        }
    }
}

/// Formats a local time the way CDRs write it, for error messages.
pub(crate) fn format_local_stamp(t: PrimitiveDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).unwrap_or_else(|_| t.to_string())
}

/// Parses a CDR stamp `YYYY-MM-DD HH:MM:SS` (local time, no offset).
pub fn parse_local_stamp(s: &str) -> Result<PrimitiveDateTime, String> {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s.trim(), &fmt)
        .map_err(|_| format!("{} is not a `YYYY-MM-DD HH:MM:SS` time", shown(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ny() -> PbxTimeZone {
        PbxTimeZone::iana("America/New_York").expect("zone")
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(ny().name(), "America/New_York");
        assert_eq!(PbxTimeZone::iana("utc").expect("utc"), PbxTimeZone::utc());
        assert!(PbxTimeZone::iana("America/Atlantis").is_err());
        assert!(PbxTimeZone::iana("").is_err());
    }

    #[test]
    fn standard_and_summer_time_convert() {
        assert_eq!(
            ny().resolve(datetime!(2026-11-24 10:00:00)),
            LocalTime::Unique(datetime!(2026-11-24 15:00:00 UTC))
        );
        assert_eq!(
            ny().resolve(datetime!(2026-07-01 10:00:00)),
            LocalTime::Unique(datetime!(2026-07-01 14:00:00 UTC))
        );
        assert_eq!(
            PbxTimeZone::utc().resolve(datetime!(2026-07-01 10:00:00)),
            LocalTime::Unique(datetime!(2026-07-01 10:00:00 UTC))
        );
    }

    #[test]
    fn folds_and_gaps_are_explicit() {
        // 2026-11-01: New York falls back from 02:00 EDT to 01:00 EST.
        assert_eq!(
            ny().resolve(datetime!(2026-11-01 01:30:00)),
            LocalTime::Ambiguous {
                earlier: datetime!(2026-11-01 05:30:00 UTC),
                later: datetime!(2026-11-01 06:30:00 UTC),
            }
        );
        // 2026-03-08: New York springs forward from 02:00 EST to 03:00 EDT.
        assert_eq!(ny().resolve(datetime!(2026-03-08 02:30:00)), LocalTime::Gap);
        assert!(LocalTime::Gap.candidates().is_empty());
    }

    #[test]
    fn stamps_are_strict() {
        assert_eq!(
            parse_local_stamp("2026-11-24 10:00:05"),
            Ok(datetime!(2026-11-24 10:00:05))
        );
        for bad in [
            "2026-11-24",
            "2026-13-01 00:00:00",
            "2026-11-24T10:00:00",
            "24/11/2026 10:00:00",
            "2026-02-30 10:00:00",
            "",
        ] {
            assert!(parse_local_stamp(bad).is_err(), "{bad}");
        }
    }
}
