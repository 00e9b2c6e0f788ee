//! Reference data (blueprint §4): communication categories, channel configurations and tags.
//! Codes are unique per company (SPEC §3), never globally.

use super::audit;
use super::companies::check_name;
use super::{Db, rows};
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use commlog_domain::filters::{CategoryFilter, ChannelFilter};
use commlog_domain::records::*;
use commlog_domain::{ChannelType, Priority, new_id, time_fmt};
use serde_json::json;
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

const CATEGORY_COLUMNS: &str = "id, company_id, category_name, category_code, description, parent_category_id, is_active, \
    is_default, default_priority, auto_categorization, color, icon, created_at, updated_at";
const CHANNEL_COLUMNS: &str = "id, company_id, channel_name, channel_code, channel_type, description, is_active, is_default, \
    requires_authentication, api_endpoint, api_key, webhook_url, auto_transcription, sentiment_analysis, auto_categorization, \
    provider, webhook_secret IS NOT NULL AS webhook_configured, record_calls, created_at, updated_at";

impl Engine<Db> {
    pub(crate) async fn list_categories(
        &self,
        scope: &Scope,
        f: &CategoryFilter,
    ) -> StoreResult<Vec<Category>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CATEGORY_COLUMNS} FROM crm_communication_categories WHERE company_id = "
        ));
        qb.push_bind(scope.company_id());
        if let Some(a) = f.is_active {
            qb.push(" AND is_active = ").push_bind(a);
        }
        if let Some(p) = f.parent_category_id {
            qb.push(" AND parent_category_id = ").push_bind(p);
        }
        if let Some(d) = f.is_default {
            qb.push(" AND is_default = ").push_bind(d);
        }
        if let Some(a) = f.auto_categorization {
            qb.push(" AND auto_categorization = ").push_bind(a);
        }
        qb.push(" ORDER BY category_name, id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::category).collect()
    }

    pub(crate) async fn get_category(&self, scope: &Scope, id: Uuid) -> StoreResult<Category> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATEGORY_COLUMNS} FROM crm_communication_categories WHERE company_id = $1 AND id = $2"
        )))
        .bind(scope.company_id())
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        rows::category(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn create_category(
        &self,
        scope: &Scope,
        i: &CategoryInput,
    ) -> StoreResult<Category> {
        let name = check_name("category_name", i.category_name.as_deref().unwrap_or(""))?;
        let code = check_code("category_code", i.category_code.as_deref().unwrap_or(""))?;
        let color = check_color(i.color.clone().flatten())?;
        let id = new_id();
        if let Some(parent) = i.parent_category_id.flatten() {
            self.get_category(scope, parent).await.map_err(|_| {
                StoreError::invalid(
                    "parent_category_id",
                    "unknown_category",
                    "no such category in this company",
                )
            })?;
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO crm_communication_categories (company_id, id, category_name, category_code, description, parent_category_id, \
             is_active, is_default, default_priority, auto_categorization, color, icon, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(&name)
        .bind(&code)
        .bind(i.description.clone().flatten())
        .bind(i.parent_category_id.flatten())
        .bind(i.is_active.unwrap_or(true))
        .bind(i.is_default.unwrap_or(false))
        .bind(i.default_priority.unwrap_or(Priority::Normal).as_str())
        .bind(i.auto_categorization.unwrap_or(false))
        .bind(color)
        .bind(i.icon.clone().flatten())
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await
        .map_err(|e| code_conflict(e, "category_code"))?;
        audit::record(
            &mut tx,
            scope,
            "create",
            "category",
            Some(id),
            json!({"category_code": code}),
        )
        .await?;
        tx.commit().await?;
        self.get_category(scope, id).await
    }

    pub(crate) async fn update_category(
        &self,
        scope: &Scope,
        id: Uuid,
        i: &CategoryInput,
    ) -> StoreResult<Category> {
        let b = self.get_category(scope, id).await?;
        let name = i
            .category_name
            .as_deref()
            .map(|n| check_name("category_name", n))
            .transpose()?
            .unwrap_or(b.category_name);
        let code = i
            .category_code
            .as_deref()
            .map(|c| check_code("category_code", c))
            .transpose()?
            .unwrap_or(b.category_code);
        let color = match &i.color {
            Some(c) => check_color(c.clone())?,
            None => b.color,
        };
        let parent = i.parent_category_id.unwrap_or(b.parent_category_id);
        if parent == Some(id) {
            return Err(StoreError::invalid(
                "parent_category_id",
                "cycle",
                "a category cannot be its own parent",
            ));
        }
        if let Some(p) = parent {
            self.get_category(scope, p).await.map_err(|_| {
                StoreError::invalid(
                    "parent_category_id",
                    "unknown_category",
                    "no such category in this company",
                )
            })?;
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE crm_communication_categories SET category_name = $1, category_code = $2, description = $3, parent_category_id = $4, \
             is_active = $5, is_default = $6, default_priority = $7, auto_categorization = $8, color = $9, icon = $10, updated_at = $11 \
             WHERE company_id = $12 AND id = $13",
        )
        .bind(&name)
        .bind(&code)
        .bind(i.description.clone().unwrap_or(b.description))
        .bind(parent)
        .bind(i.is_active.unwrap_or(b.is_active))
        .bind(i.is_default.unwrap_or(b.is_default))
        .bind(i.default_priority.unwrap_or(b.default_priority).as_str())
        .bind(i.auto_categorization.unwrap_or(b.auto_categorization))
        .bind(color)
        .bind(i.icon.clone().unwrap_or(b.icon))
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| code_conflict(e, "category_code"))?;
        audit::record(
            &mut tx,
            scope,
            "update",
            "category",
            Some(id),
            json!({"is_active": i.is_active}),
        )
        .await?;
        tx.commit().await?;
        self.get_category(scope, id).await
    }

    pub(crate) async fn list_channels(
        &self,
        scope: &Scope,
        f: &ChannelFilter,
    ) -> StoreResult<Vec<ChannelConfiguration>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CHANNEL_COLUMNS} FROM crm_channel_configurations WHERE company_id = "
        ));
        qb.push_bind(scope.company_id());
        if let Some(a) = f.is_active {
            qb.push(" AND is_active = ").push_bind(a);
        }
        if let Some(t) = f.channel_type {
            qb.push(" AND channel_type = ").push_bind(t.as_str());
        }
        if let Some(d) = f.is_default {
            qb.push(" AND is_default = ").push_bind(d);
        }
        qb.push(" ORDER BY channel_name, id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(rows::channel).collect()
    }

    pub(crate) async fn get_channel(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> StoreResult<ChannelConfiguration> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM crm_channel_configurations WHERE company_id = $1 AND id = $2"
        )))
        .bind(scope.company_id())
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        rows::channel(&row.ok_or(StoreError::NotFound)?)
    }

    pub(crate) async fn create_channel(
        &self,
        scope: &Scope,
        i: &ChannelInput,
    ) -> StoreResult<ChannelConfiguration> {
        let name = check_name("channel_name", i.channel_name.as_deref().unwrap_or(""))?;
        let code = check_code("channel_code", i.channel_code.as_deref().unwrap_or(""))?;
        check_urls(i)?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO crm_channel_configurations (company_id, id, channel_name, channel_code, channel_type, description, is_active, \
             is_default, requires_authentication, api_endpoint, api_key, webhook_url, auto_transcription, sentiment_analysis, \
             auto_categorization, record_calls, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
        )
        .bind(scope.company_id())
        .bind(id)
        .bind(&name)
        .bind(&code)
        .bind(i.channel_type.unwrap_or(ChannelType::Other).as_str())
        .bind(i.description.clone().flatten())
        .bind(i.is_active.unwrap_or(true))
        .bind(i.is_default.unwrap_or(false))
        .bind(i.requires_authentication.unwrap_or(false))
        .bind(i.api_endpoint.clone().flatten())
        .bind(i.api_key.clone().flatten())
        .bind(i.webhook_url.clone().flatten())
        .bind(i.auto_transcription.unwrap_or(false))
        .bind(i.sentiment_analysis.unwrap_or(false))
        .bind(i.auto_categorization.unwrap_or(false))
        .bind(i.record_calls.unwrap_or(false))
        .bind(DbTime::from(time_fmt::now()))
        .execute(&mut *tx)
        .await
        .map_err(|e| code_conflict(e, "channel_code"))?;
        audit::record(
            &mut tx,
            scope,
            "create",
            "channel_configuration",
            Some(id),
            json!({"channel_code": code}),
        )
        .await?;
        tx.commit().await?;
        self.get_channel(scope, id).await
    }

    pub(crate) async fn update_channel(
        &self,
        scope: &Scope,
        id: Uuid,
        i: &ChannelInput,
    ) -> StoreResult<ChannelConfiguration> {
        let b = self.get_channel(scope, id).await?;
        if i.channel_code
            .as_ref()
            .is_some_and(|c| c != &b.channel_code)
        {
            return Err(StoreError::invalid(
                "channel_code",
                "immutable",
                "a channel's code cannot change: logs refer to it",
            ));
        }
        let name = i
            .channel_name
            .as_deref()
            .map(|n| check_name("channel_name", n))
            .transpose()?
            .unwrap_or(b.channel_name);
        check_urls(i)?;
        let mut tx = self.begin_write().await?;
        let key: Option<String> = sqlx::query_scalar(
            "SELECT api_key FROM crm_channel_configurations WHERE company_id = $1 AND id = $2",
        )
        .bind(scope.company_id())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE crm_channel_configurations SET channel_name = $1, channel_type = $2, description = $3, is_active = $4, is_default = $5, \
             requires_authentication = $6, api_endpoint = $7, api_key = $8, webhook_url = $9, auto_transcription = $10, \
             sentiment_analysis = $11, auto_categorization = $12, record_calls = $13, updated_at = $14 WHERE company_id = $15 AND id = $16",
        )
        .bind(&name)
        .bind(i.channel_type.unwrap_or(b.channel_type).as_str())
        .bind(i.description.clone().unwrap_or(b.description))
        .bind(i.is_active.unwrap_or(b.is_active))
        .bind(i.is_default.unwrap_or(b.is_default))
        .bind(i.requires_authentication.unwrap_or(b.requires_authentication))
        .bind(i.api_endpoint.clone().unwrap_or(b.api_endpoint))
        .bind(i.api_key.clone().unwrap_or(key))
        .bind(i.webhook_url.clone().unwrap_or(b.webhook_url))
        .bind(i.auto_transcription.unwrap_or(b.auto_transcription))
        .bind(i.sentiment_analysis.unwrap_or(b.sentiment_analysis))
        .bind(i.auto_categorization.unwrap_or(b.auto_categorization))
        .bind(i.record_calls.unwrap_or(b.record_calls))
        .bind(DbTime::from(time_fmt::now()))
        .bind(scope.company_id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changes = json!({"is_active": i.is_active, "api_key_changed": i.api_key.is_some(), "record_calls": i.record_calls});
        audit::record(
            &mut tx,
            scope,
            "update",
            "channel_configuration",
            Some(id),
            changes,
        )
        .await?;
        tx.commit().await?;
        self.get_channel(scope, id).await
    }

    pub(crate) async fn list_tags(&self, scope: &Scope) -> StoreResult<Vec<Tag>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.color, (SELECT count(*) FROM crm_communication_log_tags lt WHERE lt.company_id = t.company_id AND lt.tag_id = t.id) AS usage_count \
             FROM tags t WHERE t.company_id = $1 ORDER BY t.name",
        )
        .bind(scope.company_id())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Tag {
                    id: rows::get(r, "id")?,
                    name: rows::get(r, "name")?,
                    color: rows::get(r, "color")?,
                    usage_count: rows::get(r, "usage_count")?,
                })
            })
            .collect()
    }

    pub(crate) async fn create_tag(
        &self,
        scope: &Scope,
        name: &str,
        color: Option<&str>,
    ) -> StoreResult<Tag> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(StoreError::invalid(
                "name",
                "invalid_length",
                "a tag is 1 to 50 characters",
            ));
        }
        let color = check_color(color.map(str::to_owned))?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO tags (company_id, id, name, color, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(scope.company_id())
            .bind(id)
            .bind(name)
            .bind(&color)
            .bind(DbTime::from(time_fmt::now()))
            .execute(&mut *tx)
            .await
            .map_err(|e| code_conflict(e, "name"))?;
        audit::record(
            &mut tx,
            scope,
            "create",
            "tag",
            Some(id),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(Tag {
            id,
            name: name.to_owned(),
            color,
            usage_count: 0,
        })
    }
}

