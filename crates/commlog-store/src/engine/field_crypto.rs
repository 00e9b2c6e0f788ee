//! Encryption at rest in the database (see `crate::encryption` for the scheme): which data key
//! seals what, finding and creating data keys, sealing a log's personal fields before they are
//! written and opening them after they are read, and the blind index that search uses instead
//! of the engine's full-text index while encryption is on. With encryption off (no keyring in
//! the running call) every function here leaves values as they are.

use super::Db;
use super::log_links::Conn;
use crate::encryption::{self, DataKey, Keyring, SealError, index_words, sealed_key_id};
use crate::{DbTime, StoreError, StoreResult};
use commlog_domain::log::Participant;
use commlog_domain::{CommunicationLog, new_id, time_fmt};
use serde_json::{Value, json};
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

/// The scope of the key that keys the blind index.
pub(super) const SEARCH_SCOPE: &str = "search";
/// The scope of the key that seals company data not tied to one person.
pub(super) const COMPANY_SCOPE: &str = "company";

fn sealing_error(e: SealError) -> StoreError {
    StoreError::Other(format!("encrypted data: {e}"))
}

/// The key scope of a log's personal data: its contact's, else its customer's, else the
/// company's — so erasing a person can destroy the key of everything about them.
pub(super) fn log_scope(contact: Option<Uuid>, customer: Option<Uuid>) -> String {
    match (contact, customer) {
        (Some(c), _) => format!("contact:{c}"),
        (None, Some(c)) => format!("customer:{c}"),
        (None, None) => COMPANY_SCOPE.to_owned(),
    }
}

/// The live data key of `scope`, made (and stored wrapped) on first use when `create`.
pub(super) async fn scope_key(conn: &mut Conn, ring: &Keyring, company: Uuid, scope: &str, create: bool) -> StoreResult<Option<Arc<DataKey>>> {
    if let Some(k) = ring.cached_scope(company, scope) {
        return Ok(Some(k));
    }
    let select = "SELECT id, master_key_id, wrapped_key FROM data_keys WHERE company_id = $1 AND scope = $2 AND destroyed_at IS NULL";
    let mut row = sqlx::query(select).bind(company).bind(scope).fetch_optional(&mut *conn).await?;
    if row.is_none() && create {
        let (id, raw) = (new_id(), rand::random::<[u8; 32]>());
        let (master, wrapped) = ring.wrap(company, id, scope, &raw);
        // Two writers may create a scope's key at once: the unique index keeps one.
        sqlx::query(
            "INSERT INTO data_keys (company_id, id, scope, master_key_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(company)
        .bind(id)
        .bind(scope)
        .bind(master)
        .bind(wrapped)
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *conn)
        .await?;
        row = sqlx::query(select).bind(company).bind(scope).fetch_optional(&mut *conn).await?;
    }
    let Some(r) = row else { return Ok(None) };
    let id: Uuid = r.try_get("id")?;
    let raw = ring.unwrap(company, id, scope, &r.try_get::<String, _>("master_key_id")?, &r.try_get::<String, _>("wrapped_key")?).map_err(sealing_error)?;
    let key = Arc::new(DataKey::new(id, raw));
    ring.remember(company, scope, key.clone());
    Ok(Some(key))
}

/// The data key a sealed value names.
async fn key_by_id(conn: &mut Conn, ring: &Keyring, company: Uuid, id: Uuid) -> StoreResult<Arc<DataKey>> {
    if let Some(k) = ring.cached(id) {
        return Ok(k);
    }
    let r = sqlx::query("SELECT scope, master_key_id, wrapped_key FROM data_keys WHERE company_id = $1 AND id = $2 AND destroyed_at IS NULL")
        .bind(company)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| sealing_error(SealError::UnknownDataKey(id)))?;
    let scope: String = r.try_get("scope")?;
    let raw = ring.unwrap(company, id, &scope, &r.try_get::<String, _>("master_key_id")?, &r.try_get::<String, _>("wrapped_key")?).map_err(sealing_error)?;
    let key = Arc::new(DataKey::new(id, raw));
    ring.remember(company, &scope, key.clone());
    Ok(key)
}

