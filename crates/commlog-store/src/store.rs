//! [`Store`]: the one entry point to persistence. Each method is implemented once in `engine/`
//! and dispatched to the engine the database URL names.

use crate::{Engine, StoreError, StoreResult};
use commlog_domain::filters::*;
use commlog_domain::list::LogListParams;
use commlog_domain::records::*;
use commlog_domain::{
    CommunicationLog, CommunicationLogPatch, NewCommunicationLog, ParticipantRole, Role,
};
use std::time::Duration;
use uuid::Uuid;

use crate::Scope;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Pool sizing and timeouts: a slow or absent database answers "unavailable" instead of hanging.
/// The acquire timeout bounds how long a request waits for a connection — also while the
/// database is down, when the pool keeps retrying until then — so errors come back in under a
/// second; with a healthy database, waits for a pooled connection are milliseconds.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// PostgreSQL: commit without waiting for the write-ahead log to reach disk. For bulk
    /// imports, which are idempotent: a crash loses at most the last moments, which a re-run
    /// brings back. Never for the server, whose acknowledgements promise durability.
    pub asynchronous_commit: bool,
    /// Encryption at rest: the master keys, when configured (see [`crate::encryption`]).
    pub encryption: Option<std::sync::Arc<crate::encryption::Keyring>>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_millis(750),
            statement_timeout: Duration::from_secs(30),
            asynchronous_commit: false,
            encryption: None,
        }
    }
}

/// A new company with its first administrator.
#[derive(Debug, Clone)]
pub struct NewCompany {
    pub name: String,
    pub timezone: String,
    pub admin_email: String,
    pub admin_full_name: String,
    pub admin_password_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CreatedCompany {
    pub company_id: Uuid,
    pub user_id: Uuid,
}

/// What sign-in needs to know about a user.
#[derive(Debug, Clone)]
pub struct LoginUser {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: i32,
    /// Sign-in is refused until then after repeated failures.
    pub locked_until: Option<time::OffsetDateTime>,
    pub mfa_enabled: bool,
    /// The TOTP secret (base32), present once enrolment has started.
    pub mfa_secret: Option<String>,
}

/// A session about to start.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub refresh_jti: Uuid,
    pub mfa_passed: bool,
    pub expires_at: time::OffsetDateTime,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The token was the current one: the session continues with the new token id.
    Rotated { user: User, mfa_passed: bool },
    /// An older token was presented: it was stolen or replayed, so the session is now revoked.
    Reused,
    /// No such live session.
    Invalid,
}

/// An API token about to be created (its secret already hashed).
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub role: Role,
    pub permissions: Vec<String>,
    pub expires_at: Option<time::OffsetDateTime>,
}

/// The result of a create: the log, warnings, and whether it already existed.
#[derive(Debug, Clone)]
pub struct CreatedLog {
    pub log: CommunicationLog,
    pub warnings: Vec<String>,
    /// `true` when an earlier request with the same `Idempotency-Key` made it.
    pub replayed: bool,
    /// `true` when a log with the same `source` + `external_id` already existed.
    pub duplicate: bool,
}

/// One page of logs.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub results: Vec<CommunicationLog>,
    /// Matching rows, exact when `count_is_exact`, otherwise a lower bound (the cap).
    pub count: i64,
    pub count_is_exact: bool,
    /// A cursor for the page after this one, when there is one.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A synthetic log for `commlog seed` (bulk inserted, bypassing per-row checks).
#[derive(Debug, Clone)]
pub struct SeedLog {
    pub log: CommunicationLog,
    pub participants: Vec<SeedParticipant>,
}

#[derive(Debug, Clone)]
pub struct SeedParticipant {
    pub role: ParticipantRole,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub contact_id: Option<Uuid>,
}

/// The result of checking one company's audit chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditVerification {
    pub company_id: Uuid,
    /// Sealed entries walked.
    pub entries: u64,
    /// Entries committed but not yet sealed (normally only the last second's).
    pub unsealed: i64,
    pub head_seq: i64,
    /// The first entry at which the chain breaks, if it does.
    pub first_break: Option<AuditBreak>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditBreak {
    pub seq: i64,
    pub id: Uuid,
    pub reason: String,
}

/// A channel as its webhook sees it.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    pub id: Uuid,
    pub company_id: Uuid,
    pub channel_code: String,
    pub is_active: bool,
    pub provider: Option<String>,
    /// The webhook credentials, sealed (see the server's `SecretCipher`).
    pub sealed_secret: Option<String>,
    /// Non-secret integration settings (public URL, provider account, recording hosts).
    pub settings: serde_json::Value,
    /// Consent to keep call recordings.
    pub record_calls: bool,
}

