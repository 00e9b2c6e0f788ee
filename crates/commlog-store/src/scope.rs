//! Who is asking, and from where: every store call carries this.

use commlog_domain::{Actor, Role};
use uuid::Uuid;

/// Where a request came from, recorded in the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// The caller of a store operation: its company bounds every query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub actor: Actor,
    pub meta: RequestMeta,
}

impl Scope {
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            meta: RequestMeta::default(),
        }
    }

    pub fn company_id(&self) -> Uuid {
        self.actor.company_id
    }

    pub fn user_id(&self) -> Uuid {
        self.actor.user_id
    }

    /// A company-wide administrative scope acting as `user_id` (CLI commands, seeding).
    pub fn admin(company_id: Uuid, user_id: Uuid) -> Self {
        Self::new(Actor {
            company_id,
            user_id,
            role: Role::Admin,
            team_id: None,
            compliance: false,
            limited_to: None,
        })
    }
}
