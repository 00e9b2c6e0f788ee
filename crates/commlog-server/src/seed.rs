//! Synthetic but realistic data: the demo company an empty embedded database starts with, and
//! `commlog seed` for loading large volumes (skewed channels and types, two years of start
//! times leaning to the recent past, plausible English content, customers and contacts).

use anyhow::Result;
use commlog_domain::log::CommunicationLog;
use commlog_domain::records::{ContactInput, CustomerInput, TeamInput, User};
use commlog_domain::*;
use commlog_store::{NewCompany, NewUserRecord, Scope, SeedLog, SeedParticipant, Store};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// What `commlog seed` did.
#[derive(Debug, Serialize)]
pub struct SeedReport {
    pub company_id: Uuid,
    pub inserted: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
}

/// A customer with its contacts' ids and addresses.
#[derive(Debug, Clone)]
struct Party {
    customer_id: Uuid,
    contacts: Vec<(Uuid, String, Option<String>, Option<String>)>,
}

const CHANNELS: &[(&str, u32)] = &[
    ("email", 45),
    ("phone", 30),
    ("chat", 8),
    ("sms", 5),
    ("slack", 4),
    ("whatsapp", 4),
    ("teams", 2),
    ("web", 2),
];
const FIRST: &[&str] = &[
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Sofia", "Ethan", "Amara", "Kenji", "Priya",
    "Mateo", "Chloe", "Omar", "Hannah", "Jonas",
];
const LAST: &[&str] = &[
    "Patel", "Nguyen", "Garcia", "Smith", "Müller", "Rossi", "Okafor", "Kim", "Silva", "Dubois",
    "Novak", "Haddad", "Larsen", "Walsh",
];
const COMPANIES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Wonka",
    "Gringotts",
    "Oscorp",
];
const SUFFIX: &[&str] = &[
    "Industries",
    "Logistics",
    "Health",
    "Foods",
    "Labs",
    "Retail",
    "Systems",
    "Partners",
];
const PRODUCTS: &[&str] = &[
    "the Pro plan",
    "the analytics add-on",
    "our mobile app",
    "the API",
    "the annual contract",
    "the onboarding package",
    "invoice #4471",
    "the data export",
    "single sign-on",
    "the billing portal",
];
const OPENERS: &[&str] = &[
    "Customer called about {p}.",
    "Follow-up on our conversation regarding {p}.",
    "Question from the customer on {p}.",
    "Renewal discussion covering {p}.",
    "Complaint received about {p}.",
    "Demo requested for {p}.",
    "Support request concerning {p}.",
    "Pricing negotiation for {p}.",
];
const MIDDLES: &[&str] = &[
    "They reported that the dashboard loads slowly in the mornings and asked whether we can look into it.",
    "We walked through the setup together and confirmed the configuration works as expected.",
    "The customer is happy with the service so far and wants to add five more seats next quarter.",
    "They were frustrated that the last invoice was charged twice and asked for a refund.",
    "We agreed to send an updated proposal with the volume discount they requested.",
    "The integration with their warehouse system fails intermittently; logs were requested.",
    "Legal needs to review the data processing agreement before they can sign.",
    "They asked for training material for the new team members joining next month.",
];
const CLOSERS: &[&str] = &[
    "Please call me back on Friday.",
    "I will send the contract by Monday.",
    "Let's talk again in two weeks.",
    "Thanks for the quick help, everything works now.",
    "Resolved during the call.",
    "Awaiting their reply.",
    "Escalated to the team lead for approval.",
    "No further action needed.",
];

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_channel(rng: &mut SmallRng) -> &'static str {
    let total: u32 = CHANNELS.iter().map(|c| c.1).sum();
    let mut x = rng.random_range(0..total);
    for (c, w) in CHANNELS {
        if x < *w {
            return c;
        }
        x -= w;
    }
    "email"
}

fn type_for(channel: &str, rng: &mut SmallRng) -> CommunicationType {
    match channel {
        "phone" if rng.random_bool(0.1) => CommunicationType::Voicemail,
        "phone" => CommunicationType::Call,
        "email" => CommunicationType::Email,
        "sms" => CommunicationType::Sms,
        "chat" | "web" => CommunicationType::Chat,
        _ => CommunicationType::Message,
    }
}

