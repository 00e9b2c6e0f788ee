//! Customers and contacts — just enough of them for captured mail and calls to find their
//! owner: names, email domains, addresses and E.164 numbers, with upsert by `external_ref`.

use super::audit::{self, Tx};
use super::companies::check_name;
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::filters::{PeopleFilter, limit_offset};
use commlog_domain::phone::normalize_e164;
use commlog_domain::records::*;
use commlog_domain::validation::normalize_email;
use commlog_domain::{new_id, time_fmt};
use serde_json::json;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

const CUSTOMER_COLUMNS: &str =
    "id, company_id, name, email_domain, phone, external_ref, created_at, updated_at";
const CONTACT_COLUMNS: &str =
    "id, company_id, customer_id, full_name, title, recording_consent, processing_consent, created_at, updated_at";

impl Engine<Db> {
    pub(crate) async fn upsert_customer(
        &self,
        scope: &Scope,
        input: &CustomerInput,
    ) -> StoreResult<(Customer, bool)> {
        if let Some(Some(ext)) = &input.external_ref {
            let existing: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM customers WHERE company_id = $1 AND external_ref = $2 AND NOT is_deleted",
            )
            .bind(scope.company_id())
            .bind(ext)
            .fetch_optional(&self.read)
            .await?;
            if let Some(id) = existing {
                return Ok((self.update_customer(scope, id, input).await?, false));
            }
        }
        let name = check_name("name", input.name.as_deref().unwrap_or(""))?;
        let cc = self.country_code(scope).await?;
        let (domain, phone) = customer_fields(input, None, None, cc.as_deref())?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO customers (company_id, id, name, email_domain, phone, external_ref, is_deleted, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $7)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(&name)
        .bind(domain)
        .bind(phone)
        .bind(input.external_ref.clone().flatten())
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "create", "customer", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok((self.get_customer(scope, id).await?, true))
    }

    pub(crate) async fn get_customer(&self, scope: &Scope, id: Uuid) -> StoreResult<Customer> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE company_id = $1 AND id = $2 AND NOT is_deleted"
        )))
        .bind(scope.company_id())
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        rows::customer(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn list_customers(
        &self,
        scope: &Scope,
        f: &PeopleFilter,
    ) -> StoreResult<Vec<Customer>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE NOT is_deleted AND company_id = "
        ));
        qb.push_bind(scope.company_id());
        if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let like = format!("%{}%", escape_like(&s.trim().to_lowercase()));
            qb.push(" AND (lower(name) LIKE ")
                .push_bind(like.clone())
                .push(" ESCAPE '\\' OR email_domain LIKE ");
            qb.push_bind(like).push(" ESCAPE '\\')");
        }
        if let Some(e) = &f.email {
            let domain = e.rsplit('@').next().unwrap_or(e).to_lowercase();
            qb.push(" AND email_domain = ").push_bind(domain);
        }
        if let Some(x) = &f.external_ref {
            qb.push(" AND external_ref = ").push_bind(x.clone());
        }
        let (limit, offset) = limit_offset(f.page, f.page_size)?;
        qb.push(" ORDER BY name, id LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::customer).collect()
    }

    pub(crate) async fn update_customer(
        &self,
        scope: &Scope,
        id: Uuid,
        input: &CustomerInput,
    ) -> StoreResult<Customer> {
        let before = self.get_customer(scope, id).await?;
        let name = match &input.name {
            Some(n) => check_name("name", n)?,
            None => before.name.clone(),
        };
        let cc = self.country_code(scope).await?;
        let (domain, phone) = customer_fields(
            input,
            before.email_domain.clone(),
            before.phone.clone(),
            cc.as_deref(),
        )?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE customers SET name = $1, email_domain = $2, phone = $3, external_ref = $4, updated_at = $5 WHERE company_id = $6 AND id = $7",
        )
        .bind(&name)
        .bind(domain)
        .bind(phone)
        .bind(input.external_ref.clone().unwrap_or(before.external_ref))
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, scope, "update", "customer", Some(id), json!({})).await?;
        tx.commit().await?;
        self.get_customer(scope, id).await
    }

    /// Soft-deletes a customer nobody's communications refer to (blueprint §5.3: protected).
    /// Soft-deletes a customer nobody's communications refer to (blueprint §5.3: protected).
    pub(crate) async fn delete_customer(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        self.get_customer(scope, id).await?;
        self.soft_delete_unreferenced(scope, Party::Customer, id).await
    }

    pub(crate) async fn create_contact(
        &self,
        scope: &Scope,
        input: &ContactInput,
    ) -> StoreResult<Contact> {
        let full_name = check_name("full_name", input.full_name.as_deref().unwrap_or(""))?;
        let id = new_id();
        let cc = self.country_code(scope).await?;
        let (emails, phones) = contact_addresses(input, cc.as_deref())?;
        let mut tx = self.begin_write().await?;
        let customer_id = input.customer_id.flatten();
        if let Some(c) = customer_id {
            ensure_customer(&mut tx, scope, c).await?;
        }
        sqlx::query(
            "INSERT INTO contacts (company_id, id, customer_id, full_name, title, is_deleted, created_at, updated_at, recording_consent, processing_consent) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, $7, $8)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(customer_id)
        .bind(&full_name)
        .bind(input.title.clone().flatten())
        .bind(DbTime::from(time_fmt::now()))
        .bind(input.recording_consent.flatten())
        .bind(input.processing_consent.flatten())
        .execute(&mut *tx)
        .await?;
        replace_addresses(
            &mut tx,
            scope,
            id,
            emails.as_deref().unwrap_or(&[]),
            phones.as_deref().unwrap_or(&[]),
        )
        .await?;
        audit::record(&mut tx, scope, "create", "contact", Some(id), json!({"recording_consent": input.recording_consent.flatten(), "processing_consent": input.processing_consent.flatten()})).await?;
        tx.commit().await?;
        self.get_contact(scope, id).await
    }

    pub(crate) async fn get_contact(&self, scope: &Scope, id: Uuid) -> StoreResult<Contact> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE company_id = $1 AND id = $2 AND NOT is_deleted"
        )))
        .bind(scope.company_id())
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let mut contacts = vec![rows::contact(&row.ok_or(StoreError::NotFound)?)?];
        self.fill_addresses(scope, &mut contacts).await?;
        contacts.pop().ok_or(StoreError::NotFound)
    }

    pub(crate) async fn list_contacts(
        &self,
        scope: &Scope,
        f: &PeopleFilter,
    ) -> StoreResult<Vec<Contact>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE NOT c.is_deleted AND c.company_id = "
        ));
        qb.push_bind(scope.company_id());
        if let Some(c) = f.customer_id {
            qb.push(" AND c.customer_id = ").push_bind(c);
        }
        if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let like = format!("%{}%", escape_like(&s.trim().to_lowercase()));
            qb.push(" AND (lower(c.full_name) LIKE ")
                .push_bind(like.clone())
                .push(" ESCAPE '\\'");
            qb.push(" OR EXISTS (SELECT 1 FROM contact_emails e WHERE e.company_id = c.company_id AND e.contact_id = c.id AND e.email LIKE ");
            qb.push_bind(like.clone()).push(" ESCAPE '\\')");
            qb.push(" OR EXISTS (SELECT 1 FROM contact_phones p WHERE p.company_id = c.company_id AND p.contact_id = c.id AND p.phone LIKE ");
            qb.push_bind(like).push(" ESCAPE '\\'))");
        }
        if let Some(e) = &f.email {
            qb.push(" AND EXISTS (SELECT 1 FROM contact_emails e WHERE e.company_id = c.company_id AND e.contact_id = c.id AND e.email = ");
            qb.push_bind(e.trim().to_lowercase()).push(")");
        }
        let (limit, offset) = limit_offset(f.page, f.page_size)?;
        qb.push(" ORDER BY c.full_name, c.id LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build().fetch_all(&self.read).await?;
        let mut contacts = rows
            .iter()
            .map(rows::contact)
            .collect::<StoreResult<Vec<_>>>()?;
        self.fill_addresses(scope, &mut contacts).await?;
        Ok(contacts)
    }

    pub(crate) async fn update_contact(
        &self,
        scope: &Scope,
        id: Uuid,
        input: &ContactInput,
    ) -> StoreResult<Contact> {
        let before = self.get_contact(scope, id).await?;
        let full_name = match &input.full_name {
            Some(n) => check_name("full_name", n)?,
            None => before.full_name.clone(),
        };
        let cc = self.country_code(scope).await?;
        let (emails, phones) = contact_addresses(input, cc.as_deref())?;
        let mut tx = self.begin_write().await?;
        let customer_id = input.customer_id.unwrap_or(before.customer_id);
        if let Some(c) = customer_id {
            ensure_customer(&mut tx, scope, c).await?;
        }
        let recording = input.recording_consent.unwrap_or(before.recording_consent);
        let processing = input.processing_consent.unwrap_or(before.processing_consent);
        sqlx::query("UPDATE contacts SET customer_id = $1, full_name = $2, title = $3, updated_at = $4, recording_consent = $7, processing_consent = $8 WHERE company_id = $5 AND id = $6")
            .bind(customer_id)
            .bind(&full_name)
            .bind(input.title.clone().unwrap_or(before.title))
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(id)
            .bind(recording)
            .bind(processing)
            .execute(&mut *tx)
            .await?;
        if emails.is_some() || phones.is_some() {
            let emails = emails.unwrap_or(before.emails);
            let phones = phones.unwrap_or(before.phones);
            replace_addresses(&mut tx, scope, id, &emails, &phones).await?;
        }
        // Consent changes are named with their values: who changed what a person agreed to, when.
        let mut changes = json!({});
        if recording != before.recording_consent {
            changes["recording_consent"] = json!({"old": before.recording_consent, "new": recording});
        }
        if processing != before.processing_consent {
            changes["processing_consent"] = json!({"old": before.processing_consent, "new": processing});
        }
        audit::record(&mut tx, scope, "update", "contact", Some(id), changes).await?;
        tx.commit().await?;
        self.get_contact(scope, id).await
    }

    pub(crate) async fn delete_contact(&self, scope: &Scope, id: Uuid) -> StoreResult<()> {
        self.get_contact(scope, id).await?;
        self.soft_delete_unreferenced(scope, Party::Contact, id).await
    }

    async fn soft_delete_unreferenced(&self, scope: &Scope, party: Party, id: Uuid) -> StoreResult<()> {
        let (table, column, kind) = party.names();
        let mut tx = self.begin_write().await?;
        let used: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM crm_communication_logs WHERE company_id = $1 AND {column} = $2"
        )))
        .bind(scope.company_id())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(StoreError::Refused {
                code: party.in_use_code(),
                message: format!("{used} communication log(s) refer to this {kind}; it cannot be deleted"),
            });
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET is_deleted = TRUE, updated_at = $1 WHERE company_id = $2 AND id = $3")))
            .bind(DbTime::from(time_fmt::now()))
            .bind(scope.company_id())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, scope, "delete", kind, Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The company's default calling code, for numbers typed without one.
    async fn country_code(&self, scope: &Scope) -> StoreResult<Option<String>> {
        Ok(self.get_company(scope).await?.default_country_code)
    }

    async fn fill_addresses(&self, scope: &Scope, contacts: &mut [Contact]) -> StoreResult<()> {
        if contacts.is_empty() {
            return Ok(());
        }
        for (table, col) in [("contact_emails", "email"), ("contact_phones", "phone")] {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT contact_id, {col} AS value FROM {table} WHERE company_id = "
            ));
            qb.push_bind(scope.company_id())
                .push(" AND contact_id IN (");
            let mut sep = qb.separated(", ");
            for c in contacts.iter() {
                sep.push_bind(c.id);
            }
            qb.push(format!(") ORDER BY {col}"));
            for row in qb.build().fetch_all(&self.read).await? {
                let cid: Uuid = row.try_get("contact_id")?;
                let value: String = row.try_get("value")?;
                if let Some(c) = contacts.iter_mut().find(|c| c.id == cid) {
                    if col == "email" {
                        c.emails.push(value)
                    } else {
                        c.phones.push(value)
                    }
                }
            }
        }
        Ok(())
    }
}

