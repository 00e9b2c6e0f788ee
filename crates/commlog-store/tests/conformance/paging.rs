//! Ordering and paging: keyset cursors and OFFSET pages walk every row exactly once, in order,
//! also through runs of rows that share a start time.

use crate::fixtures::{company, create, invalid_fields, page, params};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::log::CommunicationLog;
use commlog_store::Scope;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// Every id a cursor walk over `ordering` returns, in order.
async fn walk_cursor(db: &TestDb, s: &Scope, ordering: &str, size: u32) -> Result<Vec<Uuid>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut query = json!({"ordering": ordering, "page_size": size});
        if let Some(c) = &cursor {
            query["cursor"] = json!(c);
        }
        let p = page(db, s, query).await?;
        out.extend(p.results.iter().map(|l| l.id));
        assert_eq!(p.has_more, p.next_cursor.is_some());
        match p.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
    panic!("the cursor walk did not end");
}

async fn walk_pages(db: &TestDb, s: &Scope, ordering: &str, size: u32) -> Result<Vec<Uuid>> {
    let mut out = Vec::new();
    for number in 1..100 {
        let query = json!({"ordering": ordering, "page_size": size, "page": number});
        let p = page(db, s, query).await?;
        out.extend(p.results.iter().map(|l| l.id));
        if !p.has_more {
            return Ok(out);
        }
    }
    panic!("the page walk did not end");
}

fn sorted(logs: &[CommunicationLog], key: fn(&CommunicationLog) -> OffsetDateTime) -> Vec<Uuid> {
    let mut rows: Vec<(OffsetDateTime, Uuid)> = logs.iter().map(|l| (key(l), l.id)).collect();
    rows.sort();
    rows.into_iter().map(|(_, id)| id).collect()
}

async fn paging_walks_every_row_once(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let mut logs = Vec::new();
    // Five instants, most shared by several rows, so pages split runs of equal start times.
    for (instant, copies) in [
        ("2026-05-01T10:00:00Z", 6),
        ("2026-05-01T10:00:00.000001Z", 1),
        ("2026-05-02T08:30:00Z", 5),
        ("2026-04-30T23:59:59.5Z", 4),
        ("2026-05-03T12:00:00Z", 7),
    ] {
        for _ in 0..copies {
            logs.push(create(db, s, json!({"start_time": instant})).await?);
        }
    }
    let ascending = sorted(&logs, |l| l.start_time);
    let descending: Vec<Uuid> = ascending.iter().rev().copied().collect();
    let created_ascending = sorted(&logs, |l| l.created_at);

    for size in [1, 4, 5, 100] {
        assert_eq!(walk_cursor(db, s, "-start_time", size).await?, descending);
        assert_eq!(walk_cursor(db, s, "start_time", size).await?, ascending);
        assert_eq!(walk_pages(db, s, "-start_time", size).await?, descending);
        assert_eq!(walk_pages(db, s, "start_time", size).await?, ascending);
    }
    assert_eq!(
        walk_cursor(db, s, "created_at", 4).await?,
        created_ascending
    );
    let created_descending: Vec<Uuid> = created_ascending.iter().rev().copied().collect();
    assert_eq!(
        walk_cursor(db, s, "-created_at", 4).await?,
        created_descending
    );
    assert_eq!(
        page(db, s, json!({})).await?.results[0].id,
        descending[0],
        "-start_time is the default ordering"
    );

    let first = page(db, s, json!({"ordering": "start_time", "page_size": 3})).await?;
    let cursor = first.next_cursor.expect("a second page");
    let mismatch = params(json!({"ordering": "-start_time", "cursor": cursor}));
    assert_eq!(invalid_fields(db.list_logs(s, &mismatch).await), ["cursor"]);
    for bad in ["not-a-cursor", "eyJ0IjoxfQ", ""] {
        let query = params(json!({"cursor": bad}));
        assert_eq!(invalid_fields(db.list_logs(s, &query).await), ["cursor"]);
    }
    Ok(())
}

conformance!(paging_walks_every_row_once);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: paging_walks_every_row_once);
