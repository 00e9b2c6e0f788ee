//! The rules of a log that need the database (blueprint §5.4, §6.1, §6.3): the channel is an
//! active configured one; every referenced customer, contact, user and category belongs to the
//! caller's company; an assignee has room under their capacity; participants are matched to
//! known contacts and users by address. All reads go through the caller's transaction.

use super::Db;
use super::audit::Tx;
use crate::{Scope, StoreError, StoreResult};
use commlog_domain::log::{CategoryRef, CommunicationLog};
use commlog_domain::{NewCommunicationLog, Priority, ValidationErrors};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

/// What the checks found out.
pub(super) struct Resolved {
    pub categories: Vec<CategoryRef>,
    /// The first category's default priority (blueprint: default priority from category).
    pub category_priority: Option<Priority>,
    pub team_id: Option<Uuid>,
}

/// Checks `draft` against the database; `before` is the stored log on update (unchanged
/// references are not re-checked, so deactivating a channel does not freeze its old logs).
pub(super) async fn resolve(
    tx: &mut Tx,
    scope: &Scope,
    draft: &mut NewCommunicationLog,
    before: Option<&CommunicationLog>,
) -> StoreResult<Resolved> {
    let company = scope.company_id();
    let mut errs = ValidationErrors::new();
    let changed = |now: Option<Uuid>, was: fn(&CommunicationLog) -> Option<Uuid>| {
        before.is_none_or(|b| was(b) != now)
    };

    if before.is_none_or(|b| b.channel != draft.channel) {
        let active: Option<bool> = sqlx::query_scalar("SELECT is_active FROM crm_channel_configurations WHERE company_id = $1 AND channel_code = $2")
            .bind(company)
            .bind(&draft.channel)
            .fetch_optional(&mut **tx)
            .await?;
        match active {
            None => errs.add(
                "channel",
                "unknown_channel",
                format!("channel `{}` is not configured", draft.channel),
            ),
            Some(false) => errs.add(
                "channel",
                "inactive_channel",
                format!("channel `{}` is not active", draft.channel),
            ),
            Some(true) => {}
        }
    }

    if before.is_none()
        || draft
            .participants
            .iter()
            .any(|p| p.contact_id.is_none() && p.user_id.is_none())
    {
        match_participants(tx, company, draft).await?;
    }
    check_participant_refs(tx, company, draft, &mut errs).await?;

    if changed(draft.contact_id, |b| b.contact_id)
        && let Some(contact) = draft.contact_id
    {
        let row = sqlx::query(
            "SELECT customer_id FROM contacts WHERE company_id = $1 AND id = $2 AND NOT is_deleted",
        )
        .bind(company)
        .bind(contact)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            None => errs.add(
                "contact_id",
                "unknown_contact",
                "no such contact in this company",
            ),
            Some(r) => {
                let owner: Option<Uuid> = r.try_get("customer_id")?;
                match (draft.customer_id, owner) {
                    (None, Some(o)) => draft.customer_id = Some(o),
                    (Some(c), Some(o)) if c != o => errs.add(
                        "contact_id",
                        "contact_customer_mismatch",
                        "the contact belongs to another customer",
                    ),
                    _ => {}
                }
            }
        }
    }
    if changed(draft.customer_id, |b| b.customer_id)
        && let Some(customer) = draft.customer_id
        && !exists(
            tx,
            "SELECT id FROM customers WHERE company_id = $1 AND id = $2 AND NOT is_deleted",
            company,
            customer,
        )
        .await?
    {
        errs.add(
            "customer_id",
            "unknown_customer",
            "no such customer in this company",
        );
    }
    if changed(draft.follow_up_assigned_to, |b| b.follow_up_assigned_to)
        && let Some(u) = draft.follow_up_assigned_to
        && !exists(
            tx,
            "SELECT id FROM users WHERE company_id = $1 AND id = $2 AND is_active",
            company,
            u,
        )
        .await?
    {
        errs.add(
            "follow_up_assigned_to",
            "unknown_user",
            "no such active user in this company",
        );
    }
    let (categories, category_priority) = categories(tx, company, draft, before, &mut errs).await?;
    if before.is_none_or(|b| b.watchers != draft.watcher_ids) && !draft.watcher_ids.is_empty() {
        let found = count_users(tx, company, &draft.watcher_ids).await?;
        if found != draft.watcher_ids.len() {
            errs.add(
                "watcher_ids",
                "unknown_user",
                "every watcher must be an active user of this company",
            );
        }
    }
    errs.into_result()?;

    let team_id = if changed(draft.assigned_to_user_id, |b| b.assigned_to_user_id) {
        match draft.assigned_to_user_id {
            Some(user) => check_capacity(tx, company, user)
                .await?
                .or(before.map_or(scope.actor.team_id, |b| b.team_id)),
            None => before.map_or(scope.actor.team_id, |b| b.team_id),
        }
    } else {
        before.map_or(scope.actor.team_id, |b| b.team_id)
    };
    Ok(Resolved {
        categories,
        category_priority,
        team_id,
    })
}

