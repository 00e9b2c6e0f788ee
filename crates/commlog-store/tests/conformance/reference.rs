//! A new company starts with its administrator, the eight default channels and the default
//! categories — its own, not shared with any other company.

use crate::fixtures::company;
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::filters::{CategoryFilter, ChannelFilter};
use commlog_domain::{Priority, Role};
use std::collections::BTreeSet;

async fn company_seeds_channels_and_categories(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let admin = db.get_user(&acme.admin, acme.admin_id).await?;
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(db.get_company(&acme.admin).await?.name, "Acme");

    let channels = db
        .list_channels(&acme.admin, &ChannelFilter::default())
        .await?;
    let codes: BTreeSet<&str> = channels.iter().map(|c| c.channel_code.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "phone", "email", "sms", "chat", "slack", "teams", "whatsapp", "web",
    ]
    .into();
    assert_eq!(channels.len(), 8);
    assert_eq!(codes, expected);
    assert!(
        channels
            .iter()
            .all(|c| c.is_active && c.company_id == acme.id)
    );
    assert_eq!(channels.iter().filter(|c| c.is_default).count(), 1);

    let categories = db
        .list_categories(&acme.admin, &CategoryFilter::default())
        .await?;
    let codes: BTreeSet<&str> = categories
        .iter()
        .map(|c| c.category_code.as_str())
        .collect();
    for code in [
        "general",
        "sales",
        "support",
        "billing",
        "renewal",
        "complaint",
    ] {
        assert!(codes.contains(code), "missing category {code}");
    }
    let priority = |code: &str| {
        categories
            .iter()
            .find(|c| c.category_code == code)
            .map(|c| c.default_priority)
    };
    assert_eq!(priority("renewal"), Some(Priority::High));
    assert_eq!(priority("general"), Some(Priority::Normal));
    assert_eq!(categories.iter().filter(|c| c.is_default).count(), 1);

    let other = company(db, "Other").await?;
    let theirs = db
        .list_channels(&other.admin, &ChannelFilter::default())
        .await?;
    assert_eq!(theirs.len(), 8);
    assert!(theirs.iter().all(|t| channels.iter().all(|c| c.id != t.id)));
    assert_eq!(db.count_companies().await?, 2);
    Ok(())
}

conformance!(company_seeds_channels_and_categories);
