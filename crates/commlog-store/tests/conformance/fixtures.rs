//! Test data: companies with their administrator, users with a role and team, logs written as
//! JSON over a default call, list queries, and matchers for the store's errors.

use anyhow::Result;
use commlog_domain::log::CommunicationLog;
use commlog_domain::{Actor, CommunicationLogPatch, NewCommunicationLog, Role, TeamInput, User};
use commlog_store::{LogPage, NewCompany, NewUserRecord, Scope, Store, StoreError, StoreResult};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Debug;
use uuid::Uuid;

/// A company and its first administrator.
pub struct Company {
    pub id: Uuid,
    pub admin_id: Uuid,
    pub admin: Scope,
}

pub async fn company(store: &Store, name: &str) -> Result<Company> {
    let created = store
        .create_company(&NewCompany {
            name: name.to_owned(),
            timezone: "UTC".into(),
            admin_email: unique_email("admin"),
            admin_full_name: format!("{name} Admin"),
            admin_password_hash: "not-a-real-hash".into(),
        })
        .await?;
    Ok(Company {
        id: created.company_id,
        admin_id: created.user_id,
        admin: Scope::admin(created.company_id, created.user_id),
    })
}

pub fn unique_email(who: &str) -> String {
    format!("{who}-{}@example.test", Uuid::now_v7().simple())
}

pub async fn team(store: &Store, admin: &Scope, name: &str) -> Result<Uuid> {
    let t = store
        .create_team(
            admin,
            &TeamInput {
                name: Some(name.into()),
                description: None,
            },
        )
        .await?;
    Ok(t.id)
}

/// A user of `admin`'s company with the scope they act in.
pub async fn user(
    store: &Store,
    admin: &Scope,
    role: Role,
    team_id: Option<Uuid>,
    capacity: i32,
) -> Result<(User, Scope)> {
    let u = store
        .create_user(
            admin,
            &NewUserRecord {
                email: unique_email(role.as_str()),
                full_name: format!("A {role}"),
                password_hash: "not-a-real-hash".into(),
                role,
                team_id,
                capacity,
                is_compliance: false,
            },
        )
        .await?;
    let scope = scope_of(&u);
    Ok((u, scope))
}

pub fn scope_of(u: &User) -> Scope {
    Scope::new(Actor {
        company_id: u.company_id,
        user_id: u.id,
        role: u.role,
        team_id: u.team_id,
        compliance: u.is_compliance,
        limited_to: None,
    })
}

/// A log body: a default inbound phone call with `overrides` laid over it.
pub fn log(overrides: Value) -> NewCommunicationLog {
    let mut body = json!({
        "communication_type": "call",
        "channel": "phone",
        "direction": "inbound",
        "start_time": "2026-03-01T10:00:00Z",
        "content": "Customer called about their account.",
    });
    if let (Some(b), Value::Object(o)) = (body.as_object_mut(), overrides) {
        b.extend(o);
    }
    serde_json::from_value(body).expect("a valid log body")
}

pub async fn create(store: &Store, scope: &Scope, overrides: Value) -> Result<CommunicationLog> {
    Ok(store.create_log(scope, log(overrides), None).await?.log)
}

pub fn patch(v: Value) -> CommunicationLogPatch {
    serde_json::from_value(v).expect("a valid patch")
}

pub fn params(v: Value) -> commlog_domain::list::LogListParams {
    serde_json::from_value(v).expect("valid list parameters")
}

pub async fn page(store: &Store, scope: &Scope, query: Value) -> Result<LogPage> {
    Ok(store.list_logs(scope, &params(query)).await?)
}

/// The ids of every log `query` matches (at most one page of 100), checking the exact count.
pub async fn ids(store: &Store, scope: &Scope, mut query: Value) -> Result<BTreeSet<Uuid>> {
    if let Some(q) = query.as_object_mut() {
        q.insert("page_size".into(), json!(100));
        q.insert("count".into(), json!("exact"));
    }
    let p = page(store, scope, query).await?;
    assert!(!p.has_more, "more than one page");
    assert_eq!(p.count, p.results.len() as i64, "count disagrees with rows");
    Ok(p.results.iter().map(|l| l.id).collect())
}

/// How many logs `scope` can see.
pub async fn count(store: &Store, scope: &Scope) -> Result<i64> {
    Ok(page(store, scope, json!({"count": "exact"})).await?.count)
}

pub fn set<const N: usize>(ids: [Uuid; N]) -> BTreeSet<Uuid> {
    ids.into_iter().collect()
}

/// The fields an `Invalid` error names; anything else fails the test.
#[track_caller]
pub fn invalid_fields<T: Debug>(r: StoreResult<T>) -> Vec<String> {
    match r {
        Err(StoreError::Invalid(e)) => e.errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The code of a `Refused` error; anything else fails the test.
#[track_caller]
pub fn refused_code<T: Debug>(r: StoreResult<T>) -> &'static str {
    match r {
        Err(StoreError::Refused { code, .. }) => code,
        other => panic!("expected Refused, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(r: StoreResult<T>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

#[track_caller]
pub fn assert_forbidden<T: Debug>(r: StoreResult<T>) {
    assert!(
        matches!(r, Err(StoreError::Forbidden(_))),
        "expected Forbidden, got {r:?}"
    );
}