/// Opens `text` when it is sealed; plain text (written before encryption was on, or purged
/// to empty) passes through.
pub(super) async fn open_text(conn: &mut Conn, ring: &Keyring, company: Uuid, text: &str, aad: &str) -> StoreResult<String> {
    match sealed_key_id(text) {
        None => Ok(text.to_owned()),
        Some(id) => {
            let key = key_by_id(conn, ring, company, id.map_err(sealing_error)?).await?;
            encryption::open(&key, text, aad).map_err(sealing_error)
        }
    }
}

/// Seals a company-wide value (payloads, cached responses, examples) when encryption is on.
pub(super) async fn seal_company_text(conn: &mut Conn, company: Uuid, text: &str, aad: &str) -> StoreResult<String> {
    let Some(ring) = encryption::current() else { return Ok(text.to_owned()) };
    let key = scope_key(conn, &ring, company, COMPANY_SCOPE, true).await?.ok_or(StoreError::NotFound)?;
    Ok(key.seal(text, aad))
}

/// Opens a value sealed by [`seal_company_text`] (or any sealed value with this binding).
pub(super) async fn open_company_text(conn: &mut Conn, company: Uuid, text: &str, aad: &str) -> StoreResult<String> {
    match encryption::current() {
        Some(ring) => open_text(conn, &ring, company, text, aad).await,
        // Encryption was turned off: a sealed value cannot be read without the keys.
        None if sealed_key_id(text).is_some() => Err(StoreError::Other("encrypted data, and encryption at rest is not configured".into())),
        None => Ok(text.to_owned()),
    }
}

fn aad(field: &str, id: Uuid) -> String {
    format!("{field}:{id}")
}

/// A copy of `log` with its personal fields sealed, ready to be written (the log itself, when
/// encryption is off).
pub(super) async fn sealed_log(conn: &mut Conn, company: Uuid, log: &CommunicationLog) -> StoreResult<CommunicationLog> {
    let mut out = log.clone();
    let Some(ring) = encryption::current() else { return Ok(out) };
    let key = scope_key(conn, &ring, company, &log_scope(log.contact_id, log.customer_id), true).await?.ok_or(StoreError::NotFound)?;
    seal_fields(&key, &mut out);
    Ok(out)
}

/// Seals subject, content, summary, transcription, key topics and analysis in place.
pub(super) fn seal_fields(key: &DataKey, l: &mut CommunicationLog) {
    let id = l.id;
    // A subject line is often the first words of the content.
    if !l.subject.is_empty() {
        l.subject = key.seal(&l.subject, &aad("subject", id));
    }
    if !l.content.is_empty() {
        l.content = key.seal(&l.content, &aad("content", id));
    }
    for (field, value) in [("summary", &mut l.summary), ("transcription", &mut l.transcription)] {
        if let Some(v) = value.as_mut().filter(|v| !v.is_empty()) {
            *v = key.seal(v, &aad(field, id));
        }
    }
    if !l.key_topics.is_empty() {
        l.key_topics = vec![key.seal(&json!(l.key_topics).to_string(), &aad("key_topics", id))];
    }
    if l.analysis.as_object().is_some_and(|o| !o.is_empty()) {
        l.analysis = json!({"sealed": key.seal(&l.analysis.to_string(), &aad("analysis", id))});
    }
}

/// The key that seals new values of a log (by its contact and customer).
pub(super) async fn log_key(conn: &mut Conn, company: Uuid, contact: Option<Uuid>, customer: Option<Uuid>) -> StoreResult<Option<Arc<DataKey>>> {
    let Some(ring) = encryption::current() else { return Ok(None) };
    scope_key(conn, &ring, company, &log_scope(contact, customer), true).await
}

