//! IMAP mailboxes: each active account is synced by its own task. A sync walks the watched
//! folders from their checkpoints (UIDVALIDITY + last UID) in bounded batches, captures each
//! message through the e-mail pipeline and moves the checkpoint after each batch, so a sync
//! that dies resumes where it stopped and never loads a mailbox whole. A UIDVALIDITY change
//! starts that folder over; deduplication by Message-ID keeps it from doubling logs. Between
//! syncs the task waits in IDLE on the first folder (push), or polls where IDLE is missing,
//! and reconnects with backoff after errors. The account's status and last error show in the
//! API.

use super::email::EmailCapture;
use crate::state::AppState;
use async_imap::Client;
use commlog_domain::records::MailAccount;
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use uuid::Uuid;

/// Messages fetched per round trip (and per checkpoint).
const BATCH: usize = 25;
/// How long one IDLE lasts before the sync runs again anyway (RFC 2177 asks for < 29 min).
pub const IDLE_FOR: Duration = Duration::from_secs(20 * 60);
/// Connection and command timeout.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What one sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub fetched: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Left out by the company's policy.
    pub skipped: u64,
    /// Folders started over because their UIDVALIDITY changed.
    pub resynced_folders: Vec<String>,
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The IMAP date of a search (`24-Nov-2026`).
fn imap_date(t: time::OffsetDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}-{}-{}",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year()
    )
}

/// Connects and signs in, whatever the transport.
pub async fn connect(account: &MailAccount, password: &str) -> anyhow::Result<Box<dyn Mailbox>> {
    let tcp = tokio::time::timeout(
        TIMEOUT,
        TcpStream::connect((account.host.as_str(), u16::try_from(account.port)?)),
    )
    .await
    .map_err(|_| anyhow::anyhow!("connecting to {}:{} timed out", account.host, account.port))??;
    match account.security.as_str() {
        "plain" => login(Client::new(tcp), account, password, true).await,
        "starttls" => {
            let mut client = Client::new(tcp);
            client
                .read_response()
                .await?
                .ok_or_else(|| anyhow::anyhow!("no greeting"))?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(err)?;
            let tls = tls_connect(&account.host, client.into_inner()).await?;
            login(Client::new(tls), account, password, false).await
        }
        _ => {
            let tls = tls_connect(&account.host, tcp).await?;
            login(Client::new(tls), account, password, true).await
        }
    }
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
    Ok(super::fetch::tls_connector().connect(name, tcp).await?)
}

async fn login<T>(
    mut client: Client<T>,
    account: &MailAccount,
    password: &str,
    greeting: bool,
) -> anyhow::Result<Box<dyn Mailbox>>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send + 'static,
{
    if greeting {
        tokio::time::timeout(TIMEOUT, client.read_response())
            .await??
            .ok_or_else(|| anyhow::anyhow!("no greeting"))?;
    }
    let session = tokio::time::timeout(TIMEOUT, client.login(&account.username, password))
        .await?
        .map_err(|(e, _)| anyhow::anyhow!("sign-in refused: {e}"))?;
    Ok(Box::new(Session(Some(session))))
}

/// What a sync needs of an IMAP session, whatever its transport.
#[async_trait::async_trait]
pub trait Mailbox: Send {
    /// Opens a folder read-only; returns its UIDVALIDITY.
    async fn examine(&mut self, folder: &str) -> anyhow::Result<u32>;
    /// UIDs matching a search, ascending.
    async fn uid_search(&mut self, query: &str) -> anyhow::Result<Vec<u32>>;
    /// The raw messages of these UIDs.
    async fn fetch(&mut self, uids: &[u32]) -> anyhow::Result<Vec<(u32, Vec<u8>)>>;
    /// Waits in IDLE on the open folder for up to `dur`; `false` when the server has no IDLE.
    async fn idle(&mut self, dur: Duration) -> anyhow::Result<bool>;
    /// Signs out (best effort).
    async fn logout(&mut self);
}

struct Session<T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send>(
    Option<async_imap::Session<T>>,
);

impl<T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send> Session<T> {
    fn get(&mut self) -> anyhow::Result<&mut async_imap::Session<T>> {
        self.0
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the session was lost"))
    }
}

