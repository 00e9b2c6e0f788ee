//! The analytics rollup: every write path keeps it equal to the logs (creation, edits of each
//! counted field, reassignment, moves in time, deletion, processing write-back), the hourly
//! measures answer with the same figures as the logs, scopes and filters narrow them, and
//! `analytics_verify` finds (and repairs) a rollup that drifted.

use crate::fixtures::{company, create, patch, user};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::Role;
use commlog_domain::analytics::{
    AnalyticsQuery, AnalyticsScope, Counters, Dimension, MeasureQuery, Measures, Period,
};
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

fn all_time() -> Period {
    Period {
        since: datetime!(2000-01-01 0:00 UTC),
        until: datetime!(2100-01-01 0:00 UTC),
    }
}

/// Sums the measures of a company in a scope, from the rollup or from the logs.
async fn sum(
    db: &TestDb,
    company: Uuid,
    scope: AnalyticsScope,
    from_logs: bool,
) -> Result<Measures> {
    let q = MeasureQuery {
        period: all_time(),
        scope,
        filters: AnalyticsQuery::default(),
        group_by: vec![],
        from_logs,
        whole_period: false,
    };
    let mut total = Measures::default();
    for s in db.analytics_measures(company, &q).await? {
        total.add(&s.measures);
    }
    Ok(total)
}

async fn every_write_keeps_the_rollup_equal_to_the_logs(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let team = crate::fixtures::team(db, &acme.admin, "Red").await?;
    let rep = user(db, &acme.admin, Role::SalesRep, Some(team), 10)
        .await?
        .0
        .id;
    let answered = create(
        db,
        &acme.admin,
        json!({"call_outcome": "answered", "duration_seconds": 120, "assigned_to_user_id": rep}),
    )
    .await?;
    let missed = create(
        db,
        &acme.admin,
        json!({"call_outcome": "no_answer", "sentiment": "negative", "sentiment_score": -0.5}),
    )
    .await?;
    let later = create(
        db,
        &acme.admin,
        json!({"start_time": "2026-03-02T15:30:00Z", "requires_follow_up": true,
        "follow_up_date": "2026-03-09T10:00:00Z", "follow_up_status": "pending"}),
    )
    .await?;
    let m = sum(db, acme.id, AnalyticsScope::Company, false).await?;
    assert_eq!(
        (m.logs, m.answered, m.missed, m.negative, m.follow_ups),
        (3, 1, 1, 1, 1)
    );
    assert_eq!((m.duration_seconds, m.timed), (120, 1));
    assert!((m.sentiment_sum + 0.5).abs() < 1e-9);

    // Each counted field moves the figures; so does a move in time and a reassignment.
    db.update_log(
        &acme.admin,
        later.id,
        patch(json!({"follow_up_status": "completed"})),
    )
    .await?;
    db.update_log(&acme.admin, missed.id, patch(json!({"start_time": "2026-02-01T08:00:00Z", "sentiment": "positive", "sentiment_score": 0.4}))).await?;
    db.update_log(
        &acme.admin,
        answered.id,
        patch(json!({"assigned_to_user_id": null, "status": "resolved"})),
    )
    .await?;
    db.set_satisfaction(&acme.admin, answered.id, Some(5))
        .await?;
    let m = sum(db, acme.id, AnalyticsScope::Company, false).await?;
    assert_eq!(
        (
            m.logs,
            m.follow_ups_completed,
            m.negative,
            m.positive,
            m.rated,
            m.satisfaction_sum
        ),
        (3, 1, 0, 1, 1, 5)
    );
    // The completion is stamped for the time a follow-up takes.
    let done = db.get_log(&acme.admin, later.id).await?;
    assert!(done.requires_follow_up);
    assert_eq!(
        sum(db, acme.id, AnalyticsScope::User(rep), false)
            .await?
            .logs,
        0,
        "reassigned away"
    );

    db.delete_log(&acme.admin, missed.id).await?;
    let m = sum(db, acme.id, AnalyticsScope::Company, false).await?;
    assert_eq!((m.logs, m.positive), (2, 0), "a deleted log counts no more");
    assert!(
        m.same_as(&sum(db, acme.id, AnalyticsScope::Company, true).await?),
        "rollup {m:?}"
    );
    assert!(
        db.analytics_verify(acme.id, all_time(), false)
            .await?
            .is_empty()
    );

    // Another company's figures are its own.
    let other = company(db, "Other").await?;
    assert_eq!(
        sum(db, other.id, AnalyticsScope::Company, false)
            .await?
            .logs,
        0
    );
    Ok(())
}

