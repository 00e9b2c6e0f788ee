//! Bulk-inserted seed logs are ordinary logs afterwards: listed, filtered, searched and read
//! with their participants.

use crate::fixtures::{company, create, ids};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::ParticipantRole;
use commlog_store::{SeedLog, SeedParticipant};
use serde_json::json;
use std::collections::BTreeSet;
use time::Duration;
use uuid::Uuid;

async fn seed_logs_are_listed(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let model = create(
        db,
        s,
        json!({"channel": "sms", "communication_type": "sms"}),
    )
    .await?;
    let seeds: Vec<SeedLog> = (0..3_i64)
        .map(|i| {
            let mut l = model.clone();
            l.id = Uuid::now_v7();
            l.start_time = model.start_time - Duration::hours(i + 1);
            l.content = format!("Seeded conversation number {i} about the marmalade order.");
            l.subject = format!("Seed {i}");
            l.source = "seed".into();
            l.external_id = Some(format!("seed-{i}"));
            SeedLog {
                log: l,
                participants: vec![SeedParticipant {
                    role: ParticipantRole::From,
                    email: None,
                    phone: Some(format!("+1415555010{i}")),
                    name: Some(format!("Caller {i}")),
                    contact_id: None,
                }],
            }
        })
        .collect();
    assert_eq!(db.insert_seed_logs(acme.id, &seeds).await?, 3);

    let seeded: BTreeSet<Uuid> = seeds.iter().map(|s| s.log.id).collect();
    let all = ids(db, s, json!({})).await?;
    assert_eq!(all.len(), 4);
    assert!(seeded.is_subset(&all));
    let mut sms = seeded.clone();
    sms.insert(model.id);
    assert_eq!(ids(db, s, json!({"channel": "sms"})).await?, sms);
    assert_eq!(ids(db, s, json!({"search": "marmalade"})).await?, seeded);
    for seed in &seeds {
        let read = db.get_log(s, seed.log.id).await?;
        assert_eq!(read.content, seed.log.content);
        assert_eq!(read.start_time, seed.log.start_time);
        assert_eq!(read.source, "seed");
        assert_eq!(read.participants.len(), 1);
        assert_eq!(read.participants[0].phone, seed.participants[0].phone);
    }
    Ok(())
}

conformance!(seed_logs_are_listed);