/// One synthetic log.
fn generate_one(
    rng: &mut SmallRng,
    company_id: Uuid,
    users: &[User],
    parties: &[Party],
    now: OffsetDateTime,
) -> SeedLog {
    let channel = pick_channel(rng);
    let communication_type = type_for(channel, rng);
    let direction = match rng.random_range(0..100) {
        0..55 => Direction::Inbound,
        55..95 => Direction::Outbound,
        _ => Direction::Internal,
    };
    // Two years back, leaning to the recent past (squared uniform).
    let age = rng.random::<f64>().powi(2) * 730.0 * 86_400.0;
    let start = time_fmt::normalize(now - Duration::seconds_f64(age));
    let seconds = match communication_type {
        CommunicationType::Call => rng.random_range(30..2400),
        CommunicationType::Voicemail => rng.random_range(10..120),
        _ => 0,
    };
    let product = pick(rng, PRODUCTS);
    let mut content = format!(
        "{} {} {}",
        pick(rng, OPENERS).replace("{p}", product),
        pick(rng, MIDDLES),
        pick(rng, CLOSERS)
    );
    if rng.random_range(0..10_000) == 0 {
        content.push_str(" The customer mentioned the quetzal project codename.");
    }
    let party = pick(rng, parties).clone();
    let contact = party.contacts.first().cloned();
    let user = pick(rng, users);
    let status = *pick(
        rng,
        &[
            LogStatus::Logged,
            LogStatus::InProgress,
            LogStatus::AwaitingResponse,
            LogStatus::Resolved,
            LogStatus::Resolved,
            LogStatus::Closed,
            LogStatus::Closed,
            LogStatus::Escalated,
        ],
    );
    let score: f64 = (rng.random::<f64>() * 2.0 - 1.0) * 0.9;
    let sentiment = if score > 0.2 {
        Sentiment::Positive
    } else if score < -0.2 {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    let follow_up = rng.random_bool(0.15);
    let assigned = rng.random_bool(0.8).then_some(user.id);
    let mut participants = Vec::new();
    if let Some((cid, name, email, phone)) = &contact {
        let (them, us) = match (communication_type, direction) {
            (CommunicationType::Email, Direction::Inbound) => {
                (ParticipantRole::From, ParticipantRole::To)
            }
            (CommunicationType::Email, _) => (ParticipantRole::To, ParticipantRole::From),
            (_, Direction::Inbound) => (ParticipantRole::Caller, ParticipantRole::Callee),
            _ => (ParticipantRole::Callee, ParticipantRole::Caller),
        };
        let email_like = communication_type == CommunicationType::Email;
        participants.push(SeedParticipant {
            role: them,
            email: if email_like { email.clone() } else { None },
            phone: if email_like { None } else { phone.clone() },
            name: Some(name.clone()),
            contact_id: Some(*cid),
        });
        participants.push(SeedParticipant {
            role: us,
            email: email_like.then(|| user.email.clone()),
            phone: (!email_like).then(|| "+14155550100".to_owned()),
            name: Some(user.full_name.clone()),
            contact_id: None,
        });
    }
    let log = CommunicationLog {
        id: new_id(),
        company_id,
        customer_id: Some(party.customer_id),
        contact_id: contact.as_ref().map(|c| c.0),
        assigned_to_user_id: assigned,
        created_by_user_id: user.id,
        updated_by_user_id: None,
        team_id: user.team_id,
        communication_type,
        channel: channel.to_owned(),
        direction,
        subject: log::default_subject(&content),
        start_time: start,
        end_time: (seconds > 0).then(|| start + Duration::seconds(seconds)),
        duration_minutes: (seconds > 0).then_some(seconds / 60),
        duration_seconds: (seconds > 0).then_some(seconds),
        call_outcome: (communication_type == CommunicationType::Call).then_some(if seconds > 0 {
            CallOutcome::Answered
        } else {
            CallOutcome::NoAnswer
        }),
        response_seconds: None,
        satisfaction_score: None,
        language: None,
        analysis: serde_json::json!({}),
        content,
        summary: None,
        transcription: None,
        priority: *pick(
            rng,
            &[
                Priority::Low,
                Priority::Normal,
                Priority::Normal,
                Priority::Normal,
                Priority::High,
                Priority::Urgent,
            ],
        ),
        status,
        is_internal: direction == Direction::Internal,
        sentiment: Some(sentiment),
        sentiment_score: Some((score * 100.0).round() / 100.0),
        key_topics: vec![product.trim_start_matches("the ").to_owned()],
        requires_follow_up: follow_up,
        follow_up_assigned_to: follow_up.then_some(user.id),
        follow_up_date: follow_up.then(|| start + Duration::days(rng.random_range(1..14))),
        follow_up_status: follow_up.then(|| {
            *pick(
                rng,
                &[
                    FollowUpStatus::Pending,
                    FollowUpStatus::Completed,
                    FollowUpStatus::Overdue,
                ],
            )
        }),
        source: "seed".into(),
        external_id: None,
        thread_id: None,
        categories: Vec::new(),
        tags: Vec::new(),
        watchers: Vec::new(),
        participants: Vec::new(),
        created_at: start,
        updated_at: start,
        is_deleted: false,
    };
    SeedLog { log, participants }
}

/// Makes sure the company has customers and contacts to attach logs to; returns them.
async fn ensure_parties(
    store: &Store,
    scope: &Scope,
    rng: &mut SmallRng,
    wanted: usize,
) -> Result<Vec<Party>> {
    let mut customers = Vec::new();
    for page in 1..=5 {
        let f = commlog_domain::filters::PeopleFilter {
            page: Some(page),
            page_size: Some(100),
            ..Default::default()
        };
        let batch = store.list_customers(scope, &f).await?;
        let done = batch.len() < 100;
        customers.extend(batch);
        if done {
            break;
        }
    }
    let mut parties = Vec::new();
    for c in &customers {
        let f = commlog_domain::filters::PeopleFilter {
            customer_id: Some(c.id),
            page_size: Some(20),
            ..Default::default()
        };
        let contacts = store.list_contacts(scope, &f).await?;
        let contacts = contacts
            .into_iter()
            .map(|k| {
                (
                    k.id,
                    k.full_name,
                    k.emails.first().cloned(),
                    k.phones.first().cloned(),
                )
            })
            .collect();
        parties.push(Party {
            customer_id: c.id,
            contacts,
        });
    }
    while parties.len() < wanted {
        let n = parties.len();
        let name = format!("{} {} {}", pick(rng, COMPANIES), pick(rng, SUFFIX), n + 1);
        let domain = format!(
            "{}{}.example.com",
            pick(rng, COMPANIES).to_lowercase(),
            n + 1
        );
        let input = CustomerInput {
            name: Some(name),
            email_domain: Some(Some(domain.clone())),
            ..Default::default()
        };
        let (customer, _) = store.upsert_customer(scope, &input).await?;
        let mut contacts = Vec::new();
        for k in 0..2 {
            let (first, last) = (pick(rng, FIRST), pick(rng, LAST));
            let email = format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase().replace('ü', "ue"),
                k,
                domain
            );
            let phone = format!("+1415{:07}", rng.random_range(1_000_000..9_999_999));
            let input = ContactInput {
                customer_id: Some(Some(customer.id)),
                full_name: Some(format!("{first} {last}")),
                emails: Some(vec![email.clone()]),
                phones: Some(vec![phone.clone()]),
                ..Default::default()
            };
            let c = store.create_contact(scope, &input).await?;
            contacts.push((c.id, c.full_name, Some(email), Some(phone)));
        }
        parties.push(Party {
            customer_id: customer.id,
            contacts,
        });
    }
    Ok(parties)
}

