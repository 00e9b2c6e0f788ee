//! Who sees which log: another company's logs do not exist; a sales rep sees what they created,
//! are assigned, follow up or watch, and their team's logs; managers see the whole company.

use crate::fixtures::{assert_not_found, company, create, ids, patch, set, team, user};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::Role;
use serde_json::json;

async fn other_companies_logs_do_not_exist(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let other = company(db, "Other").await?;
    let ours = create(db, &acme.admin, json!({})).await?;
    let theirs = create(db, &other.admin, json!({})).await?;

    assert_not_found(db.get_log(&acme.admin, theirs.id).await);
    assert_not_found(db.log_history(&acme.admin, theirs.id).await);
    let status = patch(json!({"status": "in_progress"}));
    assert_not_found(db.update_log(&acme.admin, theirs.id, status).await);
    assert_not_found(db.delete_log(&acme.admin, theirs.id).await);
    assert_not_found(db.add_watcher(&acme.admin, theirs.id, acme.admin_id).await);
    assert_eq!(ids(db, &acme.admin, json!({})).await?, set([ours.id]));
    // Filters cannot reach across either.
    let theirs_assigned = create(
        db,
        &other.admin,
        json!({"assigned_to_user_id": other.admin_id}),
    )
    .await?;
    let query = json!({"assigned_to_user_id": other.admin_id});
    assert!(ids(db, &acme.admin, query.clone()).await?.is_empty());
    assert_eq!(
        ids(db, &other.admin, query).await?,
        set([theirs_assigned.id])
    );
    let query = json!({"search": "account"});
    assert_eq!(ids(db, &acme.admin, query).await?, set([ours.id]));
    let all_theirs = set([theirs.id, theirs_assigned.id]);
    assert_eq!(ids(db, &other.admin, json!({})).await?, all_theirs);
    assert_eq!(db.get_log(&other.admin, theirs.id).await?.id, theirs.id);
    Ok(())
}

async fn roles_see_what_they_should(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let admin = &acme.admin;
    let north = team(db, admin, "North").await?;
    let south = team(db, admin, "South").await?;
    let (alice, alice_s) = user(db, admin, Role::SalesRep, None, 50).await?;
    let (_bob, bob_s) = user(db, admin, Role::SalesRep, Some(north), 50).await?;
    let (_carol, carol_s) = user(db, admin, Role::SalesRep, Some(north), 50).await?;
    let (_dave, dave_s) = user(db, admin, Role::SalesRep, Some(south), 50).await?;
    let (_mgr, mgr_s) = user(db, admin, Role::Manager, None, 50).await?;

    let alice_own = create(db, &alice_s, json!({})).await?;
    let assigned = create(db, admin, json!({"assigned_to_user_id": alice.id})).await?;
    let watched = create(db, admin, json!({})).await?;
    db.add_watcher(admin, watched.id, alice.id).await?;
    let listed_watcher = create(db, admin, json!({"watcher_ids": [alice.id]})).await?;
    let follow_up = create(
        db,
        admin,
        json!({"requires_follow_up": true, "follow_up_assigned_to": alice.id}),
    )
    .await?;
    let bob_own = create(db, &bob_s, json!({})).await?;
    let dave_own = create(db, &dave_s, json!({})).await?;
    let admin_own = create(db, admin, json!({})).await?;
    assert_eq!(bob_own.team_id, Some(north));
    assert_eq!(dave_own.team_id, Some(south));

    let alice_sees = set([
        alice_own.id,
        assigned.id,
        watched.id,
        listed_watcher.id,
        follow_up.id,
    ]);
    assert_eq!(ids(db, &alice_s, json!({})).await?, alice_sees);
    for id in &alice_sees {
        assert_eq!(db.get_log(&alice_s, *id).await?.id, *id);
    }
    for hidden in [bob_own.id, dave_own.id, admin_own.id] {
        assert_not_found(db.get_log(&alice_s, hidden).await);
    }

    // Carol sees her team's log though she neither made nor holds it.
    assert_eq!(ids(db, &carol_s, json!({})).await?, set([bob_own.id]));
    assert_eq!(db.get_log(&carol_s, bob_own.id).await?.id, bob_own.id);
    assert_not_found(db.get_log(&carol_s, dave_own.id).await);
    assert_eq!(ids(db, &dave_s, json!({})).await?, set([dave_own.id]));
    assert_not_found(db.get_log(&dave_s, bob_own.id).await);
    assert_not_found(db.log_history(&dave_s, bob_own.id).await);

    let everything = set([
        alice_own.id,
        assigned.id,
        watched.id,
        listed_watcher.id,
        follow_up.id,
        bob_own.id,
        dave_own.id,
        admin_own.id,
    ]);
    assert_eq!(ids(db, &mgr_s, json!({})).await?, everything);
    assert_eq!(ids(db, admin, json!({})).await?, everything);
    assert_eq!(db.get_log(&mgr_s, dave_own.id).await?.id, dave_own.id);

    // Unwatching takes the log out of sight again.
    db.remove_watcher(admin, watched.id, alice.id).await?;
    assert_not_found(db.get_log(&alice_s, watched.id).await);
    assert_not_found(db.remove_watcher(admin, watched.id, alice.id).await);
    Ok(())
}

conformance!(
    other_companies_logs_do_not_exist,
    roles_see_what_they_should
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: roles_see_what_they_should);
