//! Schema migrations: an ordered list of SQL files per engine, embedded in the binary. They are
//! applied by `engine/migrations.rs`, once each, in their own transaction.

/// Embeds `migrations/<engine>/<name>.sql` for each name, in order.
macro_rules! migrations {
    ($engine:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../migrations/", $engine, "/", $name, ".sql")))),+]
    };
}

/// Migration names, the same on both engines (a test checks the schemas stay in lockstep).
pub const MIGRATION_NAMES: &[&str] = &[
    "0001_core",
    "0002_identity",
    "0003_tenant_rls",
    "0004_tenant_policies",
    "0005_search_plan",
    "0006_capture",
    "0007_capture_jobs",
    "0008_email",
    "0009_mail_accounts",
    "0010_processing",
    "0011_analytics",
    "0012_events",
    "0013_analytics_company",
    "0014_compliance",
    "0015_encryption",
    "0016_consent",
    "0017_open_items",
    "0018_analytics_indexes",
    "0019_analytics_at_commit",
];

#[rustfmt::skip]
pub(crate) const POSTGRES: &[(&str, &str)] = migrations!("postgres":
    "0001_core", "0002_identity", "0003_tenant_rls", "0004_tenant_policies", "0005_search_plan", "0006_capture", "0007_capture_jobs", "0008_email", "0009_mail_accounts", "0010_processing", "0011_analytics", "0012_events", "0013_analytics_company", "0014_compliance", "0015_encryption", "0016_consent", "0017_open_items", "0018_analytics_indexes", "0019_analytics_at_commit");
#[rustfmt::skip]
pub(crate) const SQLITE: &[(&str, &str)] = migrations!("sqlite":
    "0001_core", "0002_identity", "0003_tenant_rls", "0004_tenant_policies", "0005_search_plan", "0006_capture", "0007_capture_jobs", "0008_email", "0009_mail_accounts", "0010_processing", "0011_analytics", "0012_events", "0013_analytics_company", "0014_compliance", "0015_encryption", "0016_consent", "0017_open_items", "0018_analytics_indexes", "0019_analytics_at_commit");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_list_the_same_migrations_in_the_same_order() {
        fn names(list: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            list.iter().map(|(n, _)| *n).collect()
        }
        assert_eq!(names(POSTGRES), MIGRATION_NAMES);
        assert_eq!(names(SQLITE), MIGRATION_NAMES);
    }
}
