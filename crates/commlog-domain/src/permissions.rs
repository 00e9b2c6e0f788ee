//! The access matrix of SPEC §4 / blueprint §10.1 as one table: which role may do what, and how
//! far a role's sight reaches. Every endpoint asks [`Actor::can`]; every query is narrowed by
//! [`Actor::visibility`].

use crate::Role;
use uuid::Uuid;

/// Something a user may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadLogs,
    CreateLog,
    /// Update logs the actor can see.
    UpdateLog,
    /// Assign logs the actor can see.
    AssignLog,
    EscalateLog,
    DeleteLog,
    ReadAttachments,
    CreateAttachments,
    ReadReferenceData,
    ManageCategories,
    ManageChannels,
    ManageTags,
    /// Create and update customers and contacts.
    EditCustomers,
    DeleteCustomers,
    ReadTeamAnalytics,
    ReadCompanyAnalytics,
    ExportData,
    ReadUsers,
    ManageUsers,
    ManageTeams,
    ReadAudit,
    ManageRetention,
    ManageLegalHold,
    SubjectRequests,
    ManageIntegrations,
    ManageBackups,
    /// See personal data (addresses, numbers, card and account numbers) unmasked.
    ViewPii,
}

use Permission::*;

/// Every permission with its API spelling (used to scope API tokens).
pub const PERMISSION_NAMES: &[(Permission, &str)] = &[
    (ReadLogs, "read_logs"),
    (CreateLog, "create_log"),
    (UpdateLog, "update_log"),
    (AssignLog, "assign_log"),
    (EscalateLog, "escalate_log"),
    (DeleteLog, "delete_log"),
    (ReadAttachments, "read_attachments"),
    (CreateAttachments, "create_attachments"),
    (ReadReferenceData, "read_reference_data"),
    (ManageCategories, "manage_categories"),
    (ManageChannels, "manage_channels"),
    (ManageTags, "manage_tags"),
    (EditCustomers, "edit_customers"),
    (DeleteCustomers, "delete_customers"),
    (ReadTeamAnalytics, "read_team_analytics"),
    (ReadCompanyAnalytics, "read_company_analytics"),
    (ExportData, "export_data"),
    (ReadUsers, "read_users"),
    (ManageUsers, "manage_users"),
    (ManageTeams, "manage_teams"),
    (ReadAudit, "read_audit"),
    (ManageRetention, "manage_retention"),
    (ManageLegalHold, "manage_legal_hold"),
    (SubjectRequests, "subject_requests"),
    (ManageIntegrations, "manage_integrations"),
    (ManageBackups, "manage_backups"),
    (ViewPii, "view_pii"),
];

impl Permission {
    pub fn as_str(self) -> &'static str {
        PERMISSION_NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("unknown", |(_, n)| n)
    }

    pub fn parse(name: &str) -> Option<Self> {
        PERMISSION_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(p, _)| *p)
    }
}

/// What every role may do (sales rep is the floor; each role above adds to it).
const SALES_REP: &[Permission] = &[
    ReadLogs,
    CreateLog,
    UpdateLog,
    AssignLog,
    ReadAttachments,
    CreateAttachments,
    ReadReferenceData,
    EditCustomers,
    ReadUsers,
    ManageTags,
    // Everyone by default; a company masks it for roles (`mask_pii_for_roles`), and an API
    // token without it sees masked values.
    ViewPii,
];
const TEAM_LEAD_EXTRA: &[Permission] = &[EscalateLog, ReadTeamAnalytics];
const MANAGER_EXTRA: &[Permission] = &[
    DeleteLog,
    ManageCategories,
    ManageChannels,
    ReadCompanyAnalytics,
    ExportData,
    DeleteCustomers,
];
const ADMIN_EXTRA: &[Permission] = &[
    ManageUsers,
    ManageTeams,
    ReadAudit,
    ManageIntegrations,
    ManageBackups,
    ManageRetention,
];
/// The compliance capability: read-only everything plus audit and data-protection duties.
const COMPLIANCE: &[Permission] = &[
    ReadLogs,
    ReadAttachments,
    ReadReferenceData,
    ReadUsers,
    ReadTeamAnalytics,
    ReadCompanyAnalytics,
    ReadAudit,
    ExportData,
    ManageRetention,
    ManageLegalHold,
    SubjectRequests,
    ViewPii,
];

/// Whether `role` (with or without the compliance capability) grants `p`.
pub fn role_allows(role: Role, compliance: bool, p: Permission) -> bool {
    let tiers: &[&[Permission]] = match role {
        Role::SalesRep => &[SALES_REP],
        Role::TeamLead => &[SALES_REP, TEAM_LEAD_EXTRA],
        Role::Manager => &[SALES_REP, TEAM_LEAD_EXTRA, MANAGER_EXTRA],
        Role::Admin => &[SALES_REP, TEAM_LEAD_EXTRA, MANAGER_EXTRA, ADMIN_EXTRA],
    };
    tiers.iter().any(|t| t.contains(&p)) || (compliance && COMPLIANCE.contains(&p))
}

/// How far an actor's sight over communication logs reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every log of the company.
    Company,
    /// Logs assigned to, created by or watched by the user, and the logs of their team.
    OwnAndTeam {
        user_id: Uuid,
        team_id: Option<Uuid>,
    },
}

