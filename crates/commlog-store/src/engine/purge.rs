//! Purging logs: what retention's delete and a subject's erasure do to each log. Everything a
//! log's people said or sent goes — content, subject line, summary, transcript, analysis,
//! participants' addresses and numbers, attachments and recordings (their files are returned
//! for the caller to delete after commit), captured raw payloads, quarantined raw mail, job
//! payloads, cached responses, categorisation examples, the keys that thread the conversation.
//! What stays is either a tombstone (when, which channel and type, who handled it: the figures
//! analytics count) or nothing at all.

use super::audit::Tx;
use super::{Db, dialect};
use crate::{DbTime, Engine, StoreResult};
use sqlx::QueryBuilder;
use uuid::Uuid;

/// How many logs one statement names (bounded so a statement's parameters stay few).
pub(super) const CHUNK: usize = 500;

/// What a purge removed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct Purged {
    pub logs: u64,
    pub participants: u64,
    pub attachments: u64,
    pub capture_events: u64,
    pub quarantined_emails: u64,
    pub jobs: u64,
    pub thread_keys: u64,
    /// Blob-store keys to delete once the transaction has committed.
    #[serde(skip)]
    pub blob_keys: Vec<String>,
}

impl Purged {
    pub fn add(&mut self, other: Purged) {
        self.logs += other.logs;
        self.participants += other.participants;
        self.attachments += other.attachments;
        self.capture_events += other.capture_events;
        self.quarantined_emails += other.quarantined_emails;
        self.jobs += other.jobs;
        self.thread_keys += other.thread_keys;
        self.blob_keys.extend(other.blob_keys);
    }
}

/// `<sql ending in "company_id = "><company> AND <column> IN (<ids>)`.
fn scoped(sql: &str, company_id: Uuid, column: &str, ids: &[Uuid]) -> QueryBuilder<Db> {
    let mut qb = QueryBuilder::<Db>::new(sql);
    qb.push_bind(company_id).push(" AND ");
    push_ids(&mut qb, column, ids);
    qb
}

pub(super) fn push_ids(qb: &mut QueryBuilder<Db>, column: &str, ids: &[Uuid]) {
    push_in(qb, column, ids);
}

/// `<column> IN (<values>)`, each value a bound parameter.
pub(super) fn push_in<T>(qb: &mut QueryBuilder<Db>, column: &str, values: &[T])
where
    T: Clone + Send + 'static + sqlx::Encode<'static, Db> + sqlx::Type<Db>,
{
    qb.push(format!("{column} IN ("));
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    qb.push(")");
}

async fn exec(tx: &mut Tx, sql: &str, company_id: Uuid, column: &str, ids: &[Uuid]) -> StoreResult<u64> {
    let mut qb = scoped(sql, company_id, column, ids);
    Ok(qb.build().execute(&mut **tx).await?.rows_affected())
}

async fn keys(tx: &mut Tx, sql: &str, company_id: Uuid, column: &str, ids: &[Uuid]) -> StoreResult<Vec<String>> {
    let mut qb = scoped(sql, company_id, column, ids);
    Ok(qb.build_query_scalar::<String>().fetch_all(&mut **tx).await?)
}

/// Purges `ids` (all of `company_id`): with `tombstone` the rows stay, emptied; without, they go.
pub(super) async fn purge_logs(tx: &mut Tx, company_id: Uuid, ids: &[Uuid], tombstone: bool, now: DbTime) -> StoreResult<Purged> {
    let mut out = Purged::default();
    for chunk in ids.chunks(CHUNK) {
        out.blob_keys.extend(keys(tx, "SELECT file_path FROM crm_communication_attachments WHERE file_path <> '' AND company_id = ", company_id, "communication_log_id", chunk).await?);
        out.blob_keys.extend(keys(tx, "SELECT blob_key FROM email_quarantine WHERE company_id = ", company_id, "communication_log_id", chunk).await?);
        // Thread keys can carry addresses (e-mail threading keys, messaging conversation ids).
        let mut qb = QueryBuilder::<Db>::new("DELETE FROM conversation_threads WHERE company_id = ");
        qb.push_bind(company_id).push(" AND thread_id IN (SELECT l.thread_id FROM crm_communication_logs l WHERE l.thread_id IS NOT NULL AND l.company_id = ");
        qb.push_bind(company_id).push(" AND ");
        push_ids(&mut qb, "l.id", chunk);
        qb.push(")");
        out.thread_keys += qb.build().execute(&mut **tx).await?.rows_affected();
        out.attachments += exec(tx, "DELETE FROM crm_communication_attachments WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
        out.quarantined_emails += exec(tx, "DELETE FROM email_quarantine WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
        out.capture_events += exec(tx, "DELETE FROM capture_events WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
        out.jobs += exec(tx, "DELETE FROM jobs WHERE company_id = ", company_id, "subject_id", chunk).await?;
        exec(tx, "DELETE FROM category_examples WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
        exec(tx, "DELETE FROM log_search_tokens WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
        // A replayed create's cached response is the id of the log it made.
        let texts: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
        let mut qb = QueryBuilder::<Db>::new("DELETE FROM idempotency_keys WHERE company_id = ");
        qb.push_bind(company_id).push(" AND ");
        push_in(&mut qb, "response_body", &texts);
        qb.build().execute(&mut **tx).await?;
        if tombstone {
            out.participants += exec(tx, "UPDATE crm_communication_participants SET email = NULL, phone = NULL, name = NULL, contact_id = NULL, address_token = NULL WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
            exec(tx, "UPDATE log_processing_runs SET detail = '{}' WHERE company_id = ", company_id, "communication_log_id", chunk).await?;
            let mut qb = QueryBuilder::<Db>::new(
                "UPDATE crm_communication_logs SET subject = '', content = '', summary = NULL, transcription = NULL, key_topics = '[]', analysis = '{}', \
                 sentiment = NULL, sentiment_score = NULL, satisfaction_score = NULL, language = NULL, contact_id = NULL, is_deleted = TRUE, deleted_at = COALESCE(deleted_at, ",
            );
            qb.push_bind(now).push("), purged_at = ").push_bind(now).push(", updated_at = ").push_bind(now).push(" WHERE company_id = ").push_bind(company_id).push(" AND ");
            push_ids(&mut qb, "id", chunk);
            out.logs += qb.build().execute(&mut **tx).await?.rows_affected();
        } else {
            for table in ["crm_communication_participants", "crm_communication_log_categories", "crm_communication_log_tags", "crm_communication_watchers", "email_sightings", "log_processing_runs"] {
                let n = exec(tx, &format!("DELETE FROM {table} WHERE company_id = "), company_id, "communication_log_id", chunk).await?;
                if table == "crm_communication_participants" {
                    out.participants += n;
                }
            }
            out.logs += exec(tx, "DELETE FROM crm_communication_logs WHERE company_id = ", company_id, "id", chunk).await?;
        }
    }
    Ok(out)
}

impl Engine<Db> {
    /// Run after a purge has committed: the engine's own copies of the old pages go too.
    pub(super) async fn after_purge(&self) -> StoreResult<()> {
        if let Some(sql) = dialect::AFTER_PURGE {
            sqlx::query(sql).execute(&self.write).await?;
        }
        Ok(())
    }
}
