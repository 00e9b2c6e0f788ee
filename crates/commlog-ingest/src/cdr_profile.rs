//! CDR CSV layouts: which column holds which field for Asterisk `Master.csv` (16, 17, 18 or
//! 21 columns), FreeSWITCH's default and Asterisk-compatible `mod_cdr_csv` templates, and
//! custom column maps declared as `src=1,dst=2,start=9,…` (0-based column indexes).

use crate::error::{ParseError, shown};
use crate::event::CallSource;
use std::str::FromStr;

/// A field a CDR column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CdrField {
    /// `accountcode`.
    AccountCode,
    /// The calling number (`src`, `caller_id_number`).
    Src,
    /// The called number (`dst`, `destination_number`).
    Dst,
    /// The dialplan context.
    Context,
    /// Caller id as `"Name" <number>`.
    Clid,
    /// A bare caller name (FreeSWITCH `caller_id_name`).
    CallerName,
    /// The calling channel.
    Channel,
    /// The called channel.
    DstChannel,
    /// The last dialplan application.
    LastApp,
    /// Start time (local).
    Start,
    /// Answer time (local); empty when unanswered.
    Answer,
    /// End time (local).
    End,
    /// Total seconds.
    Duration,
    /// Connected seconds.
    Billsec,
    /// Asterisk disposition (`ANSWERED`, `NO ANSWER`, `BUSY`, `FAILED`, `CONGESTION`).
    Disposition,
    /// Q.850 hangup cause name (FreeSWITCH `hangup_cause`).
    HangupCause,
    /// `uniqueid`/`uuid`: the dedupe key.
    UniqueId,
    /// `userfield`.
    UserField,
    /// `linkedid`.
    LinkedId,
    /// `sequence`.
    Sequence,
}

impl CdrField {
    /// Every field, in declaration order.
    pub const ALL: [CdrField; 20] = [
        Self::AccountCode,
        Self::Src,
        Self::Dst,
        Self::Context,
        Self::Clid,
        Self::CallerName,
        Self::Channel,
        Self::DstChannel,
        Self::LastApp,
        Self::Start,
        Self::Answer,
        Self::End,
        Self::Duration,
        Self::Billsec,
        Self::Disposition,
        Self::HangupCause,
        Self::UniqueId,
        Self::UserField,
        Self::LinkedId,
        Self::Sequence,
    ];

    /// The key naming this field in a column-map spec.
    pub fn key(self) -> &'static str {
        match self {
            Self::AccountCode => "accountcode",
            Self::Src => "src",
            Self::Dst => "dst",
            Self::Context => "context",
            Self::Clid => "clid",
            Self::CallerName => "name",
            Self::Channel => "channel",
            Self::DstChannel => "dstchannel",
            Self::LastApp => "lastapp",
            Self::Start => "start",
            Self::Answer => "answer",
            Self::End => "end",
            Self::Duration => "duration",
            Self::Billsec => "billsec",
            Self::Disposition => "disposition",
            Self::HangupCause => "cause",
            Self::UniqueId => "uniqueid",
            Self::UserField => "userfield",
            Self::LinkedId => "linkedid",
            Self::Sequence => "sequence",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        match key {
            "dcontext" => Some(Self::Context),
            "hangup_cause" => Some(Self::HangupCause),
            "uuid" => Some(Self::UniqueId),
            _ => Self::ALL.into_iter().find(|f| f.key() == key),
        }
    }

    fn slot(self) -> usize {
        // Declaration order, the same as `ALL`.
        self as usize
    }
}

/// Which column holds which field, and optionally the exact column count a line must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    source: CallSource,
    indices: [Option<usize>; 20],
    columns: Option<usize>,
}

impl ColumnMap {
    /// An empty map for records from `source`.
    pub fn new(source: CallSource) -> Self {
        Self {
            source,
            indices: [None; 20],
            columns: None,
        }
    }

    /// The map with `field` read from the 0-based `column`.
    pub fn with(mut self, field: CdrField, column: usize) -> Self {
        if let Some(slot) = self.indices.get_mut(field.slot()) {
            *slot = Some(column);
        }
        self
    }

    /// The map requiring lines of exactly `columns` columns.
    pub fn with_columns(mut self, columns: usize) -> Self {
        self.columns = Some(columns);
        self
    }

