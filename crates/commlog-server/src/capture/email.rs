//! E-mail messages → logs. One pipeline for every way mail arrives (upload, `commlog import`,
//! the SMTP forwarding address): parse, deduplicate (Message-ID, or the content hash without
//! one), thread, match, store with attachments and the original message, or quarantine with
//! the reason when the message cannot be captured.
//!
//! - Direction: mail from one of the company's users, or from a domain its users have, is
//!   outbound (internal when every recipient is the company's too); the rest is inbound.
//! - Threads: `References`/`In-Reply-To` first; then, for clients that drop those headers, the
//!   same subject (without `Re:`/`Fwd:` prefixes) with the same outside party, within 30 days.
//! - Machine-sent mail (auto-replies, bounces, bulk) is captured with the tag `automated`.
//! - Response monitoring: a customer's message waits (`awaiting_response`) until the company's
//!   reply in its thread resolves it; the reply keeps how long the oldest message waited
//!   (`response_seconds`), the first reply of a thread giving its first-response time.

use crate::blobs::BlobStore;
use commlog_domain::filters::PeopleFilter;
use commlog_domain::list::LogListParams;
use commlog_domain::records::{ContactInput, QuarantinedEmail};
use commlog_domain::{
    CommunicationLog, CommunicationLogPatch, CommunicationType, Direction, LogStatus,
    NewCommunicationLog, NewParticipant, ParticipantRole, new_id,
};
use commlog_ingest::email::{EmailLimits, Mailbox, ParsedEmail, parse_email, thread_subject};
use commlog_store::{Scope, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The source of e-mail logs; their `external_id` is the Message-ID.
pub const EMAIL_SOURCE: &str = "email";
/// How long a conversation found by subject alone stays open to new messages.
const SUBJECT_THREAD_WINDOW: time::Duration = time::Duration::days(30);
/// The channel e-mail logs go to.
const EMAIL_CHANNEL: &str = "email";
/// Domains anyone can have an address at: a user's address there makes no one else internal.
const PUBLIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "proton.me",
    "protonmail.com",
    "yandex.ru",
    "mail.ru",
];

/// What becomes of mail from people the company does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSenders {
    /// Captured, unmatched, for someone to link.
    #[default]
    Log,
    /// Not captured.
    Ignore,
    /// Captured, and the sender becomes a contact (of the customer with their domain, if any).
    CreateContact,
}

/// A company's mail capture policy (`GET|PUT /api/company/email-settings/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    #[serde(default)]
    pub unknown_senders: UnknownSenders,
    /// Addresses (`someone@x.com`) and domains (`x.com`) whose mail is never captured.
    #[serde(default)]
    pub blocked: Vec<String>,
    /// Also capture mail only between the company's own people (default: no).
    #[serde(default)]
    pub capture_internal: bool,
}

