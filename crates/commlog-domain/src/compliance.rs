//! Data protection: legal holds, retention policies and data-subject erasure.
//!
//! The rules that need no database live here: what a hold or a policy may say, which policy
//! governs a log when several match, and what retention does to a log of a given age.

use crate::{CommunicationType, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The longest period a policy may name (a hundred years).
pub const MAX_RETENTION_DAYS: i32 = 36_500;
pub const MAX_REASON_CHARS: usize = 2000;
/// The job kind that works through an erasure request (payload `{"erasure_id"}`).
pub const ERASURE_JOB: &str = "erase_subject";

/// What a legal hold covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldTarget {
    Customer,
    Contact,
    Thread,
    Log,
    /// Every log a saved query matches (see [`HoldQuery`]).
    Query,
}

impl HoldTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Contact => "contact",
            Self::Thread => "thread",
            Self::Log => "log",
            Self::Query => "query",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Customer,
            Self::Contact,
            Self::Thread,
            Self::Log,
            Self::Query,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A saved query a hold keeps: every criterion given must match (at least one is required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldQuery {
    pub customer_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// A channel code.
    pub channel: Option<String>,
    pub communication_type: Option<CommunicationType>,
    /// Logs that started at or after this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time_after: Option<OffsetDateTime>,
    /// Logs that started before this instant.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time_before: Option<OffsetDateTime>,
}

impl HoldQuery {
    fn is_empty(&self) -> bool {
        self.customer_id.is_none()
            && self.contact_id.is_none()
            && self.channel.is_none()
            && self.communication_type.is_none()
            && self.start_time_after.is_none()
            && self.start_time_before.is_none()
    }
}

/// A legal hold about to be placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLegalHold {
    pub target_type: HoldTarget,
    /// The customer, contact, thread or log held (not for `query`).
    pub target_id: Option<Uuid>,
    /// The saved query held (only for `query`).
    pub query: Option<HoldQuery>,
    /// Why the data must be kept (a matter, a case number).
    pub reason: String,
    /// Who answers for the hold; the caller when absent.
    pub owner_user_id: Option<Uuid>,
}

impl NewLegalHold {
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        check_reason(&mut errs, "reason", &mut self.reason);
        match (self.target_type, &self.target_id, &self.query) {
            (HoldTarget::Query, None, Some(q)) if !q.is_empty() => {
                if let (Some(a), Some(b)) = (q.start_time_after, q.start_time_before)
                    && a >= b
                {
                    errs.add(
                        "query.start_time_before",
                        "invalid_range",
                        "start_time_before must be after start_time_after",
                    );
                }
            }
            (HoldTarget::Query, None, Some(_)) => errs.add(
                "query",
                "empty_query",
                "a held query needs at least one criterion",
            ),
            (HoldTarget::Query, _, _) => errs.add(
                "query",
                "required",
                "a query hold takes a query and no target_id",
            ),
            (_, Some(_), None) => {}
            (_, _, _) => errs.add(
                "target_id",
                "required",
                "this hold takes a target_id and no query",
            ),
        }
        errs.into_result()
    }
}

/// A legal hold: what it covers, why, who answers for it, and whether it was released.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegalHold {
    pub id: Uuid,
    pub target_type: HoldTarget,
    pub target_id: Option<Uuid>,
    pub query: Option<HoldQuery>,
    pub reason: String,
    pub owner_user_id: Uuid,
    pub created_by_user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub released_at: Option<OffsetDateTime>,
    pub released_by_user_id: Option<Uuid>,
    pub release_reason: Option<String>,
}

/// A retention policy as written: which logs it governs and what happens to them when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicyInput {
    pub name: String,
    /// Only logs of this category (absent: any).
    pub category_id: Option<Uuid>,
    /// Only logs of this channel code (absent: any).
    pub channel: Option<String>,
    /// Only logs of this type (absent: any).
    pub communication_type: Option<CommunicationType>,
    /// Archive logs this many days after they started: hidden from default views, still found
    /// by compliance.
    pub archive_after_days: Option<i32>,
    /// Delete logs this many days after they started: content, attachments and recordings go.
    pub delete_after_days: Option<i32>,
    /// Keep a minimal tombstone (when, which channel, no content) of deleted logs, so counts
    /// stay; without it the log is removed entirely.
    #[serde(default = "yes")]
    pub keep_tombstone: bool,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

impl RetentionPolicyInput {
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            errs.add(
                "name",
                "invalid",
                "a name of 1 to 100 characters is required",
            );
        }
        if self.channel.as_ref().is_some_and(|c| c.trim().is_empty()) {
            errs.add("channel", "invalid", "a channel code cannot be empty");
        }
        for (field, days) in [
            ("archive_after_days", self.archive_after_days),
            ("delete_after_days", self.delete_after_days),
        ] {
            if let Some(d) = days
                && !(1..=MAX_RETENTION_DAYS).contains(&d)
            {
                errs.add(
                    field,
                    "out_of_range",
                    format!("{field} must be between 1 and {MAX_RETENTION_DAYS}"),
                );
            }
        }
        match (self.archive_after_days, self.delete_after_days) {
            (None, None) => errs.add(
                "delete_after_days",
                "required",
                "a policy archives, deletes, or both: give archive_after_days or delete_after_days",
            ),
            (Some(a), Some(d)) if a >= d => errs.add(
                "archive_after_days",
                "invalid_range",
                "archive_after_days must be shorter than delete_after_days",
            ),
            _ => {}
        }
        errs.into_result()
    }

    /// How many criteria narrow the policy: the most specific matching policy governs a log.
    pub fn specificity(&self) -> usize {
        usize::from(self.category_id.is_some())
            + usize::from(self.channel.is_some())
            + usize::from(self.communication_type.is_some())
    }
}