/// `commlog seed`: inserts `rows` synthetic logs in batches.
pub async fn seed_company(store: &Store, company_id: Uuid, rows: u64) -> Result<SeedReport> {
    let started = std::time::Instant::now();
    let scope = Scope::admin(company_id, Uuid::nil());
    store
        .get_company(&scope)
        .await
        .map_err(|_| anyhow::anyhow!("no company {company_id}"))?;
    let users = store.list_users(&scope, &Default::default()).await?;
    if users.is_empty() {
        anyhow::bail!("the company has no users");
    }
    let mut rng = SmallRng::seed_from_u64(company_id.as_u128() as u64);
    let parties = ensure_parties(store, &scope, &mut rng, 200).await?;
    let now = time_fmt::now();
    let mut done: u64 = 0;
    while done < rows {
        let n = (rows - done).min(5_000);
        let batch: Vec<SeedLog> = (0..n)
            .map(|_| generate_one(&mut rng, company_id, &users, &parties, now))
            .collect();
        done += store.insert_seed_logs(company_id, &batch).await?;
        if rows >= 50_000 {
            eprintln!("seeded {done}/{rows} logs");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(SeedReport {
        company_id,
        inserted: done,
        seconds,
        rows_per_second: done as f64 / seconds.max(1e-9),
    })
}

/// The demo company an empty embedded database starts with; prints the credentials once.
pub async fn seed_demo(store: &Store) -> Result<()> {
    let password: String = {
        let mut rng = SmallRng::from_os_rng();
        (0..16)
            .map(|_| {
                *pick(
                    &mut rng,
                    b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                ) as char
            })
            .collect()
    };
    let hash = crate::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
    let admin_email = "admin@demo.commlog.local";
    let created = store
        .create_company(&NewCompany {
            name: "Northwind Demo".into(),
            timezone: "UTC".into(),
            admin_email: admin_email.into(),
            admin_full_name: "Dana Admin".into(),
            admin_password_hash: hash.clone(),
        })
        .await?;
    let scope = Scope::admin(created.company_id, created.user_id);
    let sales = store
        .create_team(
            &scope,
            &TeamInput {
                name: Some("Sales".into()),
                description: Some(Some("New business and renewals".into())),
            },
        )
        .await?;
    let support = store
        .create_team(
            &scope,
            &TeamInput {
                name: Some("Support".into()),
                description: Some(Some("Customer care".into())),
            },
        )
        .await?;
    let people: &[(&str, &str, Role, Option<Uuid>)] = &[
        (
            "manager@demo.commlog.local",
            "Morgan Manager",
            Role::Manager,
            None,
        ),
        (
            "lead.sales@demo.commlog.local",
            "Sam Lead",
            Role::TeamLead,
            Some(sales.id),
        ),
        (
            "lead.support@demo.commlog.local",
            "Sky Lead",
            Role::TeamLead,
            Some(support.id),
        ),
        (
            "rep1@demo.commlog.local",
            "Riley Rep",
            Role::SalesRep,
            Some(sales.id),
        ),
        (
            "rep2@demo.commlog.local",
            "Robin Rep",
            Role::SalesRep,
            Some(sales.id),
        ),
        (
            "agent1@demo.commlog.local",
            "Alex Agent",
            Role::SalesRep,
            Some(support.id),
        ),
        (
            "agent2@demo.commlog.local",
            "Jamie Agent",
            Role::SalesRep,
            Some(support.id),
        ),
    ];
    for (email, name, role, team) in people {
        let record = NewUserRecord {
            email: (*email).into(),
            full_name: (*name).into(),
            password_hash: hash.clone(),
            role: *role,
            team_id: *team,
            capacity: 50,
            is_compliance: false,
        };
        store.create_user(&scope, &record).await?;
    }
    let report = seed_company(store, created.company_id, 300).await?;
    eprintln!();
    eprintln!(
        "  A demo company was created with {} sample communications.",
        report.inserted
    );
    eprintln!("  Sign in as {admin_email} with password: {password}");
    eprintln!(
        "  (the other demo users, e.g. rep1@demo.commlog.local, share that password; it is shown only once)"
    );
    eprintln!();
    Ok(())
}
