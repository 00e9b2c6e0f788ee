//! The audit trail's hash chain. Each entry's hash covers the previous entry's hash and every
//! field of the entry, so editing, deleting or reordering any sealed entry breaks the chain
//! from that point on, and `commlog audit verify` names the first broken link.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

/// The hash that starts every company's chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything an entry's hash covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedFields<'a> {
    pub company_id: Uuid,
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub actor_user_id: Option<Uuid>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<Uuid>,
    /// Serialised with sorted keys (serde_json's default map), so the text is canonical.
    pub changes: &'a serde_json::Value,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// SHA-256 (hex) of the previous hash and the entry, with unambiguous field separators.
pub fn entry_hash(prev_hash: &str, f: &ChainedFields<'_>) -> String {
    let mut h = Sha256::new();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "\u{1}".into());
    let parts = [
        prev_hash.to_owned(),
        f.company_id.to_string(),
        f.seq.to_string(),
        f.id.to_string(),
        crate::time_fmt::normalize(f.occurred_at)
            .unix_timestamp_nanos()
            .to_string(),
        opt(f.actor_user_id.map(|u| u.to_string())),
        f.action.to_owned(),
        f.entity_type.to_owned(),
        opt(f.entity_id.map(|u| u.to_string())),
        f.changes.to_string(),
        opt(f.ip.map(str::to_owned)),
        opt(f.user_agent.map(str::to_owned)),
        opt(f.request_id.map(str::to_owned)),
    ];
    for p in parts {
        // Length-prefixed, so no two different entries can produce the same byte stream.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(changes: &serde_json::Value) -> ChainedFields<'_> {
        ChainedFields {
            company_id: Uuid::nil(),
            seq: 1,
            id: Uuid::nil(),
            occurred_at: time::macros::datetime!(2026-01-01 0:00 UTC),
            actor_user_id: None,
            action: "update",
            entity_type: "communication_log",
            entity_id: None,
            changes,
            ip: Some("10.0.0.1"),
            user_agent: None,
            request_id: None,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let c = json!({"priority": {"old": "low", "new": "high"}});
        let base = entry_hash(GENESIS, &fields(&c));
        assert_eq!(base, entry_hash(GENESIS, &fields(&c)), "deterministic");
        let c2 = json!({"priority": {"old": "low", "new": "urgent"}});
        assert_ne!(base, entry_hash(GENESIS, &fields(&c2)));
        let mut f = fields(&c);
        f.seq = 2;
        assert_ne!(base, entry_hash(GENESIS, &f));
        assert_ne!(base, entry_hash("ff", &fields(&c)));
        let mut f = fields(&c);
        f.ip = None;
        f.user_agent = Some("10.0.0.1");
        assert_ne!(base, entry_hash(GENESIS, &f), "fields cannot trade places");
    }
}