    /// The column holding `field`, if mapped.
    pub fn get(&self, field: CdrField) -> Option<usize> {
        self.indices.get(field.slot()).copied().flatten()
    }

    /// The PBX the records come from.
    pub fn source(&self) -> CallSource {
        self.source
    }

    /// Checks a line's column count against this map.
    pub fn check_columns(&self, found: usize) -> Result<(), String> {
        if let Some(n) = self.columns {
            if found != n {
                return Err(format!("expected {n} columns, found {found}"));
            }
            return Ok(());
        }
        let needed = self.indices.iter().flatten().max().map_or(0, |m| m + 1);
        if found < needed {
            return Err(format!("expected at least {needed} columns, found {found}"));
        }
        Ok(())
    }
}

/// Parses a spec such as `src=1,dst=2,start=9,answer=10,end=11,billsec=13,disposition=14,uniqueid=16`.
/// Keys are [`CdrField::key`]s plus `columns=<n>` (exact count) and `pbx=asterisk|freeswitch`;
/// `start`, `dst` and one of `src`/`clid` are required.
impl FromStr for ColumnMap {
    type Err = ParseError;

    fn from_str(spec: &str) -> Result<Self, ParseError> {
        const FIELD: &str = "column map";
        if spec.len() > 1024 {
            return Err(ParseError::invalid(FIELD, "longer than 1024 bytes"));
        }
        let mut map = ColumnMap::new(CallSource::Asterisk);
        let mut seen: Vec<&str> = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| {
                    ParseError::invalid(FIELD, format!("{} is not `key=value`", shown(item)))
                })?;
            if seen.contains(&key) {
                return Err(ParseError::invalid(
                    FIELD,
                    format!("{} is given twice", shown(key)),
                ));
            }
            seen.push(key);
            if key == "pbx" {
                map.source = match value {
                    "asterisk" => CallSource::Asterisk,
                    "freeswitch" => CallSource::FreeSwitch,
                    _ => {
                        return Err(ParseError::invalid(
                            FIELD,
                            "pbx must be asterisk or freeswitch",
                        ));
                    }
                };
                continue;
            }
            let index: usize = value.parse().ok().filter(|i| *i < 256).ok_or_else(|| {
                ParseError::invalid(
                    FIELD,
                    format!("{} is not a column index 0–255", shown(value)),
                )
            })?;
            if key == "columns" {
                map.columns = Some(index);
            } else {
                let field = CdrField::from_key(key).ok_or_else(|| {
                    ParseError::invalid(FIELD, format!("{} is not a known field", shown(key)))
                })?;
                map = map.with(field, index);
            }
        }
        for (ok, what) in [
            (map.get(CdrField::Start).is_some(), "start"),
            (map.get(CdrField::Dst).is_some(), "dst"),
            (
                map.get(CdrField::Src).is_some() || map.get(CdrField::Clid).is_some(),
                "src or clid",
            ),
        ] {
            if !ok {
                return Err(ParseError::invalid(
                    FIELD,
                    format!("`{what}` must be mapped"),
                ));
            }
        }
        if let Some(n) = map.columns {
            let needed = map.indices.iter().flatten().max().map_or(0, |m| m + 1);
            if needed > n {
                return Err(ParseError::invalid(
                    FIELD,
                    "an index is beyond the declared `columns`",
                ));
            }
        }
        Ok(map)
    }
}

/// Which Asterisk `Master.csv` variant a file is in (`loguniqueid`, `loguserfield`,
/// `newcdrcolumns`), or `Auto` to accept any of them line by line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsteriskColumns {
    /// 16, 17, 18 or 21 columns, decided per line.
    Auto,
    /// The base columns only.
    C16,
    /// Plus `uniqueid`.
    C17,
    /// Plus `uniqueid`, `userfield` (the sample `cdr.conf`).
    C18,
    /// Plus `uniqueid`, `userfield`, `peeraccount`, `linkedid`, `sequence`.
    C21,
}

/// How to read a CDR CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdrProfile {
    /// Asterisk `cdr_csv` (`Master.csv`).
    Asterisk(AsteriskColumns),
    /// FreeSWITCH `mod_cdr_csv` built-in default template (13 columns).
    FreeSwitchDefault,
    /// FreeSWITCH's Asterisk-compatible template (18 columns, hangup cause as disposition).
    FreeSwitchAsterisk,
    /// A declared column map.
    Custom(Box<ColumnMap>),
}