async fn hours_dimensions_and_scopes(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let team = crate::fixtures::team(db, &acme.admin, "Red").await?;
    let rep = user(db, &acme.admin, Role::SalesRep, Some(team), 10)
        .await?
        .0
        .id;
    create(
        db,
        &acme.admin,
        json!({"start_time": "2026-03-01T10:05:00Z", "assigned_to_user_id": rep}),
    )
    .await?;
    create(db, &acme.admin, json!({"start_time": "2026-03-01T10:55:00Z", "channel": "email", "communication_type": "email",
        "participants": [{"role": "from", "email": "a@b.example"}]})).await?;
    create(
        db,
        &acme.admin,
        json!({"start_time": "2026-03-01T11:20:00Z"}),
    )
    .await?;
    let q = |group_by: Vec<Dimension>, scope, from_logs| MeasureQuery {
        period: Period {
            since: datetime!(2026-03-01 10:00 UTC),
            until: datetime!(2026-03-01 12:00 UTC),
        },
        scope,
        filters: AnalyticsQuery::default(),
        group_by,
        from_logs,
        whole_period: false,
    };
    let hours = db
        .analytics_measures(
            acme.id,
            &q(vec![Dimension::Channel], AnalyticsScope::Company, false),
        )
        .await?;
    let mut seen: Vec<(time::OffsetDateTime, Option<String>, i64)> = hours
        .iter()
        .map(|s| (s.slot, s.keys[0].clone(), s.measures.logs))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (datetime!(2026-03-01 10:00 UTC), Some("email".into()), 1),
            (datetime!(2026-03-01 10:00 UTC), Some("phone".into()), 1),
            (datetime!(2026-03-01 11:00 UTC), Some("phone".into()), 1),
        ]
    );
    // From the logs, in quarter hours.
    let quarters = db
        .analytics_measures(acme.id, &q(vec![], AnalyticsScope::Company, true))
        .await?;
    let mut slots: Vec<time::OffsetDateTime> = quarters.iter().map(|s| s.slot).collect();
    slots.sort();
    assert_eq!(
        slots,
        vec![
            datetime!(2026-03-01 10:00 UTC),
            datetime!(2026-03-01 10:45 UTC),
            datetime!(2026-03-01 11:15 UTC)
        ]
    );
    // Scopes: the rep's one log, the team's (the rep's team), the unassigned none for a user.
    let count = |v: Vec<commlog_domain::analytics::SlotMeasures>| {
        v.iter().map(|s| s.measures.logs).sum::<i64>()
    };
    assert_eq!(
        count(
            db.analytics_measures(acme.id, &q(vec![], AnalyticsScope::User(rep), false))
                .await?
        ),
        1
    );
    assert_eq!(
        count(
            db.analytics_measures(acme.id, &q(vec![], AnalyticsScope::Team(team), false))
                .await?
        ),
        1
    );
    let by_user = db
        .analytics_measures(
            acme.id,
            &q(vec![Dimension::User], AnalyticsScope::Company, false),
        )
        .await?;
    assert!(by_user.iter().any(|s| s.keys[0] == Some(rep.to_string())));
    assert!(
        by_user.iter().any(|s| s.keys[0].is_none()),
        "unassigned logs have no user"
    );
    // Totals over the whole period, summed by the database, equal the hours added up, from
    // the rollup and from the logs alike.
    for from_logs in [false, true] {
        let hourly = q(vec![Dimension::User], AnalyticsScope::Company, from_logs);
        let mut added: std::collections::BTreeMap<Vec<Option<String>>, Measures> =
            Default::default();
        for s in db.analytics_measures(acme.id, &hourly).await? {
            added.entry(s.keys).or_default().add(&s.measures);
        }
        let whole = MeasureQuery {
            whole_period: true,
            ..hourly.clone()
        };
        let totals = db.analytics_measures(acme.id, &whole).await?;
        assert_eq!(totals.len(), added.len(), "from_logs {from_logs}");
        for t in totals {
            assert_eq!(t.slot, hourly.period.since);
            assert!(
                added[&t.keys].same_as(&t.measures),
                "from_logs {from_logs}: {t:?}"
            );
        }
    }
    Ok(())
}

async fn verify_finds_and_repairs_drift(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    for _ in 0..3 {
        create(db, &acme.admin, json!({})).await?;
    }
    // Corrupt the rollup behind the store's back.
    raw_sql(db, "UPDATE analytics_hourly SET logs = logs + 5").await?;
    let found = db.analytics_verify(acme.id, all_time(), true).await?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (&found[0].rollup["logs"], &found[0].logs["logs"]),
        (&json!(8), &json!(3))
    );
    assert!(
        db.analytics_verify(acme.id, all_time(), false)
            .await?
            .is_empty(),
        "repaired"
    );
    assert_eq!(
        sum(db, acme.id, AnalyticsScope::Company, false).await?.logs,
        3
    );
    // The company-wide rollup is checked and repaired too.
    raw_sql(
        db,
        "UPDATE analytics_hourly_company SET missed = missed + 2",
    )
    .await?;
    let found = db.analytics_verify(acme.id, all_time(), true).await?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].key.starts_with("company/"), "{found:?}");
    assert!(
        db.analytics_verify(acme.id, all_time(), false)
            .await?
            .is_empty()
    );
    Ok(())
}

