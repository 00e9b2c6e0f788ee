//! Query parameters of the smaller list endpoints.

use crate::time_fmt::rfc3339;
use crate::{ChannelType, Role};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use uuid::Uuid;

/// `GET /api/communication-categories/` (blueprint §9.1).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CategoryFilter {
    pub is_active: Option<bool>,
    pub parent_category_id: Option<Uuid>,
    pub is_default: Option<bool>,
    pub auto_categorization: Option<bool>,
}

/// `GET /api/channel-configurations/` (blueprint §9.1).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChannelFilter {
    pub is_active: Option<bool>,
    pub channel_type: Option<ChannelType>,
    pub is_default: Option<bool>,
}

/// `GET /api/customers/` and `GET /api/contacts/`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeopleFilter {
    /// Case-insensitive match on name, email or phone.
    pub search: Option<String>,
    /// Contacts of one customer.
    pub customer_id: Option<Uuid>,
    /// Exact email address (contacts) or domain (customers).
    pub email: Option<String>,
    pub external_ref: Option<String>,
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

/// `GET /api/users/`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub team_id: Option<Uuid>,
    pub is_active: Option<bool>,
}

/// `GET /api/communication-attachments/` (blueprint §9.1).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttachmentFilter {
    pub communication_log_id: Option<Uuid>,
    pub file_type: Option<String>,
    pub uploaded_by_user_id: Option<Uuid>,
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_after: Option<OffsetDateTime>,
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<OffsetDateTime>,
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

/// Page arithmetic shared by the small lists: (limit, offset). `page` is 1–100,000 and
/// `page_size` 1–100 (default 50); anything else is refused, never silently changed.
pub fn limit_offset(
    page: Option<u32>,
    page_size: Option<u32>,
) -> Result<(i64, i64), crate::ValidationErrors> {
    let mut e = crate::ValidationErrors::new();
    let size = page_size.unwrap_or(50);
    if !(1..=100).contains(&size) {
        e.add(
            "page_size",
            "out_of_range",
            "page_size must be between 1 and 100",
        );
    }
    let page = page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        e.add("page", "out_of_range", "page must be between 1 and 100000");
    }
    e.into_result()?;
    Ok((i64::from(size), (i64::from(page) - 1) * i64::from(size)))
}

/// `GET /api/audit/`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    /// e.g. `create`, `update`, `delete`, `login`, `login_failed`, `permission_denied`, `read_transcript`.
    pub action: Option<String>,
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub occurred_after: Option<OffsetDateTime>,
    #[serde(default, with = "rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub occurred_before: Option<OffsetDateTime>,
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}