/// Opens the sealed fields of logs just read, participants included.
pub(super) async fn open_logs(conn: &mut Conn, company: Uuid, logs: &mut [CommunicationLog]) -> StoreResult<()> {
    let Some(ring) = encryption::current() else { return Ok(()) };
    for l in logs.iter_mut() {
        let id = l.id;
        l.subject = open_text(conn, &ring, company, &l.subject, &aad("subject", id)).await?;
        l.content = open_text(conn, &ring, company, &l.content, &aad("content", id)).await?;
        for (field, value) in [("summary", &mut l.summary), ("transcription", &mut l.transcription)] {
            if let Some(v) = value.as_mut() {
                *v = open_text(conn, &ring, company, v, &aad(field, id)).await?;
            }
        }
        if let [only] = l.key_topics.as_slice()
            && sealed_key_id(only).is_some()
        {
            let text = open_text(conn, &ring, company, only, &aad("key_topics", id)).await?;
            l.key_topics = serde_json::from_str(&text).map_err(|_| StoreError::corrupt("key_topics"))?;
        }
        if let Some(sealed) = l.analysis.get("sealed").and_then(Value::as_str) {
            let text = open_text(conn, &ring, company, sealed, &aad("analysis", id)).await?;
            l.analysis = serde_json::from_str(&text).map_err(|_| StoreError::corrupt("analysis"))?;
        }
        for p in &mut l.participants {
            open_participant(conn, &ring, company, p).await?;
        }
    }
    Ok(())
}

async fn open_participant(conn: &mut Conn, ring: &Keyring, company: Uuid, p: &mut Participant) -> StoreResult<()> {
    let pid = p.id;
    for (field, value) in [("participant_email", &mut p.email), ("participant_phone", &mut p.phone), ("participant_name", &mut p.name)] {
        if let Some(v) = value.as_mut() {
            *v = open_text(conn, ring, company, v, &aad(field, pid)).await?;
        }
    }
    Ok(())
}

/// Seals a participant's address, number and name, and gives the blind-index token of the
/// address or number (so a person's logs can be found for access and erasure requests).
pub(super) async fn seal_participant(conn: &mut Conn, company: Uuid, key: Option<&DataKey>, p: &mut Participant) -> StoreResult<Option<String>> {
    let (Some(key), Some(ring)) = (key, encryption::current()) else { return Ok(None) };
    let token = match p.email.as_deref().or(p.phone.as_deref()) {
        Some(address) => Some(address_token(conn, &ring, company, address).await?),
        None => None,
    };
    let pid = p.id;
    for (field, value) in [("participant_email", &mut p.email), ("participant_phone", &mut p.phone), ("participant_name", &mut p.name)] {
        if let Some(v) = value.as_mut() {
            *v = key.seal(v, &aad(field, pid));
        }
    }
    Ok(token)
}

async fn search_key(conn: &mut Conn, ring: &Keyring, company: Uuid, create: bool) -> StoreResult<Option<Arc<DataKey>>> {
    scope_key(conn, ring, company, SEARCH_SCOPE, create).await
}

async fn address_token(conn: &mut Conn, ring: &Keyring, company: Uuid, address: &str) -> StoreResult<String> {
    let key = search_key(conn, ring, company, true).await?.ok_or(StoreError::NotFound)?;
    Ok(key.token(&format!("address:{}", address.to_lowercase())))
}

/// The blind-index tokens of addresses and numbers, for finding a person's participations;
/// `None` when encryption is off.
pub(super) async fn address_tokens(conn: &mut Conn, company: Uuid, addresses: &[String]) -> StoreResult<Option<Vec<String>>> {
    let Some(ring) = encryption::current() else { return Ok(None) };
    let Some(key) = search_key(conn, &ring, company, false).await? else { return Ok(Some(Vec::new())) };
    Ok(Some(addresses.iter().map(|a| key.token(&format!("address:{}", a.to_lowercase()))).collect()))
}