async fn open_items_follow_every_change(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let team = crate::fixtures::team(db, &acme.admin, "Red").await?;
    let rep = user(db, &acme.admin, Role::SalesRep, Some(team), 10)
        .await?
        .0
        .id;
    // A log assigned to the rep is in the rep's team.
    let logged = create(db, &acme.admin, json!({"assigned_to_user_id": rep})).await?;
    let escalated = create(
        db,
        &acme.admin,
        json!({"assigned_to_user_id": rep, "status": "escalated"}),
    )
    .await?;
    create(db, &acme.admin, json!({"status": "awaiting_response"})).await?;
    // Resolved, but its follow-up is overdue: it counts there only.
    create(
        db,
        &acme.admin,
        json!({"assigned_to_user_id": rep, "status": "resolved", "requires_follow_up": true,
        "follow_up_date": "2026-03-09T10:00:00Z", "follow_up_status": "overdue"}),
    )
    .await?;
    create(db, &acme.admin, json!({"status": "closed"})).await?;
    let counts = |c: Counters| {
        (
            c.open,
            c.awaiting_response,
            c.escalated,
            c.overdue_follow_ups,
        )
    };
    let company_wide = db
        .analytics_counters(acme.id, AnalyticsScope::Company)
        .await?;
    assert_eq!(counts(company_wide), (3, 1, 1, 1));
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::Team(team))
                .await?
        ),
        (2, 0, 1, 1)
    );
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::User(rep))
                .await?
        ),
        (2, 0, 1, 1)
    );
    let active = |load: Vec<commlog_domain::analytics::AgentLoad>| {
        load.iter().find(|a| a.user_id == rep).map(|a| a.active)
    };
    assert_eq!(
        active(
            db.analytics_workload(acme.id, AnalyticsScope::Company)
                .await?
        ),
        Some(2)
    );

    // Resolving, reassigning and deleting move the counts; edits of other fields do not.
    db.update_log(
        &acme.admin,
        escalated.id,
        patch(json!({"status": "resolved"})),
    )
    .await?;
    db.update_log(
        &acme.admin,
        logged.id,
        patch(json!({"assigned_to_user_id": null, "subject": "Moved"})),
    )
    .await?;
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::User(rep))
                .await?
        ),
        (0, 0, 0, 1)
    );
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::Company)
                .await?
        ),
        (2, 1, 0, 1)
    );
    db.delete_log(&acme.admin, logged.id).await?;
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::Company)
                .await?
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(
        active(
            db.analytics_workload(acme.id, AnalyticsScope::Team(team))
                .await?
        ),
        Some(0)
    );
    assert!(
        db.analytics_verify(acme.id, all_time(), false)
            .await?
            .is_empty()
    );

    // A table that drifted is found and rebuilt from the logs.
    raw_sql(
        db,
        "UPDATE analytics_open_items SET escalated = escalated + 4",
    )
    .await?;
    let found = db.analytics_verify(acme.id, all_time(), true).await?;
    assert!(
        !found.is_empty() && found.iter().all(|m| m.key.starts_with("open_items/")),
        "{found:?}"
    );
    assert!(
        db.analytics_verify(acme.id, all_time(), false)
            .await?
            .is_empty(),
        "repaired"
    );
    assert_eq!(
        counts(
            db.analytics_counters(acme.id, AnalyticsScope::Company)
                .await?
        ),
        (1, 1, 0, 1)
    );

    // Another company's counts are its own.
    let other = company(db, "Other").await?;
    assert_eq!(
        db.analytics_counters(other.id, AnalyticsScope::Company)
            .await?,
        Counters::default()
    );
    Ok(())
}

/// What kept reports are checked against: a change moves the stamp when it commits (its event
/// waiting to be published) and again when its event is numbered; nothing else does.
async fn the_events_stamp_moves_with_every_commit(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    db.publish_events(1_000).await?;
    let quiet = db.events_stamp(acme.id).await?;
    assert!(quiet.unpublished.is_empty());
    assert_eq!(
        db.events_stamp(acme.id).await?,
        quiet,
        "nothing changed, the same stamp"
    );

    create(db, &acme.admin, json!({})).await?;
    let committed = db.events_stamp(acme.id).await?;
    assert_ne!(committed, quiet);
    assert_eq!(committed.unpublished.len(), 1, "{committed:?}");
    create(db, &other.admin, json!({})).await?;
    assert_eq!(
        db.events_stamp(acme.id).await?,
        committed,
        "another company's change is its own"
    );

    db.publish_events(1_000).await?;
    let published = db.events_stamp(acme.id).await?;
    assert!(published.unpublished.is_empty());
    assert!(published.last_seq > quiet.last_seq);
    assert_ne!(published, committed);
    Ok(())
}

/// Runs SQL on the test database directly, as an operator's mistake would.
async fn raw_sql(db: &TestDb, sql: &'static str) -> Result<()> {
    use sqlx::Connection;
    if db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
        sqlx::raw_sql(sql).execute(&mut c).await?;
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await?;
        sqlx::raw_sql(sql).execute(&mut c).await?;
    }
    Ok(())
}

conformance!(
    every_write_keeps_the_rollup_equal_to_the_logs,
    hours_dimensions_and_scopes,
    verify_finds_and_repairs_drift,
    open_items_follow_every_change,
    the_events_stamp_moves_with_every_commit,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: every_write_keeps_the_rollup_equal_to_the_logs, open_items_follow_every_change);