#[async_trait::async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send + 'static> Mailbox for Session<T> {
    async fn examine(&mut self, folder: &str) -> anyhow::Result<u32> {
        let mailbox = tokio::time::timeout(TIMEOUT, self.get()?.examine(folder)).await??;
        mailbox
            .uid_validity
            .ok_or_else(|| anyhow::anyhow!("{folder} has no UIDVALIDITY"))
    }

    async fn uid_search(&mut self, query: &str) -> anyhow::Result<Vec<u32>> {
        let found = tokio::time::timeout(TIMEOUT, self.get()?.uid_search(query)).await??;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    async fn fetch(&mut self, uids: &[u32]) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let set = uids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let session = self.get()?;
        let stream =
            tokio::time::timeout(TIMEOUT, session.uid_fetch(&set, "(UID BODY.PEEK[])")).await??;
        let fetched: Vec<_> = tokio::time::timeout(TIMEOUT * 5, stream.try_collect()).await??;
        Ok(fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
            .collect())
    }

    async fn idle(&mut self, dur: Duration) -> anyhow::Result<bool> {
        let session = self
            .0
            .take()
            .ok_or_else(|| anyhow::anyhow!("the session was lost"))?;
        let mut session = session;
        let caps = session.capabilities().await?;
        if !caps.has_str("IDLE") {
            self.0 = Some(session);
            return Ok(false);
        }
        let mut handle = session.idle();
        handle.init().await?;
        let (wait, _stop) = handle.wait_with_timeout(dur);
        wait.await?;
        self.0 = Some(handle.done().await?);
        Ok(true)
    }

    async fn logout(&mut self) {
        if let Some(mut s) = self.0.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
        }
    }
}

