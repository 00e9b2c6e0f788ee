//! What hangs off a log: participants, categories, tags and watchers — loaded for a page of
//! logs in one round trip, and replaced as a set when a create or patch names them.

use super::Db;
use super::audit::Tx;
use crate::{DbTime, StoreResult};
use commlog_domain::log::{CategoryRef, CommunicationLog, Participant};
use commlog_domain::{NewParticipant, new_id, time_fmt};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

pub(super) type Conn = <Db as sqlx::Database>::Connection;

fn push_ids(qb: &mut QueryBuilder<Db>, logs: &[CommunicationLog]) {
    let mut sep = qb.separated(", ");
    for l in logs {
        sep.push_bind(l.id);
    }
    qb.push(")");
}

fn slot(logs: &mut [CommunicationLog], id: Uuid) -> Option<&mut CommunicationLog> {
    logs.iter_mut().find(|l| l.id == id)
}

/// The four kinds of link, one `UNION ALL` branch each, in one column layout:
/// `(log_id, kind, pos, id, s1, s2, s3, s4, u1, u2)`. The first branch fixes the column types,
/// hence its typed NULLs.
const LINK_BRANCHES: [&str; 4] = [
    "SELECT lc.communication_log_id AS log_id, 'c' AS kind, 0 AS pos, c.id AS id, c.category_code AS s1, c.category_name AS s2, \
     CAST(lc.confidence AS TEXT) AS s3, CAST(NULL AS TEXT) AS s4, CAST(NULL AS UUID) AS u1, CAST(NULL AS UUID) AS u2 \
     FROM crm_communication_log_categories lc JOIN crm_communication_categories c ON c.company_id = lc.company_id AND c.id = lc.category_id \
     WHERE lc.company_id = ",
    "SELECT lt.communication_log_id, 't', 0, t.id, t.name, NULL, NULL, NULL, NULL, NULL \
     FROM crm_communication_log_tags lt JOIN tags t ON t.company_id = lt.company_id AND t.id = lt.tag_id WHERE lt.company_id = ",
    "SELECT communication_log_id, 'w', 0, user_id, NULL, NULL, NULL, NULL, NULL, NULL FROM crm_communication_watchers WHERE company_id = ",
    "SELECT communication_log_id, 'p', position, id, role, email, phone, name, contact_id, user_id \
     FROM crm_communication_participants WHERE company_id = ",
];
/// The log-id column each branch filters on.
const LINK_LOG_COLUMNS: [&str; 4] = [
    "lc.communication_log_id",
    "lt.communication_log_id",
    "communication_log_id",
    "communication_log_id",
];

/// Fills categories, tags, watchers and participants of `logs` (all of one company), in one
/// round trip.
pub(super) async fn load(
    conn: &mut Conn,
    company_id: Uuid,
    logs: &mut [CommunicationLog],
) -> StoreResult<()> {
    if logs.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<Db>::new("");
    for (i, (branch, column)) in LINK_BRANCHES.iter().zip(LINK_LOG_COLUMNS).enumerate() {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(*branch)
            .push_bind(company_id)
            .push(format!(" AND {column} IN ("));
        push_ids(&mut qb, logs);
    }
    let rows = qb.build().fetch_all(&mut *conn).await?;
    let mut participants: Vec<(Uuid, i32, Participant)> = Vec::new();
    for r in rows {
        let log_id: Uuid = r.try_get("log_id")?;
        let kind: String = r.try_get("kind")?;
        if kind == "p" {
            let role: String = r.try_get("s1")?;
            participants.push((
                log_id,
                r.try_get("pos")?,
                Participant {
                    id: r.try_get("id")?,
                    role: role
                        .parse()
                        .map_err(|_| crate::StoreError::corrupt("participant role"))?,
                    email: r.try_get("s2")?,
                    phone: r.try_get("s3")?,
                    name: r.try_get("s4")?,
                    contact_id: r.try_get("u1")?,
                    user_id: r.try_get("u2")?,
                },
            ));
            continue;
        }
        let Some(l) = slot(logs, log_id) else {
            continue;
        };
        match kind.as_str() {
            "c" => l.categories.push(CategoryRef {
                id: r.try_get("id")?,
                category_code: r.try_get("s1")?,
                category_name: r.try_get("s2")?,
                confidence: r
                    .try_get::<Option<String>, _>("s3")?
                    .and_then(|c| c.parse().ok()),
            }),
            "t" => l.tags.push(r.try_get("s1")?),
            _ => l.watchers.push(r.try_get("id")?),
        }
    }
    participants.sort_by_key(|(_, position, _)| *position);
    for (log_id, _, p) in participants {
        if let Some(l) = slot(logs, log_id) {
            l.participants.push(p);
        }
    }
    for l in logs.iter_mut() {
        l.categories
            .sort_by(|a, b| a.category_name.cmp(&b.category_name));
        l.tags.sort();
        l.watchers.sort();
    }
    super::field_crypto::open_logs(conn, company_id, logs).await
}