type Addresses = (Option<Vec<String>>, Option<Vec<String>>);

/// Normalises a contact's emails and phones (absent lists stay absent).
fn contact_addresses(input: &ContactInput, cc: Option<&str>) -> StoreResult<Addresses> {
    let mut errs = commlog_domain::ValidationErrors::new();
    let emails = input.emails.as_ref().map(|list| {
        let mut out: Vec<String> = Vec::new();
        for (i, e) in list.iter().enumerate().take(50) {
            match normalize_email(e) {
                Some(n) if !out.contains(&n) => out.push(n),
                Some(_) => {}
                None => errs.add(
                    &format!("emails[{i}]"),
                    "invalid_email",
                    "not a valid email address",
                ),
            }
        }
        out
    });
    let phones = input.phones.as_ref().map(|list| {
        let mut out: Vec<String> = Vec::new();
        for (i, p) in list.iter().enumerate().take(50) {
            match normalize_e164(p, cc) {
                Ok(n) if !out.contains(&n) => out.push(n),
                Ok(_) => {}
                Err(m) => errs.add(&format!("phones[{i}]"), "invalid_phone", m),
            }
        }
        out
    });
    errs.into_result()?;
    Ok((emails, phones))
}

fn customer_fields(
    input: &CustomerInput,
    domain: Option<String>,
    phone: Option<String>,
    cc: Option<&str>,
) -> StoreResult<(Option<String>, Option<String>)> {
    let domain = match &input.email_domain {
        Some(Some(d)) => {
            let d = d.trim().trim_start_matches('@').to_lowercase();
            if normalize_email(&format!("x@{d}")).is_none() {
                return Err(StoreError::invalid(
                    "email_domain",
                    "invalid_domain",
                    "not a valid email domain",
                ));
            }
            Some(d)
        }
        Some(None) => None,
        None => domain,
    };
    let phone = match &input.phone {
        Some(Some(p)) => Some(
            normalize_e164(p, cc).map_err(|m| StoreError::invalid("phone", "invalid_phone", m))?,
        ),
        Some(None) => None,
        None => phone,
    };
    Ok((domain, phone))
}

