//! The log list's filters each return exactly the rows they describe, and its count is exact
//! below the cap.

use crate::fixtures::{company, create, ids, page, set};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::CustomerInput;
use commlog_domain::filters::CategoryFilter;
use serde_json::json;

async fn filters_return_exactly_their_rows(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let (customer, _) = db
        .upsert_customer(
            s,
            &CustomerInput {
                name: Some("Globex".into()),
                ..Default::default()
            },
        )
        .await?;
    let categories = db.list_categories(s, &CategoryFilter::default()).await?;
    let category = |code: &str| {
        categories
            .iter()
            .find(|c| c.category_code == code)
            .map(|c| c.id)
            .expect("default category")
    };
    let support = category("support");

    let a = create(
        db,
        s,
        json!({
            "communication_type": "call", "channel": "phone", "direction": "inbound",
            "customer_id": customer.id, "category_ids": [category("renewal")], "tags": ["vip"],
            "start_time": "2026-01-01T09:00:00Z",
        }),
    )
    .await?;
    let b = create(
        db,
        s,
        json!({
            "communication_type": "email", "channel": "email", "direction": "outbound",
            "participants": [{"role": "to", "email": "buyer@globex.test"}],
            "status": "in_progress", "priority": "urgent", "requires_follow_up": true,
            "start_time": "2026-01-02T09:00:00Z",
        }),
    )
    .await?;
    let c = create(
        db,
        s,
        json!({
            "communication_type": "sms", "channel": "sms", "direction": "inbound",
            "category_ids": [support], "tags": ["vip", "churn"], "is_internal": true,
            "start_time": "2026-01-03T09:00:00Z",
        }),
    )
    .await?;
    let d = create(
        db,
        s,
        json!({
            "communication_type": "chat", "channel": "chat", "direction": "internal",
            "priority": "low", "start_time": "2026-01-04T09:00:00Z",
        }),
    )
    .await?;

    let cases = [
        (json!({}), set([a.id, b.id, c.id, d.id])),
        (json!({"channel": "phone"}), set([a.id])),
        (json!({"channel": "whatsapp"}), set([])),
        (json!({"communication_type": "email"}), set([b.id])),
        (json!({"communication_type": "chat"}), set([d.id])),
        (
            json!({"communication_types": "sms,chat,message"}),
            set([c.id, d.id]),
        ),
        (json!({"communication_types": "email"}), set([b.id])),
        (json!({"direction": "inbound"}), set([a.id, c.id])),
        (json!({"direction": "internal"}), set([d.id])),
        (json!({"status": "in_progress"}), set([b.id])),
        (json!({"status": "logged"}), set([a.id, c.id, d.id])),
        (json!({"status": "closed"}), set([])),
        (json!({"priority": "urgent"}), set([b.id])),
        (json!({"priority": "high"}), set([a.id])),
        (json!({"priority": "normal"}), set([c.id])),
        (json!({"customer_id": customer.id}), set([a.id])),
        (json!({"category": "renewal"}), set([a.id])),
        (json!({"category": support.to_string()}), set([c.id])),
        (json!({"category": "billing"}), set([])),
        (json!({"tag": "vip"}), set([a.id, c.id])),
        (json!({"tag": "churn"}), set([c.id])),
        (json!({"tag": "absent"}), set([])),
        (json!({"requires_follow_up": true}), set([b.id])),
        (
            json!({"requires_follow_up": false}),
            set([a.id, c.id, d.id]),
        ),
        (json!({"follow_up_status": "pending"}), set([b.id])),
        (json!({"is_internal": true}), set([c.id])),
        (
            json!({"start_time_after": "2026-01-02T09:00:00Z"}),
            set([b.id, c.id, d.id]),
        ),
        (
            json!({"start_time_before": "2026-01-03T09:00:00Z"}),
            set([a.id, b.id]),
        ),
        (
            json!({"start_time_after": "2026-01-02T00:00:00Z",
                   "start_time_before": "2026-01-03T00:00:00Z"}),
            set([b.id]),
        ),
        (
            json!({"tag": "vip", "direction": "inbound", "channel": "sms"}),
            set([c.id]),
        ),
        (json!({"tag": "vip", "channel": "email"}), set([])),
    ];
    for (query, expected) in cases {
        let found = ids(db, s, query.clone()).await?;
        assert_eq!(found, expected, "filter {query}");
    }
    Ok(())
}

async fn count_is_exact_under_the_cap(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    for i in 0..7 {
        let channel = if i % 2 == 0 { "phone" } else { "chat" };
        let start = format!("2026-02-0{}T08:00:00Z", i + 1);
        create(
            db,
            &acme.admin,
            json!({"channel": channel, "start_time": start}),
        )
        .await?;
    }
    let first = page(db, &acme.admin, json!({"page_size": 2})).await?;
    assert_eq!((first.count, first.count_is_exact), (7, true));
    assert_eq!(first.results.len(), 2);
    assert!(first.has_more && first.next_cursor.is_some());

    let exact = page(db, &acme.admin, json!({"page_size": 2, "count": "exact"})).await?;
    assert_eq!((exact.count, exact.count_is_exact), (7, true));
    let filtered = page(db, &acme.admin, json!({"page_size": 1, "channel": "phone"})).await?;
    assert_eq!((filtered.count, filtered.count_is_exact), (4, true));

    let last = page(db, &acme.admin, json!({"page_size": 2, "page": 4})).await?;
    assert_eq!(last.results.len(), 1);
    assert_eq!(last.count, 7);
    assert!(!last.has_more && last.next_cursor.is_none());
    let beyond = page(db, &acme.admin, json!({"page_size": 2, "page": 5})).await?;
    assert!(beyond.results.is_empty());
    assert_eq!(beyond.count, 7);
    Ok(())
}

conformance!(
    filters_return_exactly_their_rows,
    count_is_exact_under_the_cap
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: filters_return_exactly_their_rows);
