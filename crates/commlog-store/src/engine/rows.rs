//! Turning rows into records: the column lists every SELECT uses and the decoders that read
//! them. Stored enum spellings that do not parse are reported, never guessed.

use super::Db;
use crate::{DbTime, StoreError, StoreResult};
use commlog_domain::log::CommunicationLog;
use commlog_domain::records::*;
use sqlx::Row as _;
use sqlx::types::Json;
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

pub(super) type Row = <Db as sqlx::Database>::Row;

/// Every column of `crm_communication_logs` a record needs, aliased `l`.
pub(super) const LOG_COLUMNS: &str = "l.id, l.company_id, l.customer_id, l.contact_id, l.assigned_to_user_id, \
    l.created_by_user_id, l.updated_by_user_id, l.team_id, l.communication_type, l.channel, l.direction, l.subject, \
    l.start_time, l.end_time, l.duration_minutes, l.duration_seconds, l.call_outcome, l.response_seconds, l.satisfaction_score, l.content, l.summary, l.transcription, \
    l.priority, l.status, l.is_internal, l.sentiment, l.sentiment_score, l.key_topics, l.requires_follow_up, \
    l.follow_up_assigned_to, l.follow_up_date, l.follow_up_status, l.source, l.external_id, l.thread_id, \
    l.language, l.analysis, l.created_at, l.updated_at, l.is_deleted";

pub(super) fn get<'r, T>(row: &'r Row, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(col)
        .map_err(|e| StoreError::Other(format!("reading {col}: {e}")))
}

pub(super) fn time(row: &Row, col: &str) -> StoreResult<OffsetDateTime> {
    Ok(get::<DbTime>(row, col)?.0)
}

pub(super) fn opt_time(row: &Row, col: &str) -> StoreResult<Option<OffsetDateTime>> {
    Ok(get::<Option<DbTime>>(row, col)?.map(|t| t.0))
}

pub(super) fn parse<T: FromStr>(row: &Row, col: &str) -> StoreResult<T> {
    let text: String = get(row, col)?;
    text.parse().map_err(|_| StoreError::corrupt(col))
}

pub(super) fn opt_parse<T: FromStr>(row: &Row, col: &str) -> StoreResult<Option<T>> {
    match get::<Option<String>>(row, col)? {
        Some(text) => text.parse().map(Some).map_err(|_| StoreError::corrupt(col)),
        None => Ok(None),
    }
}

/// A log without its links (categories, tags, watchers, participants), which
/// `log_links.rs` fills in.
pub(super) fn log(row: &Row) -> StoreResult<CommunicationLog> {
    Ok(CommunicationLog {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        customer_id: get(row, "customer_id")?,
        contact_id: get(row, "contact_id")?,
        assigned_to_user_id: get(row, "assigned_to_user_id")?,
        created_by_user_id: get(row, "created_by_user_id")?,
        updated_by_user_id: get(row, "updated_by_user_id")?,
        team_id: get(row, "team_id")?,
        communication_type: parse(row, "communication_type")?,
        channel: get(row, "channel")?,
        direction: parse(row, "direction")?,
        subject: get(row, "subject")?,
        start_time: time(row, "start_time")?,
        end_time: opt_time(row, "end_time")?,
        duration_minutes: get(row, "duration_minutes")?,
        duration_seconds: get(row, "duration_seconds")?,
        call_outcome: opt_parse(row, "call_outcome")?,
        response_seconds: get(row, "response_seconds")?,
        satisfaction_score: get(row, "satisfaction_score")?,
        content: get(row, "content")?,
        summary: get(row, "summary")?,
        transcription: get(row, "transcription")?,
        priority: parse(row, "priority")?,
        status: parse(row, "status")?,
        is_internal: get(row, "is_internal")?,
        sentiment: opt_parse(row, "sentiment")?,
        sentiment_score: get(row, "sentiment_score")?,
        key_topics: get::<Json<Vec<String>>>(row, "key_topics")?.0,
        requires_follow_up: get(row, "requires_follow_up")?,
        follow_up_assigned_to: get(row, "follow_up_assigned_to")?,
        follow_up_date: opt_time(row, "follow_up_date")?,
        follow_up_status: opt_parse(row, "follow_up_status")?,
        source: get(row, "source")?,
        external_id: get(row, "external_id")?,
        thread_id: get(row, "thread_id")?,
        categories: Vec::new(),
        tags: Vec::new(),
        watchers: Vec::new(),
        participants: Vec::new(),
        language: get(row, "language")?,
        analysis: get::<Json<serde_json::Value>>(row, "analysis")?.0,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        is_deleted: get(row, "is_deleted")?,
    })
}

pub(super) const USER_COLUMNS: &str = "id, company_id, email, full_name, role, team_id, capacity, is_active, is_compliance, created_at";