impl CdrProfile {
    /// The column map for a line of `found` columns, or why the line does not fit.
    pub fn layout(&self, found: usize) -> Result<ColumnMap, String> {
        use CdrField::*;
        let map = match self {
            Self::Asterisk(variant) => {
                let n = match (variant, found) {
                    (AsteriskColumns::Auto, 16 | 17 | 18 | 21) => found,
                    (AsteriskColumns::Auto, _) => {
                        return Err(format!("expected 16, 17, 18 or 21 columns, found {found}"));
                    }
                    (AsteriskColumns::C16, _) => 16,
                    (AsteriskColumns::C17, _) => 17,
                    (AsteriskColumns::C18, _) => 18,
                    (AsteriskColumns::C21, _) => 21,
                };
                let mut map = asterisk_base(CallSource::Asterisk, Disposition).with_columns(n);
                if n >= 17 {
                    map = map.with(UniqueId, 16);
                }
                if n >= 18 {
                    map = map.with(UserField, 17);
                }
                if n == 21 {
                    map = map.with(LinkedId, 19).with(Sequence, 20);
                }
                map
            }
            Self::FreeSwitchDefault => ColumnMap::new(CallSource::FreeSwitch)
                .with(CallerName, 0)
                .with(Src, 1)
                .with(Dst, 2)
                .with(Context, 3)
                .with(Start, 4)
                .with(Answer, 5)
                .with(End, 6)
                .with(Duration, 7)
                .with(Billsec, 8)
                .with(HangupCause, 9)
                .with(UniqueId, 10)
                .with(AccountCode, 12)
                .with_columns(13),
            Self::FreeSwitchAsterisk => asterisk_base(CallSource::FreeSwitch, HangupCause)
                .with(UniqueId, 16)
                .with(UserField, 17)
                .with_columns(18),
            Self::Custom(map) => (**map).clone(),
        };
        map.check_columns(found)?;
        Ok(map)
    }

    /// The PBX the records come from.
    pub fn source(&self) -> CallSource {
        match self {
            Self::Asterisk(_) => CallSource::Asterisk,
            Self::FreeSwitchDefault | Self::FreeSwitchAsterisk => CallSource::FreeSwitch,
            Self::Custom(map) => map.source(),
        }
    }
}

fn asterisk_base(source: CallSource, outcome_column: CdrField) -> ColumnMap {
    use CdrField::*;
    ColumnMap::new(source)
        .with(AccountCode, 0)
        .with(Src, 1)
        .with(Dst, 2)
        .with(Context, 3)
        .with(Clid, 4)
        .with(Channel, 5)
        .with(DstChannel, 6)
        .with(LastApp, 7)
        .with(Start, 9)
        .with(Answer, 10)
        .with(End, 11)
        .with(Duration, 12)
        .with(Billsec, 13)
        .with(outcome_column, 14)
}

/// Parses `asterisk` (auto), `asterisk-auto`, `asterisk-16|17|18|21`, `freeswitch`,
/// `freeswitch-asterisk` or `custom:<column map spec>`.
impl FromStr for CdrProfile {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if let Some(spec) = s.strip_prefix("custom:") {
            return spec.parse().map(|m| Self::Custom(Box::new(m)));
        }
        Ok(match s {
            "asterisk" | "asterisk-auto" => Self::Asterisk(AsteriskColumns::Auto),
            "asterisk-16" => Self::Asterisk(AsteriskColumns::C16),
            "asterisk-17" => Self::Asterisk(AsteriskColumns::C17),
            "asterisk-18" => Self::Asterisk(AsteriskColumns::C18),
            "asterisk-21" => Self::Asterisk(AsteriskColumns::C21),
            "freeswitch" => Self::FreeSwitchDefault,
            "freeswitch-asterisk" => Self::FreeSwitchAsterisk,
            _ => {
                return Err(ParseError::invalid(
                    "cdr profile",
                    format!(
                        "{} is not asterisk[-auto|-16|-17|-18|-21], freeswitch, freeswitch-asterisk or custom:<map>",
                        shown(s)
                    ),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests;