/// The authenticated caller of a store or API operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub compliance: bool,
    /// For API tokens: the only permissions granted (within the role's); `None` for people.
    pub limited_to: Option<Vec<Permission>>,
}

impl Actor {
    pub fn can(&self, p: Permission) -> bool {
        role_allows(self.role, self.compliance, p)
            && self.limited_to.as_ref().is_none_or(|l| l.contains(&p))
    }

    pub fn visibility(&self) -> Visibility {
        match self.role {
            Role::Manager | Role::Admin => Visibility::Company,
            _ if self.compliance => Visibility::Company,
            Role::SalesRep | Role::TeamLead => Visibility::OwnAndTeam {
                user_id: self.user_id,
                team_id: self.team_id,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Permission] = &[
        ReadLogs,
        CreateLog,
        UpdateLog,
        AssignLog,
        EscalateLog,
        DeleteLog,
        ReadAttachments,
        CreateAttachments,
        ReadReferenceData,
        ManageCategories,
        ManageChannels,
        ManageTags,
        EditCustomers,
        DeleteCustomers,
        ReadTeamAnalytics,
        ReadCompanyAnalytics,
        ExportData,
        ReadUsers,
        ManageUsers,
        ManageTeams,
        ReadAudit,
        ManageRetention,
        ManageLegalHold,
        SubjectRequests,
        ManageIntegrations,
        ManageBackups,
        ViewPii,
    ];

    /// The whole matrix, written out: role → permissions it grants. Changing a grant means
    /// changing this table on purpose.
    fn expected(role: Role) -> &'static [Permission] {
        match role {
            Role::SalesRep => &[
                ReadLogs,
                CreateLog,
                UpdateLog,
                AssignLog,
                ReadAttachments,
                CreateAttachments,
                ReadReferenceData,
                ManageTags,
                EditCustomers,
                ReadUsers,
                ViewPii,
            ],
            Role::TeamLead => &[
                ReadLogs,
                CreateLog,
                UpdateLog,
                AssignLog,
                EscalateLog,
                ReadAttachments,
                CreateAttachments,
                ReadReferenceData,
                ManageTags,
                EditCustomers,
                ReadTeamAnalytics,
                ReadUsers,
                ViewPii,
            ],
            Role::Manager => &[
                ReadLogs,
                CreateLog,
                UpdateLog,
                AssignLog,
                EscalateLog,
                DeleteLog,
                ReadAttachments,
                CreateAttachments,
                ReadReferenceData,
                ManageCategories,
                ManageChannels,
                ManageTags,
                EditCustomers,
                DeleteCustomers,
                ReadTeamAnalytics,
                ReadCompanyAnalytics,
                ExportData,
                ReadUsers,
                ViewPii,
            ],
            Role::Admin => &[
                ReadLogs,
                CreateLog,
                UpdateLog,
                AssignLog,
                EscalateLog,
                DeleteLog,
                ReadAttachments,
                CreateAttachments,
                ReadReferenceData,
                ManageCategories,
                ManageChannels,
                ManageTags,
                EditCustomers,
                DeleteCustomers,
                ReadTeamAnalytics,
                ReadCompanyAnalytics,
                ExportData,
                ReadUsers,
                ManageUsers,
                ManageTeams,
                ReadAudit,
                ManageRetention,
                ManageIntegrations,
                ManageBackups,
                ViewPii,
            ],
        }
    }

    #[test]
    fn the_matrix_is_exactly_as_written() {
        for role in Role::ALL {
            for p in ALL {
                assert_eq!(
                    role_allows(*role, false, *p),
                    expected(*role).contains(p),
                    "{role} {p:?}"
                );
            }
        }
    }

    #[test]
    fn compliance_adds_read_everything_and_data_protection_but_no_writes() {
        for p in [
            ReadAudit,
            ManageLegalHold,
            SubjectRequests,
            ReadCompanyAnalytics,
        ] {
            assert!(role_allows(Role::SalesRep, true, p));
        }
        for p in [CreateLog, DeleteLog, ManageUsers, ManageChannels] {
            assert_eq!(
                role_allows(Role::SalesRep, true, p),
                role_allows(Role::SalesRep, false, p)
            );
        }
    }

    #[test]
    fn every_permission_has_a_unique_name() {
        for p in ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(PERMISSION_NAMES.len(), ALL.len());
    }

    #[test]
    fn a_token_gets_no_more_than_its_list_and_its_role() {
        let a = Actor {
            company_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: Role::Manager,
            team_id: None,
            compliance: false,
            limited_to: Some(vec![CreateLog, ManageUsers]),
        };
        assert!(a.can(CreateLog));
        assert!(!a.can(ReadLogs), "not in the list");
        assert!(!a.can(ManageUsers), "in the list but beyond the role");
    }

    #[test]
    fn sight_follows_the_role() {
        let mut a = Actor {
            company_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: Role::SalesRep,
            team_id: None,
            compliance: false,
            limited_to: None,
        };
        assert!(matches!(a.visibility(), Visibility::OwnAndTeam { .. }));
        a.role = Role::Manager;
        assert_eq!(a.visibility(), Visibility::Company);
        a.role = Role::TeamLead;
        a.compliance = true;
        assert_eq!(a.visibility(), Visibility::Company);
    }
}
