//! People: `/api/users/`, `/api/teams/` (admins manage), `/api/customers/` and
//! `/api/contacts/` (everyone who logs communications keeps them current).

use crate::auth::{Auth, check_password_policy, hash_password};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commlog_domain::Permission;
use commlog_domain::filters::{PeopleFilter, UserFilter};
use commlog_domain::records::*;
use commlog_store::NewUserRecord;
use uuid::Uuid;

/// The users of the caller's company.
#[utoipa::path(get, path = "/api/users/", tag = "people", params(UserFilter), responses((status = 200, body = Vec<User>)), security(("bearer" = [])))]
pub async fn list_users(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<UserFilter>,
) -> ApiResult<Json<Vec<User>>> {
    auth.require(Permission::ReadUsers)?;
    Ok(Json(app.store.list_users(&auth.scope, &f).await?))
}

/// Create a user (admins).
#[utoipa::path(post, path = "/api/users/", tag = "people", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_user(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(n): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    auth.require(Permission::ManageUsers)?;
    check_password_policy(&n.password)?;
    let record = NewUserRecord {
        email: n.email,
        full_name: n.full_name.unwrap_or_default(),
        password_hash: hash_password(&n.password)?,
        role: n.role,
        team_id: n.team_id,
        capacity: n.capacity.unwrap_or(50),
        is_compliance: n.is_compliance,
    };
    Ok((
        StatusCode::CREATED,
        Json(app.store.create_user(&auth.scope, &record).await?),
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_user(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<User>> {
    auth.require(Permission::ReadUsers)?;
    Ok(Json(app.store.get_user(&auth.scope, id).await?))
}

/// Change a user's role, team, capacity or status (admins).
#[utoipa::path(patch, path = "/api/users/{id}/", tag = "people", params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_user(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(p): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    auth.require(Permission::ManageUsers)?;
    Ok(Json(app.store.update_user(&auth.scope, id, &p).await?))
}

/// The teams of the caller's company.
#[utoipa::path(get, path = "/api/teams/", tag = "people", responses((status = 200, body = Vec<Team>)), security(("bearer" = [])))]
pub async fn list_teams(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Team>>> {
    auth.require(Permission::ReadUsers)?;
    Ok(Json(app.store.list_teams(&auth.scope).await?))
}

/// Create a team (admins).
#[utoipa::path(post, path = "/api/teams/", tag = "people", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_team(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    auth.require(Permission::ManageTeams)?;
    Ok((
        StatusCode::CREATED,
        Json(app.store.create_team(&auth.scope, &i).await?),
    ))
}

/// One team.
#[utoipa::path(get, path = "/api/teams/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 200, body = Team), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_team(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Team>> {
    auth.require(Permission::ReadUsers)?;
    Ok(Json(app.store.get_team(&auth.scope, id).await?))
}

/// Rename or describe a team (admins).
#[utoipa::path(patch, path = "/api/teams/{id}/", tag = "people", params(("id" = Uuid, Path)), request_body = TeamInput,
    responses((status = 200, body = Team), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_team(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(i): ApiJson<TeamInput>,
) -> ApiResult<Json<Team>> {
    auth.require(Permission::ManageTeams)?;
    Ok(Json(app.store.update_team(&auth.scope, id, &i).await?))
}

/// Delete an empty team (admins).
#[utoipa::path(delete, path = "/api/teams/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_team(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageTeams)?;
    app.store.delete_team(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Customers, searchable by name or email domain.
#[utoipa::path(get, path = "/api/customers/", tag = "people", params(PeopleFilter), responses((status = 200, body = Vec<Customer>)), security(("bearer" = [])))]
pub async fn list_customers(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<PeopleFilter>,
) -> ApiResult<Json<Vec<Customer>>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(app.store.list_customers(&auth.scope, &f).await?))
}

/// Create a customer, or update the one with the same `external_ref` (upsert: 200 instead of 201).
#[utoipa::path(post, path = "/api/customers/", tag = "people", request_body = CustomerInput,
    responses((status = 201, body = Customer), (status = 200, body = Customer), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_customer(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<CustomerInput>,
) -> ApiResult<(StatusCode, Json<Customer>)> {
    auth.require(Permission::EditCustomers)?;
    let (c, created) = app.store.upsert_customer(&auth.scope, &i).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(c),
    ))
}

/// One customer.
#[utoipa::path(get, path = "/api/customers/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 200, body = Customer), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_customer(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Customer>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(app.store.get_customer(&auth.scope, id).await?))
}

/// Change a customer.
#[utoipa::path(patch, path = "/api/customers/{id}/", tag = "people", params(("id" = Uuid, Path)), request_body = CustomerInput,
    responses((status = 200, body = Customer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_customer(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(i): ApiJson<CustomerInput>,
) -> ApiResult<Json<Customer>> {
    auth.require(Permission::EditCustomers)?;
    Ok(Json(app.store.update_customer(&auth.scope, id, &i).await?))
}

/// Delete a customer no communication refers to (managers and admins).
#[utoipa::path(delete, path = "/api/customers/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_customer(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::DeleteCustomers)?;
    app.store.delete_customer(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Contacts, by customer, name, email or phone.
#[utoipa::path(get, path = "/api/contacts/", tag = "people", params(PeopleFilter), responses((status = 200, body = Vec<Contact>)), security(("bearer" = [])))]
pub async fn list_contacts(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(f): ApiQuery<PeopleFilter>,
) -> ApiResult<Json<Vec<Contact>>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(app.store.list_contacts(&auth.scope, &f).await?))
}

/// Create a contact with email addresses and phone numbers (normalised to E.164).
#[utoipa::path(post, path = "/api/contacts/", tag = "people", request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_contact(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(i): ApiJson<ContactInput>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    auth.require(Permission::EditCustomers)?;
    Ok((
        StatusCode::CREATED,
        Json(app.store.create_contact(&auth.scope, &i).await?),
    ))
}

/// One contact.
#[utoipa::path(get, path = "/api/contacts/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_contact(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Contact>> {
    auth.require(Permission::ReadLogs)?;
    Ok(Json(app.store.get_contact(&auth.scope, id).await?))
}

/// Change a contact (address lists replace the stored ones).
#[utoipa::path(patch, path = "/api/contacts/{id}/", tag = "people", params(("id" = Uuid, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_contact(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(i): ApiJson<ContactInput>,
) -> ApiResult<Json<Contact>> {
    auth.require(Permission::EditCustomers)?;
    Ok(Json(app.store.update_contact(&auth.scope, id, &i).await?))
}

/// Delete a contact no communication refers to (managers and admins).
#[utoipa::path(delete, path = "/api/contacts/{id}/", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_contact(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::DeleteCustomers)?;
    app.store.delete_contact(&auth.scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's company.
#[utoipa::path(get, path = "/api/company/", tag = "people", responses((status = 200, body = Company)), security(("bearer" = [])))]
pub async fn get_company(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Company>> {
    Ok(Json(app.store.get_company(&auth.scope).await?))
}
