//! All of Commlog's SQL, on SQLite and PostgreSQL with one behaviour.
//!
//! The SQL lives once, in `engine/`: each file there is compiled twice, as a module of `pg` and
//! of `sqlite`, against that engine's `Db` type and `dialect` (the few places where the engines
//! differ: full-text search, partial-index predicates, locking). [`Store`] dispatches each call to
//! the engine in use. Every operation takes a [`Scope`]: rows outside the caller's company — or
//! outside what the caller's role may see — do not exist for it.
#![forbid(unsafe_code)]

/// Declares the shared SQL modules of `engine/` inside an engine folder (`pg/`, `sqlite/`),
/// where each compiles against that folder's `Db` and `dialect`. The list lives here once.
macro_rules! engine_modules {
    () => {
        #[path = "../engine/analytics.rs"]
        mod analytics;
        #[path = "../engine/attachments.rs"]
        mod attachments;
        #[path = "../engine/audit.rs"]
        mod audit;
        #[path = "../engine/audit_chain.rs"]
        mod audit_chain;
        #[path = "../engine/capture.rs"]
        mod capture;
        #[path = "../engine/companies.rs"]
        mod companies;
        #[path = "../engine/customers.rs"]
        mod customers;
        #[path = "../engine/email.rs"]
        mod email;
        #[path = "../engine/erasure.rs"]
        mod erasure;
        #[path = "../engine/events.rs"]
        mod events;
        #[path = "../engine/field_crypto.rs"]
        mod field_crypto;
        #[path = "../engine/identity.rs"]
        mod identity;
        #[path = "../engine/jobs.rs"]
        mod jobs;
        #[path = "../engine/legal_holds.rs"]
        mod legal_holds;
        #[path = "../engine/log_links.rs"]
        mod log_links;
        #[path = "../engine/log_list.rs"]
        mod log_list;
        #[path = "../engine/log_refs.rs"]
        mod log_refs;
        #[path = "../engine/logs.rs"]
        mod logs;
        #[path = "../engine/mail_accounts.rs"]
        mod mail_accounts;
        #[path = "../engine/migrations.rs"]
        mod migrations;
        #[path = "../engine/numbers.rs"]
        mod numbers;
        #[path = "../engine/processing.rs"]
        mod processing;
        #[path = "../engine/processing_rules.rs"]
        mod processing_rules;
        #[path = "../engine/purge.rs"]
        mod purge;
        #[path = "../engine/reference.rs"]
        mod reference;
        #[path = "../engine/retention.rs"]
        mod retention;
        #[path = "../engine/rows.rs"]
        mod rows;
        #[path = "../engine/seed.rs"]
        mod seed;
    };
}

mod db_time;
pub mod encryption;
mod error;
mod migrate;
#[expect(
    clippy::duplicate_mod,
    reason = "each engine/ file is compiled once per engine, by design"
)]
mod pg;
mod scope;
#[expect(
    clippy::duplicate_mod,
    reason = "each engine/ file is compiled once per engine, by design"
)]
mod sqlite;
mod store;
mod tenant;

pub use db_time::DbTime;
pub use error::{StoreError, StoreResult};
pub use migrate::MIGRATION_NAMES;
pub use scope::{RequestMeta, Scope};
pub use store::{
    AuditBreak, AuditVerification, Backend, CaptureRecord, CapturedEvent, ConnectOptions,
    CreatedCompany, CreatedLog, EventsStamp, LogPage, LoginUser, NewApiToken, NewCaptureEvent,
    NewCompany, NewSession, NewUserRecord, PublishedEvent, Rotation, SeedLog, SeedParticipant,
    Store, WebhookChannel,
};
pub use tenant::Tenant;

/// One engine's connection pools: on SQLite writes go through a single connection (SQLite has
/// one writer; queueing in the pool beats `SQLITE_BUSY`), on PostgreSQL both are the same pool.
pub struct Engine<DB: sqlx::Database> {
    read: sqlx::Pool<DB>,
    write: sqlx::Pool<DB>,
    /// The keys of encryption at rest, when it is on.
    keys: Option<std::sync::Arc<encryption::Keyring>>,
}