async fn exists(tx: &mut Tx, sql: &'static str, company: Uuid, id: Uuid) -> StoreResult<bool> {
    let found: Option<Uuid> = sqlx::query_scalar(sql)
        .bind(company)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

async fn count_users(tx: &mut Tx, company: Uuid, ids: &[Uuid]) -> StoreResult<usize> {
    let mut qb =
        QueryBuilder::<Db>::new("SELECT count(*) FROM users WHERE is_active AND company_id = ");
    qb.push_bind(company).push(" AND id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let n: i64 = qb.build_query_scalar().fetch_one(&mut **tx).await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Locks the assignee and refuses when their open communications reach their capacity
/// (blueprint §6.3); returns the assignee's team.
async fn check_capacity(tx: &mut Tx, company: Uuid, user: Uuid) -> StoreResult<Option<Uuid>> {
    let sql = format!(
        "SELECT u.capacity, u.team_id, u.full_name FROM users u WHERE u.company_id = $1 AND u.id = $2 AND u.is_active{}",
        super::dialect::FOR_UPDATE_OF_USERS
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Err(StoreError::invalid(
            "assigned_to_user_id",
            "unknown_user",
            "no such active user in this company",
        ));
    };
    // Counted by a statement of its own, after the lock: on PostgreSQL a statement sees the
    // data as it began, so a count taken while waiting for the lock would miss the log that the
    // previous holder of the lock just committed.
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crm_communication_logs l WHERE l.company_id = $1 AND l.assigned_to_user_id = $2 \
         AND NOT l.is_deleted AND l.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')",
    )
    .bind(company)
    .bind(user)
    .fetch_one(&mut **tx)
    .await?;
    let capacity: i32 = row.try_get("capacity")?;
    if open >= i64::from(capacity) {
        let name: String = row.try_get("full_name")?;
        return Err(StoreError::Refused {
            code: "user_at_capacity",
            message: format!(
                "{name} already has {open} open communication(s), their capacity is {capacity}"
            ),
        });
    }
    Ok(row.try_get("team_id")?)
}

async fn categories(
    tx: &mut Tx,
    company: Uuid,
    draft: &NewCommunicationLog,
    before: Option<&CommunicationLog>,
    errs: &mut ValidationErrors,
) -> StoreResult<(Vec<CategoryRef>, Option<Priority>)> {
    let unchanged = before.is_some_and(|b| {
        b.categories
            .iter()
            .map(|c| c.id)
            .eq(draft.category_ids.iter().copied())
    });
    if unchanged || draft.category_ids.is_empty() {
        return Ok((
            before
                .filter(|_| unchanged)
                .map(|b| b.categories.clone())
                .unwrap_or_default(),
            None,
        ));
    }
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT id, category_code, category_name, default_priority, is_active FROM crm_communication_categories WHERE company_id = ",
    );
    qb.push_bind(company).push(" AND id IN (");
    let mut sep = qb.separated(", ");
    for id in &draft.category_ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let rows = qb.build().fetch_all(&mut **tx).await?;
    let mut refs = Vec::new();
    let mut priority = None;
    for id in &draft.category_ids {
        let Some(r) = rows
            .iter()
            .find(|r| r.try_get::<Uuid, _>("id").is_ok_and(|x| x == *id))
        else {
            errs.add(
                "category_ids",
                "unknown_category",
                format!("no category {id} in this company"),
            );
            continue;
        };
        let active: bool = r.try_get("is_active")?;
        let was_there = before.is_some_and(|b| b.categories.iter().any(|c| c.id == *id));
        if !active && !was_there {
            errs.add(
                "category_ids",
                "inactive_category",
                format!("category {id} is not active"),
            );
        }
        if priority.is_none() {
            let p: String = r.try_get("default_priority")?;
            priority = p.parse().ok();
        }
        refs.push(CategoryRef {
            id: *id,
            category_code: r.try_get("category_code")?,
            category_name: r.try_get("category_name")?,
            confidence: None,
        });
    }
    Ok((refs, priority))
}

/// Links participants without a contact or user to the known contact or user with that
/// address, and fills the log's contact and customer from the first external match.
async fn match_participants(
    tx: &mut Tx,
    company: Uuid,
    draft: &mut NewCommunicationLog,
) -> StoreResult<()> {
    let emails: Vec<String> = draft
        .participants
        .iter()
        .filter_map(|p| p.email.clone())
        .collect();
    let mut phones: Vec<String> = draft
        .participants
        .iter()
        .filter_map(|p| p.phone.clone())
        .collect();
    // The company's own numbers are never a customer's: a call from the support line to a
    // customer matches the customer at the other end only.
    let own = own_numbers_among(tx, company, &phones).await?;
    phones.retain(|p| !own.contains(p));
    let mut contact_hits: Vec<(String, Uuid, Option<Uuid>)> = Vec::new();
    let mut user_hits: Vec<(String, Uuid)> = Vec::new();
    for (values, sql) in [
        (
            &emails,
            "SELECT a.email AS address, c.id, c.customer_id FROM contact_emails a JOIN contacts c ON c.company_id = a.company_id AND c.id = a.contact_id WHERE NOT c.is_deleted AND a.company_id = ",
        ),
        (
            &phones,
            "SELECT a.phone AS address, c.id, c.customer_id FROM contact_phones a JOIN contacts c ON c.company_id = a.company_id AND c.id = a.contact_id WHERE NOT c.is_deleted AND a.company_id = ",
        ),
    ] {
        if values.is_empty() {
            continue;
        }
        let column = if sql.contains("a.email") {
            "a.email"
        } else {
            "a.phone"
        };
        let mut qb = QueryBuilder::<Db>::new(sql);
        qb.push_bind(company).push(format!(" AND {column} IN ("));
        let mut sep = qb.separated(", ");
        for v in values.iter().take(500) {
            sep.push_bind(v.clone());
        }
        qb.push(") ORDER BY c.created_at");
        for r in qb.build().fetch_all(&mut **tx).await? {
            contact_hits.push((
                r.try_get("address")?,
                r.try_get("id")?,
                r.try_get("customer_id")?,
            ));
        }
    }
    if !emails.is_empty() {
        let mut qb = QueryBuilder::<Db>::new("SELECT email, id FROM users WHERE company_id = ");
        qb.push_bind(company).push(" AND email IN (");
        let mut sep = qb.separated(", ");
        for v in emails.iter().take(500) {
            sep.push_bind(v.clone());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut **tx).await? {
            user_hits.push((r.try_get("email")?, r.try_get("id")?));
        }
    }
    let mut first_contact: Option<(Uuid, Option<Uuid>)> = None;
    for p in draft.participants.iter_mut() {
        let address = p.email.clone().or_else(|| p.phone.clone());
        let Some(address) = address else { continue };
        if own.contains(&address) {
            continue;
        }
        if p.user_id.is_none() {
            p.user_id = user_hits
                .iter()
                .find(|(a, _)| *a == address)
                .map(|(_, id)| *id);
        }
        if p.contact_id.is_none()
            && p.user_id.is_none()
            && let Some((_, id, customer)) = contact_hits.iter().find(|(a, _, _)| *a == address)
        {
            p.contact_id = Some(*id);
            first_contact.get_or_insert((*id, *customer));
        }
    }
    if let (None, Some((contact, customer))) = (draft.contact_id, first_contact)
        && (draft.customer_id.is_none() || draft.customer_id == customer)
    {
        draft.contact_id = Some(contact);
        draft.customer_id = draft.customer_id.or(customer);
    }
    if draft.customer_id.is_none() && draft.contact_id.is_none() {
        draft.customer_id = customer_by_phone(tx, company, &phones).await?;
    }
    if draft.customer_id.is_none() && draft.contact_id.is_none() {
        let outsiders: Vec<String> = draft
            .participants
            .iter()
            .filter(|p| p.user_id.is_none())
            .filter_map(|p| p.email.as_deref()?.rsplit_once('@').map(|(_, d)| d.to_owned()))
            .collect();
        draft.customer_id = customer_by_domain(tx, company, &outsiders).await?;
    }
    Ok(())
}

/// The customer whose e-mail domain one of `domains` is (the oldest, when several share it) —
/// never by a domain the company's own users have.
async fn customer_by_domain(tx: &mut Tx, company: Uuid, domains: &[String]) -> StoreResult<Option<Uuid>> {
    if domains.is_empty() {
        return Ok(None);
    }
    let mut qb = QueryBuilder::<Db>::new("SELECT c.id FROM customers c WHERE NOT c.is_deleted AND c.company_id = ");
    qb.push_bind(company).push(" AND c.email_domain IN (");
    let mut sep = qb.separated(", ");
    for d in domains.iter().take(500) {
        sep.push_bind(d.to_lowercase());
    }
    qb.push(
        ") AND NOT EXISTS (SELECT 1 FROM users u WHERE u.company_id = c.company_id AND u.email LIKE '%@' || c.email_domain) \
         ORDER BY c.created_at LIMIT 1",
    );
    let row = qb.build().fetch_optional(&mut **tx).await?;
    row.map(|r| Ok(r.try_get("id")?)).transpose()
}

/// Which of `phones` are the company's own numbers.
async fn own_numbers_among(tx: &mut Tx, company: Uuid, phones: &[String]) -> StoreResult<Vec<String>> {
    if phones.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<Db>::new("SELECT phone FROM company_own_numbers WHERE company_id = ");
    qb.push_bind(company).push(" AND phone IN (");
    let mut sep = qb.separated(", ");
    for v in phones.iter().take(500) {
        sep.push_bind(v.clone());
    }
    qb.push(")");
    let rows = qb.build().fetch_all(&mut **tx).await?;
    rows.iter().map(|r| Ok(r.try_get("phone")?)).collect()
}

/// The customer a number belongs to when no contact has it: a number a user linked to the
/// customer first (their latest decision), then the customer's own phone — the oldest
/// customer when several share one.
async fn customer_by_phone(tx: &mut Tx, company: Uuid, phones: &[String]) -> StoreResult<Option<Uuid>> {
    if phones.is_empty() {
        return Ok(None);
    }
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT customer_id, rank, created_at FROM (SELECT n.customer_id, 1 AS rank, n.created_at FROM customer_numbers n \
         JOIN customers c ON c.company_id = n.company_id AND c.id = n.customer_id WHERE NOT c.is_deleted AND n.company_id = ",
    );
    qb.push_bind(company).push(" AND n.phone IN (");
    let mut sep = qb.separated(", ");
    for v in phones.iter().take(500) {
        sep.push_bind(v.clone());
    }
    qb.push(") UNION ALL SELECT id AS customer_id, 2 AS rank, created_at FROM customers WHERE NOT is_deleted AND company_id = ");
    qb.push_bind(company).push(" AND phone IN (");
    let mut sep = qb.separated(", ");
    for v in phones.iter().take(500) {
        sep.push_bind(v.clone());
    }
    qb.push(")) AS hits ORDER BY rank, created_at LIMIT 1");
    let row = qb.build().fetch_optional(&mut **tx).await?;
    row.map(|r| Ok(r.try_get("customer_id")?)).transpose()
}

async fn check_participant_refs(
    tx: &mut Tx,
    company: Uuid,
    draft: &NewCommunicationLog,
    errs: &mut ValidationErrors,
) -> StoreResult<()> {
    for (i, p) in draft.participants.iter().enumerate() {
        if let Some(c) = p.contact_id
            && !exists(
                tx,
                "SELECT id FROM contacts WHERE company_id = $1 AND id = $2 AND NOT is_deleted",
                company,
                c,
            )
            .await?
        {
            errs.add(
                &format!("participants[{i}].contact_id"),
                "unknown_contact",
                "no such contact in this company",
            );
        }
        if let Some(u) = p.user_id
            && !exists(
                tx,
                "SELECT id FROM users WHERE company_id = $1 AND id = $2",
                company,
                u,
            )
            .await?
        {
            errs.add(
                &format!("participants[{i}].user_id"),
                "unknown_user",
                "no such user in this company",
            );
        }
    }
    Ok(())
}