async fn replace_addresses(
    tx: &mut Tx,
    scope: &Scope,
    contact: Uuid,
    emails: &[String],
    phones: &[String],
) -> StoreResult<()> {
    for table in ["contact_emails", "contact_phones"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE company_id = $1 AND contact_id = $2"
        )))
        .bind(scope.company_id())
        .bind(contact)
        .execute(&mut **tx)
        .await?;
    }
    for e in emails {
        sqlx::query(
            "INSERT INTO contact_emails (company_id, contact_id, email) VALUES ($1, $2, $3)",
        )
        .bind(scope.company_id())
        .bind(contact)
        .bind(e)
        .execute(&mut **tx)
        .await?;
    }
    for p in phones {
        sqlx::query(
            "INSERT INTO contact_phones (company_id, contact_id, phone) VALUES ($1, $2, $3)",
        )
        .bind(scope.company_id())
        .bind(contact)
        .bind(p)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn ensure_customer(tx: &mut Tx, scope: &Scope, id: Uuid) -> StoreResult<()> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM customers WHERE company_id = $1 AND id = $2 AND NOT is_deleted",
    )
    .bind(scope.company_id())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    found.map(|_| ()).ok_or_else(|| {
        StoreError::invalid(
            "customer_id",
            "unknown_customer",
            "no such customer in this company",
        )
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(super) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A customer or a contact, for the rules they share.
#[derive(Clone, Copy)]
enum Party {
    Customer,
    Contact,
}

impl Party {
    /// (table, the log column referring to it, its name in messages and the audit trail)
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Customer => ("customers", "customer_id", "customer"),
            Self::Contact => ("contacts", "contact_id", "contact"),
        }
    }

    fn in_use_code(self) -> &'static str {
        match self {
            Self::Customer => "customer_has_communications",
            Self::Contact => "contact_has_communications",
        }
    }
}