/// Syncs every watched folder of one account once.
pub async fn sync_once(
    app: &AppState,
    company: Uuid,
    account_id: Uuid,
) -> anyhow::Result<SyncReport> {
    let (account, sealed) = app
        .store
        .mail_account_for_sync(company, account_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the account was deleted"))?;
    let password = app.cipher.open(&sealed, &password_context(account_id))?;
    app.store
        .set_mail_account_status(company, account_id, "syncing", None, false)
        .await?;
    let result = async {
        let mut mailbox = connect(&account, password.expose()).await?;
        let report = sync_folders(app, company, &account, mailbox.as_mut()).await;
        mailbox.logout().await;
        report
    }
    .await;
    match &result {
        Ok(_) => {
            app.store
                .set_mail_account_status(company, account_id, "idle", None, true)
                .await?
        }
        Err(e) => {
            app.store
                .set_mail_account_status(
                    company,
                    account_id,
                    "error",
                    Some(&format!("{e:#}")),
                    false,
                )
                .await?
        }
    }
    result
}

async fn sync_folders(
    app: &AppState,
    company: Uuid,
    account: &MailAccount,
    mailbox: &mut dyn Mailbox,
) -> anyhow::Result<SyncReport> {
    let scope = crate::import::acting_scope(&app.store, company, None).await?;
    let capture = EmailCapture::new(
        &app.store,
        app.blobs.as_ref(),
        scope,
        app.limits.max_attachment_bytes,
    )
    .await?;
    let states: HashMap<&str, (i64, i64)> = account
        .folder_states
        .iter()
        .map(|s| (s.folder.as_str(), (s.uidvalidity, s.last_uid)))
        .collect();
    let mut report = SyncReport::default();
    for folder in &account.folders {
        let uidvalidity = i64::from(mailbox.examine(folder).await?);
        let mut last_uid = match states.get(folder.as_str()) {
            Some((v, uid)) if *v == uidvalidity => *uid,
            Some(_) => {
                report.resynced_folders.push(folder.clone());
                0
            }
            None => 0,
        };
        let query = match (last_uid, account.start_date) {
            (0, Some(since)) => format!("SINCE {}", imap_date(since)),
            (0, None) => "ALL".to_owned(),
            (n, _) => format!("UID {}:*", n + 1),
        };
        // `UID n:*` always names the last message, even an old one: keep only the new.
        let uids: Vec<u32> = mailbox
            .uid_search(&query)
            .await?
            .into_iter()
            .filter(|u| i64::from(*u) > last_uid)
            .collect();
        let origin = format!("imap:{}/{folder}", account.username);
        for batch in uids.chunks(BATCH) {
            for (uid, raw) in mailbox.fetch(batch).await? {
                report.fetched += 1;
                match capture.ingest(&raw, &origin).await? {
                    super::email::EmailOutcome::Imported(_) => report.imported += 1,
                    super::email::EmailOutcome::Duplicate(_) => report.duplicates += 1,
                    super::email::EmailOutcome::Quarantined { .. } => report.quarantined += 1,
                    super::email::EmailOutcome::Skipped(_) => report.skipped += 1,
                }
                last_uid = last_uid.max(i64::from(uid));
            }
            app.store
                .set_mail_folder_state(company, account.id, folder, uidvalidity, last_uid)
                .await?;
        }
        if uids.is_empty() {
            app.store
                .set_mail_folder_state(company, account.id, folder, uidvalidity, last_uid)
                .await?;
        }
    }
    Ok(report)
}

/// The sealing context of an account's password.
pub fn password_context(account: Uuid) -> String {
    format!("mail-account:{account}:password")
}

/// Keeps one account in sync until the task is stopped: sync, wait for new mail in IDLE (or
/// `poll` where IDLE is missing), again; after an error, reconnect with backoff (1 s doubling
/// to 5 min).
pub async fn run_account(
    app: AppState,
    company: Uuid,
    account_id: Uuid,
    idle_for: Duration,
    poll: Duration,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let waited = async {
            sync_once(&app, company, account_id).await?;
            let (account, sealed) = app
                .store
                .mail_account_for_sync(company, account_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the account was deleted"))?;
            let password = app.cipher.open(&sealed, &password_context(account_id))?;
            let first = account
                .folders
                .first()
                .cloned()
                .unwrap_or_else(|| "INBOX".into());
            let checkpoint = account
                .folder_states
                .iter()
                .find(|s| s.folder == first)
                .map(|s| (s.uidvalidity, s.last_uid));
            let mut mailbox = connect(&account, password.expose()).await?;
            let uidvalidity = i64::from(mailbox.examine(&first).await?);
            // Mail that arrived between the sync and now would raise no IDLE event: if there is
            // any, go round again at once.
            let missed = match checkpoint {
                Some((v, last)) if v == uidvalidity => mailbox
                    .uid_search(&format!("UID {}:*", last + 1))
                    .await?
                    .into_iter()
                    .any(|u| i64::from(u) > last),
                _ => true,
            };
            if !missed && !mailbox.idle(idle_for).await? {
                tokio::time::sleep(poll).await;
            }
            mailbox.logout().await;
            anyhow::Ok(())
        }
        .await;
        match waited {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(account = %account_id, "mail sync: {e:#}");
                let _ = app
                    .store
                    .set_mail_account_status(
                        company,
                        account_id,
                        "error",
                        Some(&format!("{e:#}")),
                        false,
                    )
                    .await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(300));
            }
        }
    }
}

/// Runs one sync task per active account, restarting a task when its account changes and
/// stopping it when the account is paused or deleted.
pub fn spawn_supervisor(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: HashMap<Uuid, (time::OffsetDateTime, tokio::task::JoinHandle<()>)> =
            HashMap::new();
        loop {
            match app.store.active_mail_accounts().await {
                Ok(active) => {
                    let wanted: HashMap<Uuid, (Uuid, time::OffsetDateTime)> = active
                        .into_iter()
                        .map(|(c, id, at)| (id, (c, at)))
                        .collect();
                    running.retain(|id, (at, task)| {
                        let keep =
                            wanted.get(id).is_some_and(|(_, w)| w == at) && !task.is_finished();
                        if !keep {
                            task.abort();
                        }
                        keep
                    });
                    for (id, (company, at)) in wanted {
                        running.entry(id).or_insert_with(|| {
                            (
                                at,
                                tokio::spawn(run_account(
                                    app.clone(),
                                    company,
                                    id,
                                    IDLE_FOR,
                                    Duration::from_secs(60),
                                )),
                            )
                        });
                    }
                }
                Err(e) => tracing::warn!("mail accounts: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    })
}
