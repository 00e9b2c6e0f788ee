//! Schema migrations: an ordered list of SQL files per engine, embedded in the binary. They are
//! applied by `engine/migrations.rs`, once each, in their own transaction.

/// Migration names, the same on both engines (a test checks the schemas stay in lockstep).
pub const MIGRATION_NAMES: &[&str] = &["0001_core", "0002_identity"];

pub(crate) const POSTGRES: &[(&str, &str)] = &[
    (
        "0001_core",
        include_str!("../migrations/postgres/0001_core.sql"),
    ),
    (
        "0002_identity",
        include_str!("../migrations/postgres/0002_identity.sql"),
    ),
];
pub(crate) const SQLITE: &[(&str, &str)] = &[
    (
        "0001_core",
        include_str!("../migrations/sqlite/0001_core.sql"),
    ),
    (
        "0002_identity",
        include_str!("../migrations/sqlite/0002_identity.sql"),
    ),
];