pub(super) fn user(row: &Row) -> StoreResult<User> {
    Ok(User {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        email: get(row, "email")?,
        full_name: get(row, "full_name")?,
        role: parse(row, "role")?,
        team_id: get(row, "team_id")?,
        capacity: get(row, "capacity")?,
        is_active: get(row, "is_active")?,
        is_compliance: get(row, "is_compliance")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn team(row: &Row) -> StoreResult<Team> {
    Ok(Team {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn company(row: &Row) -> StoreResult<Company> {
    Ok(Company {
        id: get(row, "id")?,
        name: get(row, "name")?,
        timezone: get(row, "timezone")?,
        default_country_code: get(row, "default_country_code")?,
        mfa_required_roles: get::<Json<Vec<String>>>(row, "mfa_required_roles")?
            .0
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect(),
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn customer(row: &Row) -> StoreResult<Customer> {
    Ok(Customer {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        name: get(row, "name")?,
        email_domain: get(row, "email_domain")?,
        phone: get(row, "phone")?,
        external_ref: get(row, "external_ref")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// A contact without its addresses.
pub(super) fn contact(row: &Row) -> StoreResult<Contact> {
    Ok(Contact {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        customer_id: get(row, "customer_id")?,
        full_name: get(row, "full_name")?,
        title: get(row, "title")?,
        emails: Vec::new(),
        phones: Vec::new(),
        recording_consent: get(row, "recording_consent")?,
        processing_consent: get(row, "processing_consent")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn category(row: &Row) -> StoreResult<Category> {
    Ok(Category {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        category_name: get(row, "category_name")?,
        category_code: get(row, "category_code")?,
        description: get(row, "description")?,
        parent_category_id: get(row, "parent_category_id")?,
        is_active: get(row, "is_active")?,
        is_default: get(row, "is_default")?,
        default_priority: parse(row, "default_priority")?,
        auto_categorization: get(row, "auto_categorization")?,
        color: get(row, "color")?,
        icon: get(row, "icon")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn channel(row: &Row) -> StoreResult<ChannelConfiguration> {
    Ok(ChannelConfiguration {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        channel_name: get(row, "channel_name")?,
        channel_code: get(row, "channel_code")?,
        channel_type: parse(row, "channel_type")?,
        description: get(row, "description")?,
        is_active: get(row, "is_active")?,
        is_default: get(row, "is_default")?,
        requires_authentication: get(row, "requires_authentication")?,
        api_endpoint: get(row, "api_endpoint")?,
        has_api_key: get::<Option<String>>(row, "api_key")?.is_some(),
        webhook_url: get(row, "webhook_url")?,
        auto_transcription: get(row, "auto_transcription")?,
        sentiment_analysis: get(row, "sentiment_analysis")?,
        auto_categorization: get(row, "auto_categorization")?,
        provider: get(row, "provider")?,
        webhook_configured: get(row, "webhook_configured")?,
        record_calls: get(row, "record_calls")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(super) fn attachment(row: &Row) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: get(row, "id")?,
        company_id: get(row, "company_id")?,
        communication_log_id: get(row, "communication_log_id")?,
        uploaded_by_user_id: get(row, "uploaded_by_user_id")?,
        file_name: get(row, "file_name")?,
        file_type: get(row, "file_type")?,
        file_size: get(row, "file_size")?,
        file_path: get(row, "file_path")?,
        checksum_sha256: get(row, "checksum_sha256")?,
        status: parse(row, "status")?,
        is_public: get(row, "is_public")?,
        is_internal: get(row, "is_internal")?,
        download_count: get(row, "download_count")?,
        created_at: time(row, "created_at")?,
        is_deleted: get(row, "is_deleted")?,
    })
}

pub(super) fn audit(row: &Row) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: get(row, "id")?,
        occurred_at: time(row, "occurred_at")?,
        actor_user_id: get(row, "actor_user_id")?,
        action: get(row, "action")?,
        entity_type: get(row, "entity_type")?,
        entity_id: get::<Option<Uuid>>(row, "entity_id")?,
        changes: get::<Json<serde_json::Value>>(row, "changes")?.0,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        request_id: get(row, "request_id")?,
        seq: get(row, "seq")?,
        hash: get(row, "hash")?,
    })
}

pub(super) const SESSION_COLUMNS: &str = "id, user_id, mfa_passed, created_at, last_used_at, expires_at, revoked_at, revoked_reason, ip, user_agent";

pub(super) fn session(row: &Row) -> StoreResult<Session> {
    Ok(Session {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        mfa_passed: get(row, "mfa_passed")?,
        created_at: time(row, "created_at")?,
        last_used_at: time(row, "last_used_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        revoked_reason: get(row, "revoked_reason")?,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
    })
}

pub(super) const API_TOKEN_COLUMNS: &str = "id, name, role, permissions, created_by_user_id, created_at, last_used_at, expires_at, revoked_at";

pub(super) fn api_token(row: &Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: get(row, "id")?,
        name: get(row, "name")?,
        role: parse(row, "role")?,
        permissions: get::<Json<Vec<String>>>(row, "permissions")?.0,
        created_by_user_id: get(row, "created_by_user_id")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}