impl EmailSettings {
    fn blocks(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        self.blocked.iter().any(|b| b == address || b == domain)
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailOutcome {
    Imported(Uuid),
    /// Already captured (seen again in this mailbox, which is noted).
    Duplicate(Uuid),
    Quarantined {
        id: Uuid,
        reason: String,
    },
    /// Not captured, by the company's policy.
    Skipped(String),
}

/// What an import did; the first items that were not imported are listed with their reasons.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EmailImportReport {
    pub imported: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Not captured by the company's policy (blocked, internal, unknown senders ignored).
    pub skipped: u64,
    /// Up to 100 quarantined items: which message (file, or position in the mbox) and why.
    pub quarantined_items: Vec<QuarantinedItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinedItem {
    pub item: String,
    pub reason: String,
    pub quarantine_id: Uuid,
}

impl EmailImportReport {
    pub fn add(&mut self, item: &str, outcome: &EmailOutcome) {
        match outcome {
            EmailOutcome::Imported(_) => self.imported += 1,
            EmailOutcome::Duplicate(_) => self.duplicates += 1,
            EmailOutcome::Skipped(_) => self.skipped += 1,
            EmailOutcome::Quarantined { id, reason } => {
                self.quarantined += 1;
                if self.quarantined_items.len() < 100 {
                    self.quarantined_items.push(QuarantinedItem {
                        item: item.to_owned(),
                        reason: reason.clone(),
                        quarantine_id: *id,
                    });
                }
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.imported + self.duplicates + self.quarantined + self.skipped
    }
}

/// Captures messages for one company, acting as one user.
pub struct EmailCapture<'a> {
    store: &'a Store,
    blobs: &'a dyn BlobStore,
    scope: Scope,
    user_addresses: HashSet<String>,
    own_domains: HashSet<String>,
    settings: EmailSettings,
    limits: EmailLimits,
    max_attachment_bytes: usize,
}

impl<'a> EmailCapture<'a> {
    pub async fn new(
        store: &'a Store,
        blobs: &'a dyn BlobStore,
        scope: Scope,
        max_attachment_bytes: usize,
    ) -> Result<Self, StoreError> {
        let users = store.list_users(&scope, &Default::default()).await?;
        let user_addresses: HashSet<String> =
            users.iter().map(|u| u.email.to_lowercase()).collect();
        let own_domains = user_addresses
            .iter()
            .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
            .filter(|d| !PUBLIC_DOMAINS.contains(&d.as_str()))
            .collect();
        let settings = store
            .email_settings(&scope)
            .await?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        Ok(Self {
            store,
            blobs,
            scope,
            user_addresses,
            own_domains,
            settings,
            limits: EmailLimits::default(),
            max_attachment_bytes,
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    fn is_own(&self, address: &str) -> bool {
        self.user_addresses.contains(address)
            || address
                .rsplit_once('@')
                .is_some_and(|(_, d)| self.own_domains.contains(d))
    }

    /// Captures one raw message seen in `mailbox` (`upload`, `import:<file>`, …).
    pub async fn ingest(&self, raw: &[u8], mailbox: &str) -> anyhow::Result<EmailOutcome> {
        let parsed = match parse_email(raw, &self.limits) {
            Ok(p) => p,
            Err(e) => return self.quarantine(raw, mailbox, &e.to_string()).await,
        };
        self.capture(parsed, raw, mailbox).await
    }

    /// Keeps a message that cannot be captured, with the reason.
    pub async fn quarantine(
        &self,
        raw: &[u8],
        origin: &str,
        reason: &str,
    ) -> anyhow::Result<EmailOutcome> {
        let id = new_id();
        let key = format!("quarantine/{}/{id}", self.scope.company_id());
        self.blobs
            .put(&key, bytes::Bytes::copy_from_slice(raw))
            .await?;
        let size = i64::try_from(raw.len()).unwrap_or(i64::MAX);
        let q = self
            .store
            .quarantine_email(&self.scope, origin, reason, size, &key)
            .await?;
        Ok(EmailOutcome::Quarantined {
            id: q.id,
            reason: q.reason,
        })
    }

    /// Tries a quarantined message again (after a fix, or with a new parser).
    pub async fn retry(&self, q: &QuarantinedEmail) -> anyhow::Result<QuarantinedEmail> {
        let raw = self.blobs.get(&q.blob_key).await?;
        let outcome = match parse_email(&raw, &self.limits) {
            Ok(parsed) => self.capture(parsed, &raw, &q.origin).await?,
            Err(e) => {
                let reason = e.to_string();
                return Ok(self
                    .store
                    .mark_quarantine_retried(&self.scope, q.id, Some(&reason), None)
                    .await?);
            }
        };
        let log = match outcome {
            EmailOutcome::Imported(id) | EmailOutcome::Duplicate(id) => Some(id),
            EmailOutcome::Quarantined { .. } | EmailOutcome::Skipped(_) => None,
        };
        Ok(self
            .store
            .mark_quarantine_retried(&self.scope, q.id, None, log)
            .await?)
    }

    async fn capture(
        &self,
        e: ParsedEmail,
        raw: &[u8],
        mailbox: &str,
    ) -> anyhow::Result<EmailOutcome> {
        let external_id = e
            .message_id
            .clone()
            .unwrap_or_else(|| format!("sha256:{}", e.content_hash));
        if let Some(log) = self
            .store
            .find_log_by_external(&self.scope, EMAIL_SOURCE, &external_id)
            .await?
        {
            self.store
                .record_email_sighting(&self.scope, log.id, mailbox)
                .await?;
            return Ok(EmailOutcome::Duplicate(log.id));
        }
        let from_own = e.from.iter().any(|m| self.is_own(&m.address));
        let recipients: Vec<&Mailbox> = e.to.iter().chain(&e.cc).chain(&e.bcc).collect();
        let all_own = from_own
            && !recipients.is_empty()
            && recipients.iter().all(|m| self.is_own(&m.address));
        if let Some(skip) = self.policy_skips(&e, all_own).await? {
            return Ok(EmailOutcome::Skipped(skip));
        }
        let direction = match (from_own, all_own) {
            (true, true) => Direction::Internal,
            (true, false) => Direction::Outbound,
            _ => Direction::Inbound,
        };
        let outside_party = if from_own {
            recipients
                .iter()
                .find(|m| !self.is_own(&m.address))
                .map(|m| m.address.clone())
        } else {
            e.from.first().map(|m| m.address.clone())
        };
        let (thread, existed) = self.thread(&e, outside_party.as_deref()).await?;
        let mut log = self.log(&e, direction, &external_id, thread);
        // A new conversation has nothing earlier to look at.
        let earlier = if existed {
            self.thread_emails(thread).await?
        } else {
            Vec::new()
        };
        if direction == Direction::Inbound && e.automated.is_none() {
            // Waits for an answer, unless the company's reply is already here (imports come
            // in any order).
            let answered = earlier
                .iter()
                .any(|l| l.direction == Direction::Outbound && l.start_time >= log.start_time);
            log.status = Some(if answered {
                LogStatus::Resolved
            } else {
                LogStatus::AwaitingResponse
            });
        }
        let sent_at = log.start_time;
        let created = match self.store.create_log(&self.scope, log, None).await {
            Ok(c) => c,
            Err(StoreError::Invalid(errors)) => {
                return self.quarantine(raw, mailbox, &errors.to_string()).await;
            }
            Err(other) => return Err(other.into()),
        };
        let log_id = created.log.id;
        self.store
            .record_email_sighting(&self.scope, log_id, mailbox)
            .await?;
        if created.duplicate {
            return Ok(EmailOutcome::Duplicate(log_id));
        }
        if direction == Direction::Outbound {
            self.answer(&earlier, log_id, sent_at).await?;
        }
        self.attach(log_id, "message.eml", "message/rfc822", raw)
            .await?;
        for a in &e.attachments {
            if a.data.len() <= self.max_attachment_bytes {
                self.attach(log_id, &a.name, &a.content_type, &a.data)
                    .await?;
            }
        }
        Ok(EmailOutcome::Imported(log_id))
    }

    /// Why the company's policy leaves this message out, if it does; makes the contact when the
    /// policy is to create unknown senders.
    async fn policy_skips(
        &self,
        e: &ParsedEmail,
        internal_only: bool,
    ) -> anyhow::Result<Option<String>> {
        if internal_only && !self.settings.capture_internal {
            return Ok(Some("internal mail".into()));
        }
        let everyone: Vec<&Mailbox> = e
            .from
            .iter()
            .chain(&e.to)
            .chain(&e.cc)
            .chain(&e.bcc)
            .collect();
        if let Some(b) = everyone.iter().find(|m| self.settings.blocks(&m.address)) {
            return Ok(Some(format!("{} is blocked", b.address)));
        }
        if self.settings.unknown_senders == UnknownSenders::Log {
            return Ok(None);
        }
        let outsiders: Vec<&&Mailbox> = everyone
            .iter()
            .filter(|m| !self.is_own(&m.address))
            .collect();
        let mut unknown = Vec::new();
        for m in &outsiders {
            let by_address = PeopleFilter {
                email: Some(m.address.clone()),
                ..Default::default()
            };
            if self
                .store
                .list_contacts(&self.scope, &by_address)
                .await?
                .is_empty()
            {
                unknown.push(**m);
            }
        }
        if unknown.len() < outsiders.len() || outsiders.is_empty() {
            return Ok(None);
        }
        match self.settings.unknown_senders {
            UnknownSenders::Ignore => Ok(Some("from or to no one the company knows".into())),
            _ => {
                for m in unknown.iter().take(10) {
                    let domain = m.address.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
                    let by_domain = PeopleFilter {
                        email: Some(domain),
                        ..Default::default()
                    };
                    let customer = self
                        .store
                        .list_customers(&self.scope, &by_domain)
                        .await?
                        .first()
                        .map(|c| c.id);
                    let name = m
                        .name
                        .clone()
                        .unwrap_or_else(|| m.address.split('@').next().unwrap_or("").to_owned());
                    let input = ContactInput {
                        customer_id: Some(customer),
                        full_name: Some(name.chars().take(200).collect()),
                        title: None,
                        emails: Some(vec![m.address.clone()]),
                        ..ContactInput::default()
                    };
                    self.store.create_contact(&self.scope, &input).await?;
                }
                Ok(None)
            }
        }
    }

    /// The e-mails of a thread so far (the newest 100).
    async fn thread_emails(&self, thread: Uuid) -> anyhow::Result<Vec<CommunicationLog>> {
        let params: LogListParams = serde_json::from_value(serde_json::json!({
            "thread_id": thread, "communication_type": "email", "page_size": 100
        }))?;
        Ok(self.store.list_logs(&self.scope, &params).await?.results)
    }

    /// A reply from the company ends the wait of the messages it answers (they are resolved)
    /// and records how long the oldest of them waited.
    async fn answer(
        &self,
        thread: &[CommunicationLog],
        reply: Uuid,
        sent_at: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let waiting: Vec<&CommunicationLog> = thread
            .iter()
            .filter(|l| {
                l.direction == Direction::Inbound
                    && l.status == LogStatus::AwaitingResponse
                    && l.start_time <= sent_at
            })
            .collect();
        let Some(oldest) = waiting.iter().map(|l| l.start_time).min() else {
            return Ok(());
        };
        for l in &waiting {
            let patch = CommunicationLogPatch {
                status: Some(LogStatus::Resolved),
                ..Default::default()
            };
            self.store.update_log(&self.scope, l.id, patch).await?;
        }
        self.store
            .set_response_seconds(&self.scope, reply, (sent_at - oldest).whole_seconds())
            .await?;
        Ok(())
    }

    /// The conversation's thread: found by the message's threading headers, else by subject
    /// and outside party, else a new one; every key of this message then leads to it.
    async fn thread(
        &self,
        e: &ParsedEmail,
        outside_party: Option<&str>,
    ) -> anyhow::Result<(Uuid, bool)> {
        let company = self.scope.company_id();
        let mut header_keys: Vec<String> = e
            .references
            .iter()
            .chain(&e.in_reply_to)
            .map(|id| format!("id:{id}"))
            .collect();
        let subject = thread_subject(&e.subject);
        let subject_key = outside_party
            .filter(|_| !subject.is_empty())
            .map(|party| format!("subject:{party}:{subject}"));
        let found = match self
            .store
            .find_thread(company, EMAIL_SOURCE, &header_keys)
            .await?
        {
            Some(t) => Some(t),
            None => match &subject_key {
                Some(k) => {
                    let since = commlog_domain::time_fmt::now() - SUBJECT_THREAD_WINDOW;
                    self.store
                        .find_recent_thread(company, EMAIL_SOURCE, k, since)
                        .await?
                }
                None => None,
            },
        };
        let existed = found.is_some();
        let thread = found.unwrap_or_else(new_id);
        if let Some(id) = &e.message_id {
            header_keys.push(format!("id:{id}"));
        }
        header_keys.extend(subject_key);
        self.store
            .link_thread_keys(company, EMAIL_SOURCE, &header_keys, thread)
            .await?;
        Ok((thread, existed))
    }

    fn log(
        &self,
        e: &ParsedEmail,
        direction: Direction,
        external_id: &str,
        thread: Uuid,
    ) -> NewCommunicationLog {
        let now = commlog_domain::time_fmt::now();
        // A date from the far past or the future is a broken clock or a forgery: use arrival.
        let sane = |d: &OffsetDateTime| d.year() >= 1990 && *d <= now + time::Duration::days(1);
        let start = e.date.filter(sane).unwrap_or(now);
        let content = if e.new_text.trim().is_empty() {
            "(no text)".to_owned()
        } else {
            e.new_text.clone()
        };
        let mut log = NewCommunicationLog::minimal(
            CommunicationType::Email,
            EMAIL_CHANNEL,
            direction,
            start,
            content,
        );
        let subject = if e.subject.trim().is_empty() {
            "(no subject)".to_owned()
        } else {
            e.subject.chars().take(200).collect()
        };
        log.subject = Some(subject);
        log.source = Some(EMAIL_SOURCE.to_owned());
        log.external_id = Some(external_id.chars().take(500).collect());
        log.thread_id = Some(thread);
        log.is_internal = direction == Direction::Internal;
        if e.automated.is_some() {
            log.tags.push("automated".into());
        }
        let mut seen = HashSet::new();
        for (role, list) in [
            (ParticipantRole::From, &e.from),
            (ParticipantRole::To, &e.to),
            (ParticipantRole::Cc, &e.cc),
            (ParticipantRole::Bcc, &e.bcc),
        ] {
            for m in list {
                if log.participants.len() >= 100 || !seen.insert((role, m.address.clone())) {
                    continue;
                }
                log.participants.push(NewParticipant {
                    role,
                    email: Some(m.address.clone()),
                    phone: None,
                    name: m.name.clone(),
                    contact_id: None,
                    user_id: None,
                });
            }
        }
        log
    }

    async fn attach(
        &self,
        log_id: Uuid,
        name: &str,
        file_type: &str,
        data: &[u8],
    ) -> anyhow::Result<()> {
        let file = crate::attach::NewFile {
            log_id,
            name: crate::api::attachments::sanitize_file_name(name),
            file_type,
            data: bytes::Bytes::copy_from_slice(data),
            is_internal: false,
        };
        crate::attach::attach(self.store, self.blobs, &self.scope, file).await?;
        Ok(())
    }
}