/// A provider event about to be recorded in the capture ledger.
#[derive(Debug, Clone)]
pub struct NewCaptureEvent {
    pub company_id: Uuid,
    pub channel_id: Uuid,
    pub provider: String,
    /// `call`, `recording`, `message`, `status` or `lifecycle`.
    pub kind: String,
    /// Unique per provider: a redelivery carries the same key.
    pub dedupe_key: String,
    /// The call or message the event is about (events of one subject are folded together).
    pub subject: Option<String>,
    /// The body exactly as received.
    pub payload: String,
    /// The provider-neutral event (JSON) parsed from it.
    pub event: Option<String>,
}

/// Where a captured event stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureRecord {
    pub id: Uuid,
    /// First delivery of this event.
    pub new: bool,
    /// Already turned into a log (a retried delivery has nothing left to do).
    pub processed: bool,
}

/// A recorded event, as its processing job reads it.
#[derive(Debug, Clone)]
pub struct CapturedEvent {
    pub id: Uuid,
    pub company_id: Uuid,
    pub channel_id: Uuid,
    pub provider: String,
    pub kind: String,
    pub subject: Option<String>,
    /// The provider-neutral event (JSON).
    pub event: String,
    pub processed: bool,
    pub communication_log_id: Option<Uuid>,
}

/// A user about to be created (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub capacity: i32,
    pub is_compliance: bool,
}

/// Whether a company's data changed since: equal stamps, no event committed in between
/// (see `Store::events_stamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsStamp {
    pub last_seq: i64,
    pub unpublished: Vec<Uuid>,
}

/// An event of the outbox once published: numbered per company (`seq`, what a reconnecting
/// client resumes from) and globally (`publish_order`, what server processes tail).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PublishedEvent {
    pub company_id: Uuid,
    pub seq: i64,
    pub publish_order: i64,
    pub event_type: String,
    /// The log (or other record) the event is about.
    pub aggregate_id: Uuid,
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// Wakes a process when another one published events (PostgreSQL `LISTEN`).
pub struct EventListener(sqlx::postgres::PgListener);

impl EventListener {
    /// Waits for the next notice; an error means the connection was lost (and is retried by
    /// the next call).
    pub async fn recv(&mut self) -> StoreResult<()> {
        self.0.recv().await?;
        Ok(())
    }
}

/// The channel published events are announced on.
const EVENTS_CHANNEL: &str = "commlog_events";

/// The persistence of one Commlog deployment.
pub enum Store {
    Postgres(Engine<sqlx::Postgres>),
    Sqlite(Engine<sqlx::Sqlite>),
}

impl Store {
    /// Connects to `postgres://…` or `sqlite://…` (the SQLite file is created if missing).
    pub async fn connect(url: &str, opts: &ConnectOptions) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(crate::pg::connect(url, opts).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(crate::sqlite::connect(url, opts).await?))
        } else {
            Err(StoreError::Other(
                "database URL must start with postgres:// or sqlite://".into(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Listens for published events of other processes (PostgreSQL); `None` on SQLite, where
    /// one process owns the database.
    pub async fn event_listener(&self) -> StoreResult<Option<EventListener>> {
        match self {
            Self::Postgres(e) => {
                let mut l = sqlx::postgres::PgListener::connect_with(&e.read).await?;
                l.listen(EVENTS_CHANNEL).await?;
                Ok(Some(EventListener(l)))
            }
            Self::Sqlite(_) => Ok(None),
        }
    }

    /// Announces newly published events to every listening process (PostgreSQL).
    pub async fn notify_events(&self) -> StoreResult<()> {
        if let Self::Postgres(e) = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(EVENTS_CHANNEL)
                .execute(&e.write)
                .await?;
        }
        Ok(())
    }

    /// Writes a consistent copy of an SQLite database to `path` while it stays in use
    /// (`VACUUM INTO`). PostgreSQL databases are copied with `pg_dump`.
    pub async fn sqlite_backup(&self, path: &std::path::Path) -> StoreResult<()> {
        match self {
            Self::Sqlite(e) => {
                let target = path
                    .to_str()
                    .ok_or_else(|| StoreError::Other("the backup path is not UTF-8".into()))?;
                sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(&e.write)
                    .await?;
                Ok(())
            }
            Self::Postgres(_) => Err(StoreError::Other(
                "PostgreSQL databases are backed up with pg_dump".into(),
            )),
        }
    }

    /// Closes every connection (tests drop their databases afterwards).
    pub async fn close(&self) {
        match self {
            Self::Postgres(e) => {
                e.read.close().await;
                e.write.close().await;
            }
            Self::Sqlite(e) => {
                e.read.close().await;
                e.write.close().await;
            }
        }
    }
}

/// Writes `impl Store` methods that forward to the engine in use.
/// Each method names, after `=>`, the tenant it acts for (see [`crate::Tenant`]).
macro_rules! delegate {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* ) -> $ret:ty => $tenant:expr; )*) => {
        impl Store {
            $(
                $(#[$m])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    let tenant: crate::Tenant = $tenant.into();
                    crate::tenant::within(tenant, async move {
                        match self {
                            Store::Postgres(e) => crate::encryption::within(e.keys.clone(), e.$name($($arg),*)).await,
                            Store::Sqlite(e) => crate::encryption::within(e.keys.clone(), e.$name($($arg),*)).await,
                        }
                    })
                    .await
                }
            )*
        }
    };
}