/// A stored retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionPolicy {
    pub id: Uuid,
    #[serde(flatten)]
    pub policy: RetentionPolicyInput,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// What retention needs to know about one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    pub id: Uuid,
    pub channel: String,
    pub communication_type: String,
    pub categories: Vec<Uuid>,
    pub start_time: OffsetDateTime,
    pub archived: bool,
    pub held: bool,
}

/// What retention does to a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    Archive,
    /// Purge the content, keeping a tombstone.
    Purge,
    /// Remove the log entirely.
    Remove,
}

/// The policy that governs a log: the most specific of those matching it, and among equally
/// specific ones the one that keeps data longest (deleting late is the safe mistake).
pub fn governing_policy<'a>(
    policies: &'a [RetentionPolicy],
    log: &RetentionCandidate,
) -> Option<&'a RetentionPolicy> {
    policies
        .iter()
        .filter(|p| p.policy.is_active && matches(&p.policy, log))
        .max_by_key(|p| {
            (
                p.policy.specificity(),
                p.policy.delete_after_days.unwrap_or(i32::MAX),
                p.policy.archive_after_days.unwrap_or(i32::MAX),
                std::cmp::Reverse(p.id),
            )
        })
}

fn matches(p: &RetentionPolicyInput, log: &RetentionCandidate) -> bool {
    p.category_id.is_none_or(|c| log.categories.contains(&c))
        && p.channel.as_ref().is_none_or(|c| *c == log.channel)
        && p.communication_type
            .is_none_or(|t| t.as_str() == log.communication_type)
}

/// What retention does to `log` at `now` under its governing policy, if anything. Held logs
/// are left alone (the caller counts them).
pub fn retention_action(
    policies: &[RetentionPolicy],
    log: &RetentionCandidate,
    now: OffsetDateTime,
) -> Option<RetentionAction> {
    let p = &governing_policy(policies, log)?.policy;
    let age_days = (now - log.start_time).whole_days();
    if let Some(d) = p.delete_after_days
        && age_days >= i64::from(d)
    {
        return Some(if p.keep_tombstone {
            RetentionAction::Purge
        } else {
            RetentionAction::Remove
        });
    }
    match p.archive_after_days {
        Some(a) if age_days >= i64::from(a) && !log.archived => Some(RetentionAction::Archive),
        _ => None,
    }
}

/// What a retention run did, or (dry run) would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetentionReport {
    pub dry_run: bool,
    pub archived: Vec<Uuid>,
    pub purged: Vec<Uuid>,
    pub removed: Vec<Uuid>,
    /// Logs a policy would act on that a legal hold keeps.
    pub held: Vec<Uuid>,
    /// Attachment and recording files deleted (or to delete).
    pub files: u64,
}

/// How a data subject is named in an erasure or access request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    pub contact_id: Option<Uuid>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A data subject resolved to what identifies them in the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub contact_ids: Vec<Uuid>,
    /// Lower-cased e-mail addresses.
    pub emails: Vec<String>,
    /// E.164 numbers.
    pub phones: Vec<String>,
}

impl SubjectRef {
    /// Exactly one identifier, normalised (e-mail lower-cased, phone in E.164).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let given = usize::from(self.contact_id.is_some())
            + usize::from(self.email.is_some())
            + usize::from(self.phone.is_some());
        if given != 1 {
            return Err(ValidationErrors::single(
                "subject",
                "one_identifier",
                "name the data subject by exactly one of contact_id, email or phone",
            ));
        }
        if let Some(e) = &mut self.email {
            *e = crate::validation::normalize_email(e).ok_or_else(|| {
                ValidationErrors::single("email", "invalid", "not a valid e-mail address")
            })?;
        }
        if let Some(p) = &mut self.phone {
            *p = crate::phone::normalize_e164(p, None)
                .map_err(|why| ValidationErrors::single("phone", "invalid", why))?;
        }
        Ok(())
    }

    pub fn kind(&self) -> &'static str {
        if self.contact_id.is_some() {
            "contact"
        } else if self.email.is_some() {
            "email"
        } else {
            "phone"
        }
    }
}

/// An erasure request: its progress and, once done, its receipt (counts only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErasureRequest {
    pub id: Uuid,
    /// `contact`, `email` or `phone`.
    pub subject_type: String,
    pub subject_contact_id: Option<Uuid>,
    pub reason: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    pub requested_by_user_id: Uuid,
    pub logs_total: i64,
    pub logs_done: i64,
    /// What was erased, as counts (never the erased data).
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<OffsetDateTime>,
}

