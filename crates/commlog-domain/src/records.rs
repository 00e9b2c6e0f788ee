//! The other records Commlog keeps beside logs — companies, users, teams, customers, contacts,
//! categories, channel configurations, tags, attachments, audit entries — as the API shows and
//! accepts them.

use crate::time_fmt::rfc3339;
use crate::{AttachmentStatus, ChannelType, JobStatus, Priority, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::log::double_option;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub timezone: String,
    pub default_country_code: Option<String>,
    /// Roles whose users must pass a second factor to sign in.
    pub mfa_required_roles: Vec<Role>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A user of a company (never shows the password hash or MFA secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub company_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    /// How many open communications may be assigned to this user at once.
    pub capacity: i32,
    pub is_active: bool,
    pub is_compliance: bool,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// `POST /api/users/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub full_name: Option<String>,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub team_id: Option<Uuid>,
    #[serde(default)]
    pub capacity: Option<i32>,
    #[serde(default)]
    pub is_compliance: bool,
}

/// `PATCH /api/users/{id}/`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub full_name: Option<String>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    pub capacity: Option<i32>,
    pub is_active: Option<bool>,
    pub is_compliance: Option<bool>,
}

/// A team of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// `POST /api/teams/` and `PATCH /api/teams/{id}/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// A customer organisation (or a person buying alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Customer {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    /// Mail from this domain is matched to this customer.
    pub email_domain: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// The customer's id in another CRM module, for upserts.
    pub external_ref: Option<String>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/customers/` (an upsert when `external_ref` matches) and `PATCH`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email_domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
}

/// A person at a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub company_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub full_name: String,
    pub title: Option<String>,
    /// Lower-cased addresses.
    pub emails: Vec<String>,
    /// E.164 numbers.
    pub phones: Vec<String>,
    /// Whether the contact agreed to their calls being recorded (`null`: not recorded).
    pub recording_consent: Option<bool>,
    /// Whether the contact agreed to automatic processing of what they say (transcription,
    /// sentiment, topics, categories; `null`: not recorded).
    pub processing_consent: Option<bool>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/contacts/` and `PATCH /api/contacts/{id}/` (lists replace the stored ones).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub customer_id: Option<Option<Uuid>>,
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<bool>)]
    pub recording_consent: Option<Option<bool>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<bool>)]
    pub processing_consent: Option<Option<bool>>,
}

/// A communication category (blueprint §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Category {
    pub id: Uuid,
    pub company_id: Uuid,
    pub category_name: String,
    pub category_code: String,
    pub description: Option<String>,
    pub parent_category_id: Option<Uuid>,
    pub is_active: bool,
    pub is_default: bool,
    pub default_priority: Priority,
    pub auto_categorization: bool,
    pub color: Option<String>,
    pub icon: Option<String>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/communication-categories/` and `PATCH …/{id}/`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub category_name: Option<String>,
    pub category_code: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_category_id: Option<Option<Uuid>>,
    pub is_active: Option<bool>,
    pub is_default: Option<bool>,
    pub default_priority: Option<Priority>,
    pub auto_categorization: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
}

/// A configured channel (blueprint §4.2). The API key is write-only: reads say only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelConfiguration {
    pub id: Uuid,
    pub company_id: Uuid,
    pub channel_name: String,
    pub channel_code: String,
    pub channel_type: ChannelType,
    pub description: Option<String>,
    pub is_active: bool,
    pub is_default: bool,
    pub requires_authentication: bool,
    pub api_endpoint: Option<String>,
    pub has_api_key: bool,
    pub webhook_url: Option<String>,
    pub auto_transcription: bool,
    pub sentiment_analysis: bool,
    pub auto_categorization: bool,
    /// The capture integration (`generic`, `twilio`, `freeswitch`, `slack`, `whatsapp`,
    /// `teams`), once its webhook is configured.
    pub provider: Option<String>,
    /// Whether its webhook secret is set (the secret itself is never shown).
    pub webhook_configured: bool,
    /// Consent to keep call recordings: without it, recordings are never fetched or stored.
    pub record_calls: bool,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/channel-configurations/` and `PATCH …/{id}/`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub channel_name: Option<String>,
    pub channel_code: Option<String>,
    pub channel_type: Option<ChannelType>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub is_default: Option<bool>,
    pub requires_authentication: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub api_endpoint: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    pub auto_transcription: Option<bool>,
    pub sentiment_analysis: Option<bool>,
    pub auto_categorization: Option<bool>,
    /// Consent to keep call recordings captured on this channel.
    pub record_calls: Option<bool>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tag {
    pub id: Uuid,
    pub name: String,
    pub color: Option<String>,
    /// How many visible-to-anyone logs carry it (not scoped; a rough popularity).
    pub usage_count: i64,
}