delegate! {
    /// Applies pending migrations; returns how many ran.
    fn migrate(&self) -> StoreResult<usize> => crate::Tenant::All;
    /// Answers when the database does (readiness).
    fn ping(&self) -> StoreResult<()> => crate::Tenant::All;
    /// How many companies exist (the embedded default seeds a demo into an empty database).
    fn count_companies(&self) -> StoreResult<i64> => crate::Tenant::All;

    /// Creates a company with its administrator, default channels and categories.
    fn create_company(&self, new: &NewCompany) -> StoreResult<CreatedCompany> => crate::Tenant::All;
    fn get_company(&self, scope: &Scope) -> StoreResult<Company> => scope;
    /// Looks a user up by email for sign-in (any company; emails are unique).
    fn login_user(&self, email: &str) -> StoreResult<Option<LoginUser>> => crate::Tenant::All;
    /// The actor a token names, re-read so a deactivated user or changed role takes effect.
    fn get_active_user(&self, company_id: Uuid, user_id: Uuid) -> StoreResult<Option<User>> => company_id;
    fn create_user(&self, scope: &Scope, new: &NewUserRecord) -> StoreResult<User> => scope;
    fn get_user(&self, scope: &Scope, id: Uuid) -> StoreResult<User> => scope;
    fn list_users(&self, scope: &Scope, filter: &UserFilter) -> StoreResult<Vec<User>> => scope;
    fn update_user(&self, scope: &Scope, id: Uuid, patch: &UserPatch) -> StoreResult<User> => scope;
    fn set_user_password(&self, scope: &Scope, id: Uuid, password_hash: &str) -> StoreResult<()> => scope;
    fn create_team(&self, scope: &Scope, input: &TeamInput) -> StoreResult<Team> => scope;
    fn get_team(&self, scope: &Scope, id: Uuid) -> StoreResult<Team> => scope;
    fn list_teams(&self, scope: &Scope) -> StoreResult<Vec<Team>> => scope;
    fn update_team(&self, scope: &Scope, id: Uuid, input: &TeamInput) -> StoreResult<Team> => scope;
    fn delete_team(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;

    /// Creates a customer, or updates the one with the same `external_ref` (upsert).
    fn upsert_customer(&self, scope: &Scope, input: &CustomerInput) -> StoreResult<(Customer, bool)> => scope;
    fn get_customer(&self, scope: &Scope, id: Uuid) -> StoreResult<Customer> => scope;
    fn list_customers(&self, scope: &Scope, filter: &PeopleFilter) -> StoreResult<Vec<Customer>> => scope;
    fn update_customer(&self, scope: &Scope, id: Uuid, input: &CustomerInput) -> StoreResult<Customer> => scope;
    fn delete_customer(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    fn create_contact(&self, scope: &Scope, input: &ContactInput) -> StoreResult<Contact> => scope;
    fn get_contact(&self, scope: &Scope, id: Uuid) -> StoreResult<Contact> => scope;
    fn list_contacts(&self, scope: &Scope, filter: &PeopleFilter) -> StoreResult<Vec<Contact>> => scope;
    fn update_contact(&self, scope: &Scope, id: Uuid, input: &ContactInput) -> StoreResult<Contact> => scope;
    fn delete_contact(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;

    fn list_categories(&self, scope: &Scope, filter: &CategoryFilter) -> StoreResult<Vec<Category>> => scope;
    fn get_category(&self, scope: &Scope, id: Uuid) -> StoreResult<Category> => scope;
    fn create_category(&self, scope: &Scope, input: &CategoryInput) -> StoreResult<Category> => scope;
    fn update_category(&self, scope: &Scope, id: Uuid, input: &CategoryInput) -> StoreResult<Category> => scope;
    fn list_channels(&self, scope: &Scope, filter: &ChannelFilter) -> StoreResult<Vec<ChannelConfiguration>> => scope;
    fn get_channel(&self, scope: &Scope, id: Uuid) -> StoreResult<ChannelConfiguration> => scope;
    fn create_channel(&self, scope: &Scope, input: &ChannelInput) -> StoreResult<ChannelConfiguration> => scope;
    fn update_channel(&self, scope: &Scope, id: Uuid, input: &ChannelInput) -> StoreResult<ChannelConfiguration> => scope;
    fn list_tags(&self, scope: &Scope) -> StoreResult<Vec<Tag>> => scope;
    fn create_tag(&self, scope: &Scope, name: &str, color: Option<&str>) -> StoreResult<Tag> => scope;

    /// Creates a log with every rule of blueprint §6 checked; idempotent on `idempotency`
    /// (key, request hash) and on `source` + `external_id`.
    fn create_log(&self, scope: &Scope, new: NewCommunicationLog, idempotency: Option<(&str, &str)>) -> StoreResult<CreatedLog> => scope;
    fn get_log(&self, scope: &Scope, id: Uuid) -> StoreResult<CommunicationLog> => scope;
    /// Records how long a reply took to answer.
    fn set_response_seconds(&self, scope: &Scope, id: Uuid, seconds: i64) -> StoreResult<()> => scope;
    /// The live log with this `source` + `external_id`, if visible.
    fn find_log_by_external(&self, scope: &Scope, source: &str, external_id: &str) -> StoreResult<Option<CommunicationLog>> => scope;
    fn list_logs(&self, scope: &Scope, params: &LogListParams) -> StoreResult<LogPage> => scope;
    /// Applies a patch (also what `PUT` and assignment do), checking transitions and capacity.
    fn update_log(&self, scope: &Scope, id: Uuid, patch: CommunicationLogPatch) -> StoreResult<(CommunicationLog, Vec<String>)> => scope;
    /// Soft-deletes a log and its attachments (refused with an active follow-up or pending attachment).
    fn delete_log(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    /// The change history of one log.
    fn log_history(&self, scope: &Scope, id: Uuid) -> StoreResult<Vec<AuditEntry>> => scope;
    fn add_watcher(&self, scope: &Scope, log_id: Uuid, user_id: Uuid) -> StoreResult<()> => scope;
    fn remove_watcher(&self, scope: &Scope, log_id: Uuid, user_id: Uuid) -> StoreResult<()> => scope;

    fn create_attachment(&self, scope: &Scope, new: &NewAttachment) -> StoreResult<Attachment> => scope;
    fn get_attachment(&self, scope: &Scope, id: Uuid) -> StoreResult<Attachment> => scope;
    fn list_attachments(&self, scope: &Scope, filter: &AttachmentFilter) -> StoreResult<Vec<Attachment>> => scope;
    /// Counts a download and audits the read.
    fn record_download(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;

    fn create_session(&self, scope: &Scope, new: &NewSession) -> StoreResult<()> => scope;
    /// The user behind a live (unrevoked, unexpired) session of an active user.
    fn session_user(&self, company_id: Uuid, session_id: Uuid) -> StoreResult<Option<(User, bool)>> => company_id;
    /// Rotates a session's refresh token; a reused one revokes the session.
    fn rotate_session(&self, company_id: Uuid, session_id: Uuid, presented: Uuid, next: Uuid) -> StoreResult<Rotation> => company_id;
    fn list_sessions(&self, scope: &Scope, user_id: Uuid) -> StoreResult<Vec<Session>> => scope;
    fn revoke_session(&self, scope: &Scope, user_id: Uuid, session_id: Uuid, reason: &str) -> StoreResult<()> => scope;
    /// Ends every session of a user (password change, deactivation); returns how many.
    fn revoke_user_sessions(&self, scope: &Scope, user_id: Uuid, reason: &str) -> StoreResult<u64> => scope;
    /// Counts a failed sign-in (audited); locks the account for `lock_seconds` once `lock_after` is reached.
    fn record_failed_login(&self, company_id: Uuid, user_id: Uuid, lock_after: i32, lock_seconds: i64, meta: &crate::RequestMeta) -> StoreResult<Option<time::OffsetDateTime>> => company_id;
    /// Stores MFA state: the secret (or none), whether it is active, and hashed recovery codes.
    fn set_mfa(&self, scope: &Scope, user_id: Uuid, secret: Option<&str>, enabled: bool, recovery_hashes: &[String]) -> StoreResult<()> => scope;
    /// Uses up one recovery code (by hash); false when it does not exist.
    fn use_recovery_code(&self, company_id: Uuid, user_id: Uuid, hash: &str) -> StoreResult<bool> => company_id;
    fn set_mfa_policy(&self, scope: &Scope, roles: &[Role]) -> StoreResult<Company> => scope;
    /// Moves the company to another IANA time zone.
    fn set_company_timezone(&self, scope: &Scope, timezone: &str) -> StoreResult<Company> => scope;
    fn create_api_token(&self, scope: &Scope, new: &NewApiToken) -> StoreResult<ApiToken> => scope;
    fn list_api_tokens(&self, scope: &Scope) -> StoreResult<Vec<ApiToken>> => scope;
    fn revoke_api_token(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    /// A live token by id with its company and hash, for authentication (marks it used).
    fn api_token_for_auth(&self, id: Uuid) -> StoreResult<Option<(Uuid, ApiToken, String)>> => crate::Tenant::All;

    /// Sets a channel's webhook provider, sealed credentials and integration settings.
    fn set_channel_webhook(&self, scope: &Scope, channel_id: Uuid, provider: &str, sealed_secret: &str, settings: &serde_json::Value) -> StoreResult<()> => scope;
    /// The channel a webhook URL names, in whichever company.
    fn webhook_channel(&self, channel_id: Uuid) -> StoreResult<Option<WebhookChannel>> => crate::Tenant::All;
    /// Records a captured event once per dedupe key, with the job that processes it.
    fn record_capture_event(&self, e: &NewCaptureEvent) -> StoreResult<CaptureRecord> => e.company_id;
    fn capture_event(&self, company_id: Uuid, id: Uuid) -> StoreResult<CapturedEvent> => company_id;
    /// The normalised events of one call or message, in arrival order.
    fn subject_events(&self, company_id: Uuid, provider: &str, kind: &str, subject: &str) -> StoreResult<Vec<String>> => company_id;
    fn finish_capture(&self, company_id: Uuid, id: Uuid, log_id: Option<Uuid>, outcome: &str) -> StoreResult<()> => company_id;
    /// The thread of a conversation at a source, made on first use.
    fn conversation_thread(&self, company_id: Uuid, source: &str, thread_key: &str) -> StoreResult<Uuid> => company_id;
    fn message_delivery(&self, company_id: Uuid, source: &str, external_id: &str) -> StoreResult<Option<(String, Option<String>)>> => company_id;
    fn set_message_delivery(&self, company_id: Uuid, source: &str, external_id: &str, status: &str, error: Option<&str>) -> StoreResult<()> => company_id;
    /// Queues a background job.
    fn enqueue_job(&self, company_id: Uuid, kind: &str, payload: &serde_json::Value) -> StoreResult<Uuid> => company_id;
    /// Claims due jobs of every company for a lease.
    fn claim_jobs(&self, limit: i64, lease: time::Duration) -> StoreResult<Vec<Job>> => crate::Tenant::All;
    fn finish_job(&self, company_id: Uuid, id: Uuid) -> StoreResult<()> => company_id;
    /// Records a failed attempt: retried with backoff, or dead-lettered.
    fn fail_job(&self, company_id: Uuid, id: Uuid, error: &str, permanent: bool) -> StoreResult<commlog_domain::JobStatus> => company_id;
    fn list_jobs(&self, scope: &Scope, status: Option<commlog_domain::JobStatus>, limit: i64) -> StoreResult<Vec<Job>> => scope;
    fn retry_job(&self, scope: &Scope, id: Uuid) -> StoreResult<Job> => scope;
    /// The jobs that worked on one log (the caller has checked it may see the log).
    fn subject_jobs(&self, company_id: Uuid, subject: Uuid) -> StoreResult<Vec<Job>> => company_id;
    /// Queues processing of visible logs (`steps` empty: every step).
    fn reprocess_logs(&self, scope: &Scope, ids: &[Uuid], steps: &[String]) -> StoreResult<Vec<Uuid>> => scope;
    fn log_ids_between(&self, company_id: Uuid, from: time::OffsetDateTime, to: time::OffsetDateTime) -> StoreResult<Vec<Uuid>> => company_id;
    /// Key topics of the visible logs of a period, one list per log.
    fn key_topics_between(&self, scope: &Scope, from: time::OffsetDateTime, to: time::OffsetDateTime, max_logs: i64) -> StoreResult<Vec<Vec<String>>> => scope;
    /// The processing steps that ran on a visible log.
    fn processing_runs(&self, scope: &Scope, log_id: Uuid) -> StoreResult<Vec<commlog_domain::processing::ProcessingRun>> => scope;
    /// Writes what processing found back to a log, as the system.
    fn apply_analysis(&self, company_id: Uuid, log_id: Uuid, job_id: Option<Uuid>, a: &commlog_domain::processing::LogAnalysis) -> StoreResult<()> => company_id;
    fn processing_settings(&self, company_id: Uuid) -> StoreResult<(commlog_domain::processing::ProcessingSettings, Option<String>)> => company_id;
    fn set_processing_settings(&self, scope: &Scope, settings: &commlog_domain::processing::ProcessingSettings, sealed_key: Option<Option<String>>) -> StoreResult<commlog_domain::processing::ProcessingSettings> => scope;
    fn list_escalation_rules(&self, scope: &Scope) -> StoreResult<Vec<commlog_domain::processing::EscalationRuleRecord>> => scope;
    fn save_escalation_rule(&self, scope: &Scope, id: Option<Uuid>, name: &str, body: &serde_json::Value, is_active: bool) -> StoreResult<commlog_domain::processing::EscalationRuleRecord> => scope;
    fn delete_escalation_rule(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    fn list_category_examples(&self, scope: &Scope, category: Option<Uuid>) -> StoreResult<Vec<commlog_domain::processing::CategoryExample>> => scope;
    fn add_category_example(&self, scope: &Scope, category: Uuid, text: &str) -> StoreResult<commlog_domain::processing::CategoryExample> => scope;
    /// Names of the company's contacts and users (for PII detection).
    fn known_names(&self, company_id: Uuid) -> StoreResult<Vec<String>> => company_id;
    fn company_ids(&self) -> StoreResult<Vec<Uuid>> => crate::Tenant::All;
    /// Marks open follow-ups due before `now` overdue; returns the logs marked.
    fn mark_overdue_follow_ups(&self, company_id: Uuid, now: time::OffsetDateTime) -> StoreResult<Vec<Uuid>> => company_id;
    /// Analytics measures per time slot (rollup hours or log quarter hours).
    fn analytics_measures(&self, company_id: Uuid, q: &commlog_domain::analytics::MeasureQuery) -> StoreResult<Vec<commlog_domain::analytics::SlotMeasures>> => company_id;
    fn analytics_conversations(&self, company_id: Uuid, q: &commlog_domain::analytics::MeasureQuery, threads_only: bool) -> StoreResult<Vec<commlog_domain::analytics::ConversationLog>> => company_id;
    fn analytics_follow_up_durations(&self, company_id: Uuid, q: &commlog_domain::analytics::MeasureQuery) -> StoreResult<Vec<i64>> => company_id;
    fn analytics_customer_sentiment(&self, company_id: Uuid, q: &commlog_domain::analytics::MeasureQuery, limit: i64) -> StoreResult<Vec<commlog_domain::analytics::CustomerSentiment>> => company_id;
    fn analytics_most_negative(&self, company_id: Uuid, q: &commlog_domain::analytics::MeasureQuery, limit: i64) -> StoreResult<Vec<commlog_domain::analytics::NegativeLog>> => company_id;
    fn analytics_capture_errors(&self, company_id: Uuid, period: commlog_domain::analytics::Period) -> StoreResult<Vec<commlog_domain::analytics::CaptureErrors>> => company_id;
    fn analytics_counters(&self, company_id: Uuid, scope: commlog_domain::analytics::AnalyticsScope) -> StoreResult<commlog_domain::analytics::Counters> => company_id;
    fn analytics_workload(&self, company_id: Uuid, scope: commlog_domain::analytics::AnalyticsScope) -> StoreResult<Vec<commlog_domain::analytics::AgentLoad>> => company_id;
    /// Compares the rollup of a period with the logs; `repair` rewrites differing periods.
    fn analytics_verify(&self, company_id: Uuid, period: commlog_domain::analytics::Period, repair: bool) -> StoreResult<Vec<commlog_domain::analytics::RollupMismatch>> => company_id;
    fn analytics_settings(&self, company_id: Uuid) -> StoreResult<commlog_domain::analytics::AnalyticsSettings> => company_id;
    fn set_analytics_settings(&self, scope: &Scope, settings: &commlog_domain::analytics::AnalyticsSettings) -> StoreResult<commlog_domain::analytics::AnalyticsSettings> => scope;
    /// Records or clears a visible log's satisfaction score (1–5).
    fn set_satisfaction(&self, scope: &Scope, id: Uuid, score: Option<i32>) -> StoreResult<CommunicationLog> => scope;
    /// Numbers and publishes waiting outbox events (every company's).
    fn publish_events(&self, limit: i64) -> StoreResult<Vec<PublishedEvent>> => crate::Tenant::All;
    fn events_after(&self, publish_order: i64, limit: i64) -> StoreResult<Vec<PublishedEvent>> => crate::Tenant::All;
    fn last_publish_order(&self) -> StoreResult<i64> => crate::Tenant::All;
    /// A company's published events after `seq` (replay for a reconnecting client).
    fn company_events_since(&self, company_id: Uuid, seq: i64, limit: i64) -> StoreResult<Vec<PublishedEvent>> => company_id;
    fn last_company_seq(&self, company_id: Uuid) -> StoreResult<i64> => company_id;
    /// The company's newest event id, published or not (changes with every change that emits one).
    fn events_stamp(&self, company_id: Uuid) -> StoreResult<EventsStamp> => company_id;
    /// Notes that a captured e-mail was seen in a mailbox.
    fn record_email_sighting(&self, scope: &Scope, log_id: Uuid, mailbox: &str) -> StoreResult<()> => scope;
    fn email_sightings(&self, scope: &Scope, log_id: Uuid) -> StoreResult<Vec<String>> => scope;
    /// Keeps a message that could not be captured, with the reason.
    fn quarantine_email(&self, scope: &Scope, origin: &str, reason: &str, size: i64, blob_key: &str) -> StoreResult<QuarantinedEmail> => scope;
    fn list_quarantined_emails(&self, scope: &Scope, open: bool, limit: i64) -> StoreResult<Vec<QuarantinedEmail>> => scope;
    fn get_quarantined_email(&self, scope: &Scope, id: Uuid) -> StoreResult<QuarantinedEmail> => scope;
    fn mark_quarantine_retried(&self, scope: &Scope, id: Uuid, reason: Option<&str>, log_id: Option<Uuid>) -> StoreResult<QuarantinedEmail> => scope;
    fn create_mail_account(&self, scope: &Scope, id: Uuid, input: &MailAccountInput, sealed_password: &str) -> StoreResult<MailAccount> => scope;
    fn get_mail_account(&self, scope: &Scope, id: Uuid) -> StoreResult<MailAccount> => scope;
    fn list_mail_accounts(&self, scope: &Scope) -> StoreResult<Vec<MailAccount>> => scope;
    fn update_mail_account(&self, scope: &Scope, id: Uuid, input: &MailAccountInput, sealed_password: Option<&str>) -> StoreResult<MailAccount> => scope;
    fn delete_mail_account(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    /// Every active IMAP account of every company, with when it last changed.
    fn active_mail_accounts(&self) -> StoreResult<Vec<(Uuid, Uuid, time::OffsetDateTime)>> => crate::Tenant::All;
    fn mail_account_for_sync(&self, company_id: Uuid, id: Uuid) -> StoreResult<Option<(MailAccount, String)>> => company_id;
    fn set_mail_account_status(&self, company_id: Uuid, id: Uuid, status: &str, error: Option<&str>, synced: bool) -> StoreResult<()> => company_id;
    fn set_mail_folder_state(&self, company_id: Uuid, account: Uuid, folder: &str, uidvalidity: i64, last_uid: i64) -> StoreResult<()> => company_id;
    /// Points a thread's keys (all, or some) at another thread.
    fn move_thread_keys(&self, scope: &Scope, from: Uuid, to: Uuid, keys: Option<&[String]>) -> StoreResult<()> => scope;
    /// The company's mail capture policy, as stored.
    fn email_settings(&self, scope: &Scope) -> StoreResult<Option<serde_json::Value>> => scope;
    fn set_email_settings(&self, scope: &Scope, settings: &serde_json::Value) -> StoreResult<()> => scope;
    /// The company's forwarding-address token (made from `candidate` on first use).
    fn capture_token(&self, scope: &Scope, candidate: &str) -> StoreResult<String> => scope;
    fn rotate_capture_token(&self, scope: &Scope, token: &str) -> StoreResult<String> => scope;
    /// The company a forwarding-address token belongs to, whichever it is.
    fn company_by_capture_token(&self, token: &str) -> StoreResult<Option<Uuid>> => crate::Tenant::All;
    /// The thread one of these keys belongs to.
    fn find_thread(&self, company_id: Uuid, source: &str, keys: &[String]) -> StoreResult<Option<Uuid>> => company_id;
    /// The thread a key leads to, if the key was used since `since`.
    fn find_recent_thread(&self, company_id: Uuid, source: &str, key: &str, since: time::OffsetDateTime) -> StoreResult<Option<Uuid>> => company_id;
    fn link_thread_keys(&self, company_id: Uuid, source: &str, keys: &[String], thread: Uuid) -> StoreResult<()> => company_id;
    /// The company's own phone numbers.
    fn own_numbers(&self, scope: &Scope) -> StoreResult<Vec<String>> => scope;
    fn set_own_numbers(&self, scope: &Scope, numbers: &[String]) -> StoreResult<Vec<String>> => scope;
    /// Remembers a number as a customer's (or contact's) for future caller-ID matching.
    fn remember_number(&self, scope: &Scope, phone: &str, customer_id: Uuid, contact_id: Option<Uuid>) -> StoreResult<()> => scope;

    /// Places a legal hold on a customer, contact, thread, log or saved query.
    fn create_legal_hold(&self, scope: &Scope, new: &commlog_domain::compliance::NewLegalHold) -> StoreResult<commlog_domain::compliance::LegalHold> => scope;
    fn list_legal_holds(&self, scope: &Scope, include_released: bool) -> StoreResult<Vec<commlog_domain::compliance::LegalHold>> => scope;
    fn get_legal_hold(&self, scope: &Scope, id: Uuid) -> StoreResult<commlog_domain::compliance::LegalHold> => scope;
    fn release_legal_hold(&self, scope: &Scope, id: Uuid, reason: &str) -> StoreResult<commlog_domain::compliance::LegalHold> => scope;
    fn list_retention_policies(&self, scope: &Scope) -> StoreResult<Vec<commlog_domain::compliance::RetentionPolicy>> => scope;
    /// Creates (`id` None) or replaces a retention policy.
    fn save_retention_policy(&self, scope: &Scope, id: Option<Uuid>, input: &commlog_domain::compliance::RetentionPolicyInput) -> StoreResult<commlog_domain::compliance::RetentionPolicy> => scope;
    fn delete_retention_policy(&self, scope: &Scope, id: Uuid) -> StoreResult<()> => scope;
    /// Archives and purges by the company's policies as of `now` (or reports what it would);
    /// returns the report and the blob keys to delete.
    fn run_retention(&self, scope: &Scope, now: time::OffsetDateTime, dry_run: bool) -> StoreResult<(commlog_domain::compliance::RetentionReport, Vec<String>)> => scope;
    /// The contacts, addresses and numbers that identify a data subject.
    fn resolve_subject(&self, scope: &Scope, r: &commlog_domain::compliance::SubjectRef) -> StoreResult<commlog_domain::compliance::Subject> => scope;
    fn subject_log_ids(&self, scope: &Scope, s: &commlog_domain::compliance::Subject, after: Option<Uuid>, limit: i64) -> StoreResult<Vec<Uuid>> => scope;
    /// Every log that started in a period, deleted and purged ones too (regulator exports).
    fn period_log_ids(&self, scope: &Scope, since: time::OffsetDateTime, until: time::OffsetDateTime) -> StoreResult<Vec<Uuid>> => scope;
    /// The subject's logs (deleted and archived too) and their attachments, for an access export.
    fn subject_export_logs(&self, scope: &Scope, ids: &[Uuid]) -> StoreResult<(Vec<CommunicationLog>, Vec<Attachment>)> => scope;
    /// Records an erasure request and queues its job (refused under a legal hold).
    fn start_erasure(&self, scope: &Scope, new: &commlog_domain::compliance::NewErasure) -> StoreResult<commlog_domain::compliance::ErasureRequest> => scope;
    fn get_erasure(&self, scope: &Scope, id: Uuid) -> StoreResult<commlog_domain::compliance::ErasureRequest> => scope;
    fn list_erasures(&self, scope: &Scope) -> StoreResult<Vec<commlog_domain::compliance::ErasureRequest>> => scope;
    /// Erases again what a completed erasure removed (after restoring an older backup).
    fn reapply_erasure(&self, scope: &Scope, contact_ids: &[Uuid], address_hashes: &[String]) -> StoreResult<(serde_json::Value, Vec<String>)> => scope;
    /// Works one batch of an erasure; returns the request and the blob keys to delete.
    fn erase_batch(&self, scope: &Scope, id: Uuid, batch: i64) -> StoreResult<(commlog_domain::compliance::ErasureRequest, Vec<String>)> => scope;

    /// Re-wraps a company's data keys with the current master key (after a rotation).
    fn rewrap_data_keys(&self, company_id: Uuid) -> StoreResult<u64> => company_id;
    /// How many live data keys of a company each master key wraps.
    fn data_key_masters(&self, company_id: Uuid) -> StoreResult<Vec<(String, i64)>> => company_id;

    /// Chains unsealed audit entries (at most `limit` per company); returns how many.
    fn seal_audit(&self, limit: i64) -> StoreResult<u64> => crate::Tenant::All;
    /// Recomputes the audit chain of one company, or of all.
    fn verify_audit(&self, company: Option<Uuid>) -> StoreResult<Vec<AuditVerification>> => crate::Tenant::All;
    fn list_audit(&self, scope: &Scope, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> => scope;
    /// Entries recorded in a period and entries about the period's logs (regulator exports).
    fn regulator_audit(&self, scope: &Scope, since: time::OffsetDateTime, until: time::OffsetDateTime) -> StoreResult<Vec<AuditEntry>> => scope;
    /// Records an action that changes nothing else (a sensitive read, a denial).
    fn record_audit(&self, scope: &Scope, action: &str, entity_type: &str, entity_id: Option<Uuid>, changes: serde_json::Value) -> StoreResult<()> => scope;

    /// Bulk-inserts synthetic logs for `commlog seed`; returns how many were written.
    fn insert_seed_logs(&self, company_id: Uuid, logs: &[SeedLog]) -> StoreResult<u64> => company_id;
}