/// A request to erase a data subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewErasure {
    #[serde(flatten)]
    pub subject: SubjectRef,
    /// Why (the request's reference); kept in the receipt.
    pub reason: String,
}

impl NewErasure {
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        if let Err(e) = self.subject.validate() {
            errs.extend(e);
        }
        check_reason(&mut errs, "reason", &mut self.reason);
        errs.into_result()
    }
}

/// What the erasure ledger keeps of an address or number it must find again after a restore:
/// a SHA-256 of the normalised value, never the value.
pub fn address_hash(address: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("commlog-erasure:{}", address.trim().to_lowercase()).as_bytes(),
    ))
}

fn check_reason(errs: &mut ValidationErrors, field: &str, reason: &mut String) {
    *reason = reason.trim().to_owned();
    if reason.is_empty() {
        errs.add(field, "required", format!("{field} is required"));
    } else if reason.chars().count() > MAX_REASON_CHARS {
        errs.add(
            field,
            "too_long",
            format!("{field} is limited to {MAX_REASON_CHARS} characters"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy(
        name: &str,
        channel: Option<&str>,
        archive: Option<i32>,
        delete: Option<i32>,
        tomb: bool,
    ) -> RetentionPolicy {
        RetentionPolicy {
            id: Uuid::from_u128(name.len() as u128),
            policy: RetentionPolicyInput {
                name: name.into(),
                category_id: None,
                channel: channel.map(str::to_owned),
                communication_type: None,
                archive_after_days: archive,
                delete_after_days: delete,
                keep_tombstone: tomb,
                is_active: true,
            },
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn log(channel: &str, days_old: i64) -> RetentionCandidate {
        RetentionCandidate {
            id: Uuid::nil(),
            channel: channel.into(),
            communication_type: "phone_call".into(),
            categories: vec![],
            start_time: datetime!(2026-06-01 0:00 UTC) - time::Duration::days(days_old),
            archived: false,
            held: false,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

    #[test]
    fn the_most_specific_policy_governs_and_ages_are_whole_days() {
        let ps = [
            policy("all", None, Some(30), Some(365), true),
            policy("sms-only", Some("sms"), None, Some(7), false),
        ];
        assert_eq!(
            retention_action(&ps, &log("sms", 7), NOW),
            Some(RetentionAction::Remove)
        );
        assert_eq!(retention_action(&ps, &log("sms", 6), NOW), None);
        assert_eq!(
            retention_action(&ps, &log("phone", 30), NOW),
            Some(RetentionAction::Archive)
        );
        assert_eq!(retention_action(&ps, &log("phone", 29), NOW), None);
        assert_eq!(
            retention_action(&ps, &log("phone", 365), NOW),
            Some(RetentionAction::Purge)
        );
        let mut archived = log("phone", 40);
        archived.archived = true;
        assert_eq!(retention_action(&ps, &archived, NOW), None);
    }

    #[test]
    fn equally_specific_policies_keep_data_longest() {
        let ps = [
            policy("a", None, None, Some(10), true),
            policy("bb", None, None, Some(20), true),
        ];
        assert_eq!(retention_action(&ps, &log("x", 15), NOW), None);
        assert_eq!(
            retention_action(&ps, &log("x", 20), NOW),
            Some(RetentionAction::Purge)
        );
    }

    #[test]
    fn policies_and_holds_are_checked() {
        let mut p = policy("x", None, Some(30), Some(30), true).policy;
        assert!(p.validate().is_err());
        p.archive_after_days = None;
        p.delete_after_days = None;
        assert!(p.validate().is_err());
        p.delete_after_days = Some(0);
        assert!(p.validate().is_err());
        p.delete_after_days = Some(1);
        assert!(p.validate().is_ok());

        let mut hold = NewLegalHold {
            target_type: HoldTarget::Query,
            target_id: None,
            query: Some(HoldQuery::default()),
            reason: "Case 12".into(),
            owner_user_id: None,
        };
        assert!(hold.validate().is_err());
        hold.query = Some(HoldQuery {
            channel: Some("phone".into()),
            ..HoldQuery::default()
        });
        assert!(hold.validate().is_ok());
        hold.target_type = HoldTarget::Customer;
        assert!(hold.validate().is_err());
        hold.query = None;
        hold.target_id = Some(Uuid::nil());
        hold.reason = "  ".into();
        assert!(hold.validate().is_err());
    }

    #[test]
    fn a_subject_is_named_once_and_normalised() {
        let mut s = SubjectRef {
            contact_id: None,
            email: Some(" Ann@Example.COM ".into()),
            phone: None,
        };
        s.validate().expect("a valid address");
        assert_eq!(s.email.as_deref(), Some("ann@example.com"));
        s.phone = Some("+14155550100".into());
        assert!(s.validate().is_err());
        let mut p = SubjectRef {
            contact_id: None,
            email: None,
            phone: Some("+1 (415) 555-0100".into()),
        };
        p.validate().expect("a valid number");
        assert_eq!(p.phone.as_deref(), Some("+14155550100"));
    }
}