fn check_code(field: &str, code: &str) -> StoreResult<String> {
    let c = code.trim();
    let ok = !c.is_empty()
        && c.len() <= 20
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-');
    if !ok {
        return Err(StoreError::invalid(
            field,
            "invalid_code",
            format!("{field} must be 1 to 20 characters of a-z, 0-9, _ and -"),
        ));
    }
    Ok(c.to_owned())
}

fn check_color(color: Option<String>) -> StoreResult<Option<String>> {
    match color {
        Some(c)
            if !(c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|x| x.is_ascii_hexdigit())) =>
        {
            Err(StoreError::invalid(
                "color",
                "invalid_color",
                "color must be a hex code like #1a2b3c",
            ))
        }
        other => Ok(other),
    }
}

fn check_urls(i: &ChannelInput) -> StoreResult<()> {
    for (field, value) in [
        ("api_endpoint", &i.api_endpoint),
        ("webhook_url", &i.webhook_url),
    ] {
        if let Some(Some(url)) = value {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 500
                && !url.contains(char::is_whitespace);
            if !ok {
                return Err(StoreError::invalid(
                    field,
                    "invalid_url",
                    format!("{field} must be an http(s) URL of at most 500 characters"),
                ));
            }
        }
    }
    if i.api_key
        .as_ref()
        .is_some_and(|k| k.as_ref().is_some_and(|k| k.len() > 255))
    {
        return Err(StoreError::invalid(
            "api_key",
            "too_long",
            "api_key is at most 255 characters",
        ));
    }
    Ok(())
}

/// A uniqueness conflict on a code becomes a 409 naming the field.
fn code_conflict(e: sqlx::Error, field: &str) -> StoreError {
    match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::Conflict {
            constraint: field.into(),
            message: format!("{field} is already in use in this company"),
        },
        other => other,
    }
}