/// A file attached to a log (blueprint §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub company_id: Uuid,
    pub communication_log_id: Uuid,
    pub uploaded_by_user_id: Uuid,
    pub file_name: String,
    pub file_type: String,
    pub file_size: i64,
    /// The key in the blob store.
    pub file_path: String,
    pub checksum_sha256: String,
    pub status: AttachmentStatus,
    pub is_public: bool,
    pub is_internal: bool,
    pub download_count: i32,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub is_deleted: bool,
}

/// An attachment about to be recorded (its bytes are already in the blob store).
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: Uuid,
    pub communication_log_id: Uuid,
    pub file_name: String,
    pub file_type: String,
    pub file_size: i64,
    pub file_path: String,
    pub checksum_sha256: String,
    pub status: AttachmentStatus,
    pub is_public: bool,
    pub is_internal: bool,
}

/// One entry of the audit trail / change history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    /// For updates: `{field: {"old": …, "new": …}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Position in the company's hash chain; empty for the moment between commit and sealing.
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

/// A signed-in session (one per sign-in, kept alive by refresh-token rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mfa_passed: bool,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An integration credential (the secret itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The role whose sight and rights the token has, at most.
    pub role: Role,
    /// The permissions it is limited to (snake_case names); empty means all of the role's.
    pub permissions: Vec<String>,
    pub created_by_user_id: Uuid,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A durable background job (capture processing, and later transcription and analysis).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub company_id: Uuid,
    /// What the job does (`capture`, …).
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    /// When it runs (next).
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub run_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
}

/// A message that could not be captured, kept with the reason so it can be retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuarantinedEmail {
    pub id: Uuid,
    /// Where it came from (`upload`, `import:<file>`, `smtp`, `imap:<account>`).
    pub origin: String,
    pub reason: String,
    pub size_bytes: i64,
    #[serde(skip)]
    pub blob_key: String,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retried_at: Option<OffsetDateTime>,
    /// The log it became on a retry.
    pub communication_log_id: Option<Uuid>,
}

/// A connected IMAP mailbox (the password is never shown).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MailAccount {
    pub id: Uuid,
    pub name: String,
    pub host: String,
    pub port: i32,
    /// `tls` (implicit, port 993), `starttls` (port 143 upgraded) or `plain` (loopback and tests).
    pub security: String,
    pub username: String,
    /// The folders watched (`INBOX` and the sent folder at least).
    pub folders: Vec<String>,
    /// Mail older than this is not backfilled.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<OffsetDateTime>,
    pub is_active: bool,
    /// `pending`, `syncing`, `idle` (up to date, waiting for new mail) or `error`.
    pub status: String,
    pub last_error: Option<String>,
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<OffsetDateTime>,
    /// Where each folder's sync stands.
    pub folder_states: Vec<MailFolderState>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A folder's sync checkpoint: its UIDVALIDITY and the last UID captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MailFolderState {
    pub folder: String,
    pub uidvalidity: i64,
    pub last_uid: i64,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/mail-accounts/` and `PATCH …/{id}/`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailAccountInput {
    pub name: Option<String>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub security: Option<String>,
    pub username: Option<String>,
    /// Stored sealed; never shown again.
    pub password: Option<String>,
    pub folders: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_date: Option<Option<OffsetDateTime>>,
    pub is_active: Option<bool>,
}

fn double_option_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    rfc3339::option::deserialize(d).map(Some)
}
