//! The company a store call acts for, carried as a task-local from [`crate::Store`]'s dispatch
//! to the PostgreSQL connection hooks, which set `commlog.company_id` on every connection the
//! call acquires. Row-level security policies (migration 0003) compare every tenant row with
//! it, so a query that forgot its `company_id` filter still cannot see another company's rows.
//! Nothing set means nothing visible: the wall fails closed.

use crate::Scope;
use uuid::Uuid;

/// Whose rows a store call may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// One company's rows (every request on behalf of a user or token).
    Company(Uuid),
    /// Every company's rows: system work such as sign-in lookup by email, migrations and the
    /// audit sealer.
    All,
}

impl From<&Scope> for Tenant {
    fn from(scope: &Scope) -> Self {
        Self::Company(scope.company_id())
    }
}

impl From<Uuid> for Tenant {
    fn from(company: Uuid) -> Self {
        Self::Company(company)
    }
}

impl Tenant {
    /// The value of `commlog.company_id` that the policies read.
    pub(crate) fn setting(self) -> String {
        match self {
            Self::Company(id) => id.to_string(),
            Self::All => "*".to_owned(),
        }
    }
}

tokio::task_local! {
    static TENANT: Tenant;
}

/// Runs `f` acting for `tenant`.
pub(crate) async fn within<F: std::future::Future>(tenant: Tenant, f: F) -> F::Output {
    TENANT.scope(tenant, f).await
}

/// The tenant of the running store call, as the setting's value ("" outside any call).
pub(crate) fn current_setting() -> String {
    TENANT.try_with(|t| t.setting()).unwrap_or_default()
}