/// Replaces a log's blind-index tokens with those of `texts` (nothing when encryption is off).
pub(super) async fn index_log(conn: &mut Conn, company: Uuid, log_id: Uuid, texts: &[&str]) -> StoreResult<()> {
    let Some(ring) = encryption::current() else { return Ok(()) };
    let key = search_key(conn, &ring, company, true).await?.ok_or(StoreError::NotFound)?;
    sqlx::query("DELETE FROM log_search_tokens WHERE company_id = $1 AND communication_log_id = $2").bind(company).bind(log_id).execute(&mut *conn).await?;
    let mut words: Vec<String> = texts.iter().flat_map(|t| index_words(t)).collect();
    words.sort();
    words.dedup();
    for chunk in words.chunks(300) {
        let mut qb = sqlx::QueryBuilder::<Db>::new("INSERT INTO log_search_tokens (company_id, token, communication_log_id) ");
        qb.push_values(chunk, |mut b, w| {
            b.push_bind(company).push_bind(key.token(w)).push_bind(log_id);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The tokens a search looks up (one per word, all required), when encryption is on: `None`
/// when it is off, `Some(empty)` when nothing can match.
pub(super) async fn search_tokens(conn: &mut Conn, company: Uuid, query: &str) -> StoreResult<Option<Vec<String>>> {
    let Some(ring) = encryption::current() else { return Ok(None) };
    let Some(key) = search_key(conn, &ring, company, false).await? else { return Ok(Some(Vec::new())) };
    let words: Vec<String> = index_words(query).into_iter().take(32).collect();
    Ok(Some(words.iter().map(|w| key.token(w)).collect()))
}

/// Destroys the data keys of `scopes`: what they sealed can never be read again, wherever a
/// copy of it survives.
pub(super) async fn destroy_keys(conn: &mut Conn, company: Uuid, scopes: &[String]) -> StoreResult<u64> {
    let mut n = 0;
    for scope in scopes {
        n += sqlx::query("UPDATE data_keys SET wrapped_key = '', destroyed_at = $1 WHERE company_id = $2 AND scope = $3 AND destroyed_at IS NULL")
            .bind(DbTime::from(time_fmt::now()))
            .bind(company)
            .bind(scope)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if let Some(ring) = encryption::current() {
            ring.forget(company, scope);
        }
    }
    Ok(n)
}

impl crate::Engine<Db> {
    /// Re-wraps a company's live data keys that another master key wrapped with the current
    /// one (after `commlog keys rotate`); returns how many. Sealed values are untouched: they
    /// name data keys, which stay the same.
    pub(crate) async fn rewrap_data_keys(&self, company: Uuid) -> StoreResult<u64> {
        let Some(ring) = encryption::current() else { return Ok(0) };
        let current = ring.current_master_id();
        let mut n = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let rows = sqlx::query("SELECT id, scope, master_key_id, wrapped_key FROM data_keys WHERE company_id = $1 AND destroyed_at IS NULL AND master_key_id <> $2 LIMIT 500")
                .bind(company)
                .bind(&current)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                return Ok(n);
            }
            for r in &rows {
                let id: Uuid = r.try_get("id")?;
                let scope: String = r.try_get("scope")?;
                let old: String = r.try_get("master_key_id")?;
                let raw = ring.unwrap(company, id, &scope, &old, &r.try_get::<String, _>("wrapped_key")?).map_err(sealing_error)?;
                let (master, wrapped) = ring.wrap(company, id, &scope, &raw);
                n += sqlx::query("UPDATE data_keys SET master_key_id = $1, wrapped_key = $2 WHERE company_id = $3 AND id = $4 AND master_key_id = $5")
                    .bind(master)
                    .bind(wrapped)
                    .bind(company)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
    }

    /// How many of a company's live data keys each master key wraps.
    pub(crate) async fn data_key_masters(&self, company: Uuid) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT master_key_id, count(*) FROM data_keys WHERE company_id = $1 AND destroyed_at IS NULL GROUP BY master_key_id ORDER BY master_key_id")
            .bind(company)
            .fetch_all(&self.read)
            .await?)
    }
}
