//! Reference data: `/api/communication-categories/`, `/api/channel-configurations/` and
//! `/api/tags/`. Everyone reads them; managers and admins change them.

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commlog_domain::Permission;
use commlog_domain::filters::{CategoryFilter, ChannelFilter};
use commlog_domain::records::*;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Communication categories (blueprint §9.1 filters).
#[utoipa::path(get, path = "/api/communication-categories/", tag = "reference-data", params(CategoryFilter),
    responses((status = 200, body = Vec<Category>)), security(("bearer" = [])))]
pub async fn list_communication_categories(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<CategoryFilter>,
) -> ApiResult<Json<Vec<Category>>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(app.store.list_categories(&auth.scope, &f).await?))
}

/// Create a category (managers and admins).
#[utoipa::path(post, path = "/api/communication-categories/", tag = "reference-data", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_communication_category(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<CategoryInput>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    auth.require(Permission::ManageCategories)?;
    Ok((
        StatusCode::CREATED,
        Json(app.store.create_category(&auth.scope, &i).await?),
    ))
}

/// One category.
#[utoipa::path(get, path = "/api/communication-categories/{id}/", tag = "reference-data", params(("id" = Uuid, Path)),
    responses((status = 200, body = Category), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_communication_category(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Category>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(app.store.get_category(&auth.scope, id).await?))
}

/// Change or deactivate (`is_active: false`) a category.
#[utoipa::path(patch, path = "/api/communication-categories/{id}/", tag = "reference-data", params(("id" = Uuid, Path)), request_body = CategoryInput,
    responses((status = 200, body = Category), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_communication_category(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(i): ApiJson<CategoryInput>,
) -> ApiResult<Json<Category>> {
    auth.require(Permission::ManageCategories)?;
    Ok(Json(app.store.update_category(&auth.scope, id, &i).await?))
}

/// Channel configurations (blueprint §9.1 filters). API keys are never returned.
#[utoipa::path(get, path = "/api/channel-configurations/", tag = "reference-data", params(ChannelFilter),
    responses((status = 200, body = Vec<ChannelConfiguration>)), security(("bearer" = [])))]
pub async fn list_channel_configurations(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<ChannelFilter>,
) -> ApiResult<Json<Vec<ChannelConfiguration>>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(app.store.list_channels(&auth.scope, &f).await?))
}

/// Configure a new channel (managers and admins).
#[utoipa::path(post, path = "/api/channel-configurations/", tag = "reference-data", request_body = ChannelInput,
    responses((status = 201, body = ChannelConfiguration), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_channel_configuration(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<ChannelInput>,
) -> ApiResult<(StatusCode, Json<ChannelConfiguration>)> {
    auth.require(Permission::ManageChannels)?;
    Ok((
        StatusCode::CREATED,
        Json(app.store.create_channel(&auth.scope, &i).await?),
    ))
}

/// One channel configuration.
#[utoipa::path(get, path = "/api/channel-configurations/{id}/", tag = "reference-data", params(("id" = Uuid, Path)),
    responses((status = 200, body = ChannelConfiguration), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_channel_configuration(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ChannelConfiguration>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(app.store.get_channel(&auth.scope, id).await?))
}

/// Change or deactivate a channel configuration.
#[utoipa::path(patch, path = "/api/channel-configurations/{id}/", tag = "reference-data", params(("id" = Uuid, Path)), request_body = ChannelInput,
    responses((status = 200, body = ChannelConfiguration), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_channel_configuration(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(i): ApiJson<ChannelInput>,
) -> ApiResult<Json<ChannelConfiguration>> {
    auth.require(Permission::ManageChannels)?;
    Ok(Json(app.store.update_channel(&auth.scope, id, &i).await?))
}

/// `POST /api/tags/`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagInput {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

/// The company's tags with how often each is used.
#[utoipa::path(get, path = "/api/tags/", tag = "reference-data", responses((status = 200, body = Vec<Tag>)), security(("bearer" = [])))]
pub async fn list_tags(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Tag>>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(app.store.list_tags(&auth.scope).await?))
}

/// Create a tag (tags named on a log are created automatically too).
#[utoipa::path(post, path = "/api/tags/", tag = "reference-data", request_body = TagInput,
    responses((status = 201, body = Tag), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_tag(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<TagInput>,
) -> ApiResult<(StatusCode, Json<Tag>)> {
    auth.require(Permission::ManageTags)?;
    Ok((
        StatusCode::CREATED,
        Json(
            app.store
                .create_tag(&auth.scope, &i.name, i.color.as_deref())
                .await?,
        ),
    ))
}
