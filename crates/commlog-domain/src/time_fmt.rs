//! Timestamps: ISO 8601 / RFC 3339 in UTC, truncated to microseconds (the precision both
//! SQL engines keep), so a value read back equals the value written.

use time::{OffsetDateTime, UtcOffset};

/// The current time, UTC, microsecond precision.
pub fn now() -> OffsetDateTime {
    normalize(OffsetDateTime::now_utc())
}

/// Converts to UTC and drops sub-microsecond precision.
pub fn normalize(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.replace_nanosecond(micros).unwrap_or(t)
}

/// Serde adapter: RFC 3339 in and out, normalised to UTC microseconds.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = super::normalize(*t)
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map(super::normalize)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "invalid ISO 8601 timestamp `{}`",
                    truncate(&text)
                ))
            })
    }

    fn truncate(s: &str) -> &str {
        match s.char_indices().nth(40) {
            Some((i, _)) => &s[..i],
            None => s,
        }
    }

    /// The same for `Option<OffsetDateTime>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] OffsetDateTime);
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }
}
