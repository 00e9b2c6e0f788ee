//! Data subjects: finding everything Commlog holds about a person (for access requests), and
//! erasing it. An erasure is a request that a job works through in batches — each batch one
//! transaction that purges a few hundred logs and records progress — so a subject with hundreds
//! of thousands of logs neither holds a lock for minutes nor starts over after a crash. The
//! last batch removes the person's contact record, remembered numbers and raw captured payloads,
//! forgets the identifier the request named, and leaves a receipt (counts only) in the audit
//! trail. A legal hold over any of the subject's data refuses the erasure and says which hold.

use super::audit::{self, Tx};
use super::legal_holds::{describe, holds_covering};
use super::purge::{self, Purged};
use super::{Db, field_crypto, jobs, log_links, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::compliance::{ERASURE_JOB, ErasureRequest, NewErasure, Subject, SubjectRef};
use commlog_domain::records::Attachment;
use commlog_domain::{CommunicationLog, new_id, time_fmt};
use serde_json::{Value, json};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

const COLUMNS: &str = "id, subject_type, subject_contact_id, subject_identifier, reason, status, requested_by_user_id, logs_total, logs_done, receipt, error, created_at, completed_at";

fn request(r: &rows::Row) -> StoreResult<ErasureRequest> {
    Ok(ErasureRequest {
        id: rows::get(r, "id")?,
        subject_type: rows::get(r, "subject_type")?,
        subject_contact_id: rows::get(r, "subject_contact_id")?,
        reason: rows::get(r, "reason")?,
        status: rows::get(r, "status")?,
        requested_by_user_id: rows::get(r, "requested_by_user_id")?,
        logs_total: rows::get(r, "logs_total")?,
        logs_done: rows::get(r, "logs_done")?,
        receipt: rows::get::<Json<Value>>(r, "receipt")?.0,
        error: rows::get(r, "error")?,
        created_at: rows::time(r, "created_at")?,
        completed_at: rows::opt_time(r, "completed_at")?,
    })
}

/// The person behind a reference: the contacts it names or that carry its address or number,
/// and every address and number of those contacts.
async fn resolve(conn: &mut <Db as sqlx::Database>::Connection, company_id: Uuid, r: &SubjectRef) -> StoreResult<Subject> {
    let mut s = Subject::default();
    if let Some(c) = r.contact_id {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE company_id = $1 AND id = $2")
            .bind(company_id)
            .bind(c)
            .fetch_one(&mut *conn)
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        s.contact_ids.push(c);
    }
    if let Some(e) = &r.email {
        s.emails.push(e.clone());
        s.contact_ids.extend(sqlx::query_scalar::<_, Uuid>("SELECT contact_id FROM contact_emails WHERE company_id = $1 AND email = $2").bind(company_id).bind(e).fetch_all(&mut *conn).await?);
    }
    if let Some(p) = &r.phone {
        s.phones.push(p.clone());
        s.contact_ids.extend(sqlx::query_scalar::<_, Uuid>("SELECT contact_id FROM contact_phones WHERE company_id = $1 AND phone = $2").bind(company_id).bind(p).fetch_all(&mut *conn).await?);
    }
    s.contact_ids.sort();
    s.contact_ids.dedup();
    for c in &s.contact_ids {
        s.emails.extend(sqlx::query_scalar::<_, String>("SELECT email FROM contact_emails WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).fetch_all(&mut *conn).await?);
        s.phones.extend(sqlx::query_scalar::<_, String>("SELECT phone FROM contact_phones WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).fetch_all(&mut *conn).await?);
    }
    for v in [&mut s.emails, &mut s.phones] {
        v.sort();
        v.dedup();
    }
    Ok(s)
}

/// Ids of the subject's logs (named by contact, or with the subject among the participants),
/// after `after` in id order. Purged logs no longer carry the subject, so they drop out.
async fn subject_logs(conn: &mut <Db as sqlx::Database>::Connection, company_id: Uuid, s: &Subject, after: Option<Uuid>, limit: i64) -> StoreResult<Vec<Uuid>> {
    // With encryption on, addresses are sealed: they are found by their keyed hashes.
    let addresses: Vec<String> = s.emails.iter().chain(&s.phones).cloned().collect();
    let tokens = field_crypto::address_tokens(conn, company_id, &addresses).await?.unwrap_or_default();
    let mut qb = QueryBuilder::<Db>::new("SELECT id FROM (SELECT p.communication_log_id AS id FROM crm_communication_participants p WHERE p.company_id = ");
    qb.push_bind(company_id).push(" AND (1 = 0");
    if !tokens.is_empty() {
        qb.push(" OR ");
        purge::push_in(&mut qb, "p.address_token", &tokens);
    }
    if !s.emails.is_empty() {
        qb.push(" OR ");
        purge::push_in(&mut qb, "p.email", &s.emails);
    }
    if !s.phones.is_empty() {
        qb.push(" OR ");
        purge::push_in(&mut qb, "p.phone", &s.phones);
    }
    if !s.contact_ids.is_empty() {
        qb.push(" OR ");
        purge::push_ids(&mut qb, "p.contact_id", &s.contact_ids);
        qb.push(") UNION SELECT l.id FROM crm_communication_logs l WHERE l.company_id = ").push_bind(company_id).push(" AND ");
        purge::push_ids(&mut qb, "l.contact_id", &s.contact_ids);
    } else {
        qb.push(")");
    }
    qb.push(") subject_logs");
    if let Some(a) = after {
        qb.push(" WHERE id > ").push_bind(a);
    }
    qb.push(" ORDER BY id LIMIT ").push_bind(limit);
    Ok(qb.build_query_scalar::<Uuid>().fetch_all(&mut *conn).await?)
}

/// Every id of the subject's logs.
async fn all_subject_logs(conn: &mut <Db as sqlx::Database>::Connection, company_id: Uuid, s: &Subject) -> StoreResult<Vec<Uuid>> {
    let mut all = Vec::new();
    loop {
        let page = subject_logs(conn, company_id, s, all.last().copied(), 5000).await?;
        let done = page.len() < 5000;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// `LIKE` patterns that find the subject in raw captured text (form- or JSON-encoded).
fn raw_patterns(s: &Subject) -> Vec<String> {
    let mut out = Vec::new();
    for e in &s.emails {
        out.push(format!("%{e}%"));
        out.push(format!("%{}%", e.replace('@', "%40")));
    }
    for p in &s.phones {
        // Without the `+`, which providers write as-is, URL-encoded or not at all.
        out.push(format!("%{}%", p.trim_start_matches('+')));
    }
    out
}

/// The last step: the person's own records and leftovers that name them outside any log.
async fn erase_records(tx: &mut Tx, company_id: Uuid, s: &Subject) -> StoreResult<Value> {
    let mut counts = serde_json::Map::new();
    let patterns = raw_patterns(s);
    for (key, sql) in [
        ("unlinked_capture_events", "DELETE FROM capture_events WHERE company_id = "),
        ("unlinked_thread_keys", "DELETE FROM conversation_threads WHERE company_id = "),
    ] {
        let column = if key == "unlinked_thread_keys" { "thread_key" } else { "payload" };
        let mut n = 0;
        for p in &patterns {
            n += sqlx::query(sqlx::AssertSqlSafe(format!("{sql}$1 AND {column} LIKE $2"))).bind(company_id).bind(p).execute(&mut **tx).await?.rows_affected();
        }
        counts.insert(key.into(), n.into());
    }
    let mut numbers = 0;
    for p in &s.phones {
        numbers += sqlx::query("DELETE FROM customer_numbers WHERE company_id = $1 AND phone = $2").bind(company_id).bind(p).execute(&mut **tx).await?.rows_affected();
        sqlx::query("UPDATE customers SET phone = NULL WHERE company_id = $1 AND phone = $2").bind(company_id).bind(p).execute(&mut **tx).await?;
    }
    counts.insert("remembered_numbers".into(), numbers.into());
    let mut contacts = 0;
    for c in &s.contact_ids {
        // Logs outside the subject's (none should remain) must not keep a reference.
        sqlx::query("UPDATE crm_communication_logs SET contact_id = NULL WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).execute(&mut **tx).await?;
        sqlx::query("UPDATE crm_communication_participants SET contact_id = NULL, email = NULL, phone = NULL, name = NULL, address_token = NULL WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM contact_emails WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM contact_phones WHERE company_id = $1 AND contact_id = $2").bind(company_id).bind(c).execute(&mut **tx).await?;
        contacts += sqlx::query("DELETE FROM contacts WHERE company_id = $1 AND id = $2").bind(company_id).bind(c).execute(&mut **tx).await?.rows_affected();
    }
    counts.insert("contacts".into(), contacts.into());
    // Crypto-shredding: whatever copy of the person's data survives anywhere (an old backup)
    // was sealed under these keys, which are now gone.
    let scopes: Vec<String> = s.contact_ids.iter().map(|c| format!("contact:{c}")).collect();
    let destroyed = field_crypto::destroy_keys(tx, company_id, &scopes).await?;
    counts.insert("keys_destroyed".into(), destroyed.into());
    Ok(Value::Object(counts))
}

/// Adds `purged`'s counts into the receipt.
fn tally(receipt: &mut Value, purged: &Purged) {
    let add = serde_json::to_value(purged).unwrap_or_default();
    if let (Some(r), Some(a)) = (receipt.as_object_mut(), add.as_object()) {
        for (k, v) in a {
            let sum = r.get(k).and_then(Value::as_u64).unwrap_or(0) + v.as_u64().unwrap_or(0);
            r.insert(k.clone(), sum.into());
        }
    }
    if let Some(r) = receipt.as_object_mut() {
        let files = r.get("files").and_then(Value::as_u64).unwrap_or(0) + purged.blob_keys.len() as u64;
        r.insert("files".into(), files.into());
    }
}

impl Engine<Db> {
    /// Resolves a data subject (404 for a contact id the company does not have).
    pub(crate) async fn resolve_subject(&self, scope: &Scope, r: &SubjectRef) -> StoreResult<Subject> {
        let mut conn = self.read.acquire().await?;
        resolve(&mut conn, scope.company_id(), r).await
    }

    /// A page of the subject's log ids (for access exports), after `after` in id order.
    pub(crate) async fn subject_log_ids(&self, scope: &Scope, s: &Subject, after: Option<Uuid>, limit: i64) -> StoreResult<Vec<Uuid>> {
        let mut conn = self.read.acquire().await?;
        subject_logs(&mut conn, scope.company_id(), s, after, limit).await
    }

    /// Every log of the company that started in `[since, until)` — live, archived, deleted and
    /// purged alike — oldest first (for regulator exports).
    pub(crate) async fn period_log_ids(&self, scope: &Scope, since: time::OffsetDateTime, until: time::OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        Ok(sqlx::query_scalar("SELECT id FROM crm_communication_logs WHERE company_id = $1 AND start_time >= $2 AND start_time < $3 ORDER BY start_time, id")
            .bind(scope.company_id())
            .bind(DbTime::from(since))
            .bind(DbTime::from(until))
            .fetch_all(&self.read)
            .await?)
    }

    /// Logs for a subject access export: each of `ids` the company has — deleted and archived
    /// ones too, since they are still held — with participants, categories, tags and watchers,
    /// oldest first; and every attachment of those logs.
    pub(crate) async fn subject_export_logs(&self, scope: &Scope, ids: &[Uuid]) -> StoreResult<(Vec<CommunicationLog>, Vec<Attachment>)> {
        let company = scope.company_id();
        let mut conn = self.read.acquire().await?;
        let (mut logs, mut files) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(purge::CHUNK) {
            let mut qb = QueryBuilder::<Db>::new(format!("SELECT {} FROM crm_communication_logs l WHERE l.company_id = ", rows::LOG_COLUMNS));
            qb.push_bind(company).push(" AND ");
            purge::push_ids(&mut qb, "l.id", chunk);
            let mut page = qb.build().fetch_all(&mut *conn).await?.iter().map(rows::log).collect::<StoreResult<Vec<_>>>()?;
            log_links::load(&mut conn, company, &mut page).await?;
            logs.extend(page);
            let mut qb = QueryBuilder::<Db>::new("SELECT * FROM crm_communication_attachments WHERE company_id = ");
            qb.push_bind(company).push(" AND ");
            purge::push_ids(&mut qb, "communication_log_id", chunk);
            for r in qb.build().fetch_all(&mut *conn).await? {
                files.push(rows::attachment(&r)?);
            }
        }
        logs.sort_by_key(|l| (l.start_time, l.id));
        files.sort_by_key(|f| (f.communication_log_id, f.created_at, f.id));
        Ok((logs, files))
    }

    /// Erases again, after a restore from a backup older than the erasure, what a completed
    /// erasure removed: the logs of `contact_ids` and of participants whose address hashes to one
    /// of `address_hashes` ([`commlog_domain::compliance::address_hash`]), the contacts, their
    /// keys. Legal holds are not consulted: the erasure already happened. Returns the counts and
    /// the files to delete.
    pub(crate) async fn reapply_erasure(&self, scope: &Scope, contact_ids: &[Uuid], address_hashes: &[String]) -> StoreResult<(Value, Vec<String>)> {
        let company = scope.company_id();
        let mut tx = self.begin_write().await?;
        let mut ids: Vec<Uuid> = Vec::new();
        if !contact_ids.is_empty() {
            let subject = Subject { contact_ids: contact_ids.to_vec(), ..Subject::default() };
            ids = all_subject_logs(&mut tx, company, &subject).await?;
        }
        if !address_hashes.is_empty() {
            // Addresses may be sealed: each is opened and hashed here, not compared in SQL.
            let rows = sqlx::query("SELECT id, communication_log_id, email, phone FROM crm_communication_participants WHERE company_id = $1 AND (email IS NOT NULL OR phone IS NOT NULL)")
                .bind(company)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rows {
                let pid: Uuid = rows::get(r, "id")?;
                for (column, field) in [("email", "participant_email"), ("phone", "participant_phone")] {
                    let Some(v) = rows::get::<Option<String>>(r, column)? else { continue };
                    let plain = field_crypto::open_company_text(&mut tx, company, &v, &format!("{field}:{pid}")).await?;
                    if address_hashes.contains(&commlog_domain::compliance::address_hash(&plain)) {
                        ids.push(rows::get(r, "communication_log_id")?);
                    }
                }
            }
        }
        ids.sort();
        ids.dedup();
        let purged = purge::purge_logs(&mut tx, company, &ids, true, DbTime::from(time_fmt::now())).await?;
        let subject = Subject { contact_ids: contact_ids.to_vec(), ..Subject::default() };
        let mut counts = erase_records(&mut tx, company, &subject).await?;
        let mut receipt = json!({});
        tally(&mut receipt, &purged);
        if let (Some(c), Some(r)) = (counts.as_object_mut(), receipt.as_object()) {
            c.extend(r.clone());
        }
        audit::record(&mut tx, scope, "erasure_reapplied", "data_subject", None, counts.clone()).await?;
        tx.commit().await?;
        self.after_purge().await?;
        Ok((counts, purged.blob_keys))
    }

    /// Records an erasure request and queues the job that carries it out; refused when a legal
    /// hold covers the subject or any of their logs (the refusal is audited too).
    pub(crate) async fn start_erasure(&self, scope: &Scope, new: &NewErasure) -> StoreResult<ErasureRequest> {
        let mut new = new.clone();
        new.validate()?;
        let company = scope.company_id();
        let mut tx = self.begin_write().await?;
        let subject = resolve(&mut tx, company, &new.subject).await?;
        let logs = all_subject_logs(&mut tx, company, &subject).await?;
        let holds = holds_covering(&mut tx, company, &logs, &subject.contact_ids).await?;
        if !holds.is_empty() {
            tx.rollback().await?;
            let mut tx = self.begin_write().await?;
            let ids: Vec<Uuid> = holds.iter().map(|h| h.id).collect();
            audit::record(&mut tx, scope, "erasure_refused", "data_subject", None, json!({"legal_holds": ids, "reason": new.reason})).await?;
            tx.commit().await?;
            return Err(StoreError::Refused {
                code: "legal_hold",
                message: format!("the subject's data is under legal hold and cannot be erased until released: {}", describe(&holds)),
            });
        }
        let id = new_id();
        let now = DbTime::from(time_fmt::now());
        let identifier = new.subject.email.clone().or_else(|| new.subject.phone.clone());
        sqlx::query(
            "INSERT INTO erasure_requests (company_id, id, subject_type, subject_contact_id, subject_identifier, reason, status, requested_by_user_id, logs_total, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $9)",
        )
        .bind(company)
        .bind(id)
        .bind(new.subject.kind())
        .bind(new.subject.contact_id)
        .bind(identifier)
        .bind(&new.reason)
        .bind(scope.user_id())
        .bind(logs.len() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        jobs::enqueue(&mut tx, company, ERASURE_JOB, Some(id), &json!({"erasure_id": id})).await?;
        audit::record(&mut tx, scope, "request_erasure", "data_subject", Some(id), json!({"subject_type": new.subject.kind(), "logs": logs.len(), "reason": new.reason})).await?;
        tx.commit().await?;
        self.get_erasure(scope, id).await
    }

    pub(crate) async fn get_erasure(&self, scope: &Scope, id: Uuid) -> StoreResult<ErasureRequest> {
        let sql = format!("SELECT {COLUMNS} FROM erasure_requests WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).bind(id).fetch_optional(&self.read).await?;
        request(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn list_erasures(&self, scope: &Scope) -> StoreResult<Vec<ErasureRequest>> {
        let sql = format!("SELECT {COLUMNS} FROM erasure_requests WHERE company_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1000");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.company_id()).fetch_all(&self.read).await?.iter().map(request).collect()
    }

    /// Works one batch of a running erasure: purges up to `batch` of the subject's logs, or,
    /// when none are left, erases the person's records and completes the request. Returns the
    /// request as it now stands and the files to delete from the blob store.
    pub(crate) async fn erase_batch(&self, scope: &Scope, id: Uuid, batch: i64) -> StoreResult<(ErasureRequest, Vec<String>)> {
        let company = scope.company_id();
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {COLUMNS} FROM erasure_requests WHERE company_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company).bind(id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        let mut req = request(&row)?;
        if req.status != "running" {
            return Ok((req, Vec::new()));
        }
        let identifier: Option<String> = rows::get(&row, "subject_identifier")?;
        let subject_ref = SubjectRef {
            contact_id: req.subject_contact_id,
            email: identifier.clone().filter(|_| req.subject_type == "email"),
            phone: identifier.filter(|_| req.subject_type == "phone"),
        };
        let subject = match resolve(&mut tx, company, &subject_ref).await {
            Ok(s) => s,
            // The contact is gone: erased by an earlier run of this request's last step.
            Err(StoreError::NotFound) => Subject::default(),
            Err(e) => return Err(e),
        };
        let ids = subject_logs(&mut tx, company, &subject, None, batch).await?;
        let now = DbTime::from(time_fmt::now());
        let holds = holds_covering(&mut tx, company, &ids, &subject.contact_ids).await?;
        if !holds.is_empty() {
            let message = format!("stopped: a legal hold placed since the request covers the subject's data: {}", describe(&holds));
            sqlx::query("UPDATE erasure_requests SET status = 'failed', error = $1, updated_at = $2 WHERE company_id = $3 AND id = $4")
                .bind(&message)
                .bind(now)
                .bind(company)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit::record(&mut tx, scope, "erasure_refused", "data_subject", Some(id), json!({"legal_holds": holds.iter().map(|h| h.id).collect::<Vec<_>>()})).await?;
            tx.commit().await?;
            return Ok((self.get_erasure(scope, id).await?, Vec::new()));
        }
        let mut keys = Vec::new();
        if ids.is_empty() {
            let records = erase_records(&mut tx, company, &subject).await?;
            if let (Some(r), Some(a)) = (req.receipt.as_object_mut(), records.as_object()) {
                r.extend(a.clone());
            }
            req.receipt["reason"] = json!(req.reason);
            req.receipt["requested_by_user_id"] = json!(req.requested_by_user_id);
            sqlx::query("UPDATE erasure_requests SET status = 'completed', subject_identifier = NULL, receipt = $1, completed_at = $2, updated_at = $2 WHERE company_id = $3 AND id = $4")
                .bind(Json(&req.receipt))
                .bind(now)
                .bind(company)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            // The receipt: what was erased, as counts, and why — never the erased data.
            audit::record(&mut tx, scope, "erase", "data_subject", Some(id), req.receipt.clone()).await?;
        } else {
            let purged = purge::purge_logs(&mut tx, company, &ids, true, now).await?;
            tally(&mut req.receipt, &purged);
            sqlx::query("UPDATE erasure_requests SET logs_done = logs_done + $1, logs_total = CASE WHEN logs_total < logs_done + $1 THEN logs_done + $1 ELSE logs_total END, receipt = $2, updated_at = $3 WHERE company_id = $4 AND id = $5")
                .bind(ids.len() as i64)
                .bind(Json(&req.receipt))
                .bind(now)
                .bind(company)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            keys = purged.blob_keys;
        }
        tx.commit().await?;
        let req = self.get_erasure(scope, id).await?;
        if req.status == "completed" {
            self.after_purge().await?;
        }
        Ok((req, keys))
    }
}