/// Sets a log's categories (`replace`: drop the old ones first).
pub(super) async fn set_categories(
    tx: &mut Tx,
    company_id: Uuid,
    log_id: Uuid,
    replace: bool,
    ids: &[Uuid],
) -> StoreResult<()> {
    if replace {
        sqlx::query("DELETE FROM crm_communication_log_categories WHERE company_id = $1 AND communication_log_id = $2")
            .bind(company_id)
            .bind(log_id)
            .execute(&mut **tx)
            .await?;
    }
    if ids.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<Db>::new(
        "INSERT INTO crm_communication_log_categories (company_id, communication_log_id, category_id) ",
    );
    qb.push_values(ids, |mut b, id| {
        b.push_bind(company_id).push_bind(log_id).push_bind(*id);
    });
    qb.build().execute(&mut **tx).await?;
    Ok(())
}

/// Replaces a log's tags, creating tags that do not exist yet.
pub(super) async fn set_tags(
    tx: &mut Tx,
    company_id: Uuid,
    log_id: Uuid,
    replace: bool,
    names: &[String],
) -> StoreResult<()> {
    if replace {
        sqlx::query("DELETE FROM crm_communication_log_tags WHERE company_id = $1 AND communication_log_id = $2")
            .bind(company_id)
            .bind(log_id)
            .execute(&mut **tx)
            .await?;
    }
    for name in names {
        sqlx::query("INSERT INTO tags (company_id, id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (company_id, name) DO NOTHING")
            .bind(company_id)
            .bind(new_id())
            .bind(name)
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO crm_communication_log_tags (company_id, communication_log_id, tag_id) \
             SELECT company_id, $2, id FROM tags WHERE company_id = $1 AND name = $3",
        )
        .bind(company_id)
        .bind(log_id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Replaces a log's watchers.
pub(super) async fn set_watchers(
    tx: &mut Tx,
    company_id: Uuid,
    log_id: Uuid,
    replace: bool,
    users: &[Uuid],
) -> StoreResult<()> {
    if replace {
        sqlx::query("DELETE FROM crm_communication_watchers WHERE company_id = $1 AND communication_log_id = $2")
            .bind(company_id)
            .bind(log_id)
            .execute(&mut **tx)
            .await?;
    }
    if users.is_empty() {
        return Ok(());
    }
    let now = DbTime::from(time_fmt::now());
    let mut qb = QueryBuilder::<Db>::new(
        "INSERT INTO crm_communication_watchers (company_id, communication_log_id, user_id, created_at) ",
    );
    qb.push_values(users, |mut b, u| {
        b.push_bind(company_id)
            .push_bind(log_id)
            .push_bind(*u)
            .push_bind(now);
    });
    qb.build().execute(&mut **tx).await?;
    Ok(())
}

/// Replaces a log's participants; returns them with their new ids.
pub(super) async fn set_participants(
    tx: &mut Tx,
    company_id: Uuid,
    log_id: Uuid,
    replace: bool,
    ps: &[NewParticipant],
) -> StoreResult<Vec<Participant>> {
    if replace {
        sqlx::query("DELETE FROM crm_communication_participants WHERE company_id = $1 AND communication_log_id = $2")
            .bind(company_id)
            .bind(log_id)
            .execute(&mut **tx)
            .await?;
    }
    let stored: Vec<Participant> = ps
        .iter()
        .map(|p| Participant {
            id: new_id(),
            role: p.role,
            email: p.email.clone(),
            phone: p.phone.clone(),
            name: p.name.clone(),
            contact_id: p.contact_id,
            user_id: p.user_id,
        })
        .collect();
    // With encryption on, addresses, numbers and names are sealed under the log's key.
    let mut sealed = stored.clone();
    let mut tokens = vec![None; sealed.len()];
    if crate::encryption::current().is_some() && !sealed.is_empty() {
        let row = sqlx::query("SELECT contact_id, customer_id FROM crm_communication_logs WHERE company_id = $1 AND id = $2")
            .bind(company_id)
            .bind(log_id)
            .fetch_one(&mut **tx)
            .await?;
        let key = super::field_crypto::log_key(tx, company_id, row.try_get("contact_id")?, row.try_get("customer_id")?).await?;
        for (p, token) in sealed.iter_mut().zip(tokens.iter_mut()) {
            *token = super::field_crypto::seal_participant(tx, company_id, key.as_deref(), p).await?;
        }
    }
    // Bounded batches keep every statement under both engines' bind-parameter limits.
    for (chunk_no, chunk) in sealed.chunks(100).enumerate() {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO crm_communication_participants (company_id, id, communication_log_id, position, role, email, phone, name, contact_id, user_id, address_token) ",
        );
        qb.push_values(chunk.iter().enumerate(), |mut b, (i, p)| {
            let position = i32::try_from(chunk_no * 100 + i).unwrap_or(i32::MAX);
            let token = tokens.get(chunk_no * 100 + i).cloned().flatten();
            b.push_bind(company_id)
                .push_bind(p.id)
                .push_bind(log_id)
                .push_bind(position)
                .push_bind(p.role.as_str())
                .push_bind(p.email.clone())
                .push_bind(p.phone.clone())
                .push_bind(p.name.clone())
                .push_bind(p.contact_id)
                .push_bind(p.user_id)
                .push_bind(token);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(stored)
}
