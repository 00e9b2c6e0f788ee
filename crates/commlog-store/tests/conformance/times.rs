//! Timestamps: stored and read back to the microsecond, in UTC, and ordered and filtered by
//! instant on both engines — `10:00:00` sorts before `10:00:00.5`.

use crate::fixtures::{company, create, ids, page, set};
use crate::harness::TestDb;
use anyhow::Result;
use serde_json::json;
use time::macros::datetime;

async fn timestamps_round_trip_to_the_microsecond(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let l = create(
        db,
        s,
        json!({"start_time": "2026-03-01T10:00:00.123456Z", "end_time": "2026-03-01T10:05:00.654321Z",
               "requires_follow_up": true, "follow_up_date": "2026-03-02T09:30:00.000001Z"}),
    )
    .await?;
    let read = db.get_log(s, l.id).await?;
    assert_eq!(read, l);
    assert_eq!(read.start_time, datetime!(2026-03-01 10:00:00.123456 UTC));
    assert_eq!(
        read.end_time,
        Some(datetime!(2026-03-01 10:05:00.654321 UTC))
    );
    assert_eq!(
        read.follow_up_date,
        Some(datetime!(2026-03-02 09:30:00.000001 UTC))
    );
    assert_eq!(read.duration_seconds, Some(300));
    assert_eq!(read.start_time.offset(), time::UtcOffset::UTC);
    assert_eq!(read.created_at.nanosecond() % 1_000, 0);

    let offset = create(db, s, json!({"start_time": "2026-03-01T12:00:00.5+02:00"})).await?;
    let read = db.get_log(s, offset.id).await?;
    assert_eq!(read.start_time, datetime!(2026-03-01 10:00:00.5 UTC));
    assert_eq!(read.start_time.offset(), time::UtcOffset::UTC);

    let nanos = create(
        db,
        s,
        json!({"start_time": "2026-03-01T10:00:00.123456789Z"}),
    )
    .await?;
    let read = db.get_log(s, nanos.id).await?;
    assert_eq!(read.start_time, datetime!(2026-03-01 10:00:00.123456 UTC));
    assert_eq!(read, nanos);
    Ok(())
}

async fn sub_second_times_order_and_filter_by_instant(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let at = |t: &str| json!({"start_time": t});
    let whole = create(db, s, at("2026-04-01T10:00:00Z")).await?;
    let half = create(db, s, at("2026-04-01T10:00:00.5Z")).await?;
    let before = create(db, s, at("2026-04-01T09:59:59.999999Z")).await?;
    let later = create(db, s, at("2026-04-01T10:00:01Z")).await?;

    let order = |o: &str| json!({"ordering": o});
    let listed =
        |p: commlog_store::LogPage| -> Vec<uuid::Uuid> { p.results.iter().map(|l| l.id).collect() };
    assert_eq!(
        listed(page(db, s, order("-start_time")).await?),
        [later.id, half.id, whole.id, before.id]
    );
    assert_eq!(
        listed(page(db, s, order("start_time")).await?),
        [before.id, whole.id, half.id, later.id]
    );
    let window =
        |after: &str, until: &str| json!({"start_time_after": after, "start_time_before": until});
    let cases = [
        (
            json!({"start_time_after": "2026-04-01T10:00:00.5Z"}),
            set([half.id, later.id]),
        ),
        (
            json!({"start_time_after": "2026-04-01T10:00:00Z"}),
            set([whole.id, half.id, later.id]),
        ),
        (
            json!({"start_time_before": "2026-04-01T10:00:00.5Z"}),
            set([before.id, whole.id]),
        ),
        (
            json!({"start_time_before": "2026-04-01T10:00:00Z"}),
            set([before.id]),
        ),
        (
            window("2026-04-01T10:00:00.000001Z", "2026-04-01T10:00:01Z"),
            set([half.id]),
        ),
        (
            window("2026-04-01T12:00:00.5+02:00", "2026-04-01T12:00:00.6+02:00"),
            set([half.id]),
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(ids(db, s, query.clone()).await?, expected, "{query}");
    }
    Ok(())
}

conformance!(
    timestamps_round_trip_to_the_microsecond,
    sub_second_times_order_and_filter_by_instant,
);
