//! Timestamps as both engines store them. PostgreSQL keeps `timestamptz`; SQLite keeps text, and
//! text only sorts like time when every value has the same width — so SQLite gets
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ` always, never the shortened fractions RFC 3339 allows.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A UTC instant with microsecond precision, encoded so that both engines order it correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbTime(pub OffsetDateTime);

impl From<OffsetDateTime> for DbTime {
    fn from(t: OffsetDateTime) -> Self {
        Self(commlog_domain::time_fmt::normalize(t))
    }
}

impl DbTime {
    pub fn opt(t: Option<OffsetDateTime>) -> Option<Self> {
        t.map(Self::from)
    }

    /// The fixed-width text form used on SQLite.
    pub fn to_sqlite_text(self) -> Result<String, time::error::Format> {
        let f = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        commlog_domain::time_fmt::normalize(self.0).format(&f)
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<OffsetDateTime as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(self.to_sqlite_text()?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Self(OffsetDateTime::parse(text, &Rfc3339)?))
    }
}

#[cfg(test)]
mod tests {
    use super::DbTime;
    use time::macros::datetime;

    #[test]
    fn sqlite_text_is_fixed_width_and_sorts_like_time() {
        let a = DbTime::from(datetime!(2026-01-01 10:00:00 UTC))
            .to_sqlite_text()
            .expect("format");
        let b = DbTime::from(datetime!(2026-01-01 10:00:00.5 UTC))
            .to_sqlite_text()
            .expect("format");
        assert_eq!(a, "2026-01-01T10:00:00.000000Z");
        assert_eq!(a.len(), b.len());
        assert!(a < b);
    }
}
