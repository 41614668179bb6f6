//! The users API (`/api/v2/tessera/users`, a Tessera extension): administrators signed in to
//! the console list, add and change users and reset passwords. Tokens are refused, even an
//! admin's: managing people is done by a person. Every change is a service function the
//! CLI calls too, so the rules (admins only, never yourself, never the last admin) are one.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tessera_api::UserWithPassword;
use tessera_api::{AdminUser, NewUser, ParameterLocation, Scope, UserList, UserUpdate};
use utoipa::IntoParams;

use super::authorized::{AdminSession, Authorized};
use super::extract::{ApiJson, ApiQuery};
use crate::domain::names::Username;
use crate::domain::password;
use crate::domain::scope_set::ScopeSet;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{User, UserPatch};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/tessera/users", get(list).post(add))
        .route("/api/v2/tessera/users/{username}", get(get_one).put(update))
        .route(
            "/api/v2/tessera/users/{username}/password",
            post(reset_password),
        )
}

fn view(user: &User) -> AdminUser {
    AdminUser {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        admin: user.admin,
        active: user.active,
        permissions: user.permissions.to_strings(),
        management_zones: user.zones.clone(),
        all_zones: user.all_zones,
        has_password: !user.password_hash.is_empty()
            && !crate::service::sso::is_sso(&user.password_hash),
    }
}

/// Scope values to a set; each unknown one is a violation at `field[i]`.
fn permissions(values: &[String], field: &str) -> Result<ScopeSet, ApiError> {
    let mut set = ScopeSet::default();
    for (i, value) in values.iter().enumerate() {
        let scope = Scope::parse(value).ok_or_else(|| {
            let path = format!("{field}[{i}]");
            ApiError::invalid(
                ParameterLocation::PayloadBody,
                &path,
                format!("Unknown scope `{value}`"),
            )
        })?;
        set.insert(scope);
    }
    Ok(set)
}

/// Argon2 takes tens of milliseconds: off the async workers.
async fn new_password() -> Result<(String, String), ApiError> {
    tokio::task::spawn_blocking(|| {
        let password = password::generate();
        password::hash(&password).map(|hash| (password, hash))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(ApiError::Internal)
}

/// The user named in a path; a name no user can have is simply not found (and never
/// reaches SQL: PostgreSQL refuses a NUL in text with an error, not an empty result).
async fn found(state: &AppState, username: &str) -> Result<User, ApiError> {
    Username::parse(username).map_err(|_| ApiError::not_found("User"))?;
    state
        .service
        .store()
        .user(username)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Case-insensitive part of a username or display name.
    search: Option<String>,
}

/// Lists users by username, optionally those matching `search`.
#[utoipa::path(get, path = "/api/v2/tessera/users", tag = "Users", params(ListParams),
    responses((status = 200, body = UserList), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<AdminSession>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<UserList>, ApiError> {
    let search = params.search.unwrap_or_default().trim().to_lowercase();
    let users: Vec<AdminUser> = state
        .service
        .users()
        .await?
        .iter()
        .filter(|u| {
            u.username.to_lowercase().contains(&search)
                || u.display_name.to_lowercase().contains(&search)
        })
        .map(view)
        .collect();
    Ok(Json(UserList {
        total_count: users.len() as u64,
        users,
    }))
}

/// One user.
#[utoipa::path(get, path = "/api/v2/tessera/users/{username}", tag = "Users",
    params(("username" = String, Path)),
    responses((status = 200, body = AdminUser), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope), (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("session" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    _: Authorized<AdminSession>,
    Path(username): Path<String>,
) -> Result<Json<AdminUser>, ApiError> {
    Ok(Json(view(&found(&state, &username).await?)))
}

/// Adds a user with a generated password, shown this once.
#[utoipa::path(post, path = "/api/v2/tessera/users", tag = "Users", request_body = NewUser,
    responses((status = 201, body = UserWithPassword), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 409, body = tessera_api::ErrorEnvelope)),
    security(("session" = [])))]
pub async fn add(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<AdminSession>,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserWithPassword>), ApiError> {
    let display = body.display_name.unwrap_or_else(|| body.username.clone());
    let permissions = permissions(&body.permissions, "permissions")?;
    let (password, password_hash) = new_password().await?;
    let user = User {
        username: body.username.trim().to_owned(),
        display_name: display,
        password_hash,
        admin: body.admin,
        active: true,
        permissions,
        zones: body.management_zones,
        all_zones: body.all_zones,
    };
    state
        .service
        .add_user(&caller.actor(), user.clone())
        .await?;
    let user = found(&state, &user.username).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserWithPassword {
            user: view(&user),
            password,
        }),
    ))
}

/// Changes a user; absent fields stay. `active: false` disables the user and every token
/// of theirs; `admin: false` also disables their environment tokens.
#[utoipa::path(put, path = "/api/v2/tessera/users/{username}", tag = "Users", request_body = UserUpdate,
    params(("username" = String, Path)),
    responses((status = 200, body = AdminUser), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope), (status = 409, body = tessera_api::ErrorEnvelope)),
    security(("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<AdminSession>,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> Result<Json<AdminUser>, ApiError> {
    found(&state, &username).await?;
    let patch = UserPatch {
        display_name: body.display_name,
        password_hash: None,
        admin: body.admin,
        active: body.active,
        permissions: body
            .permissions
            .as_deref()
            .map(|p| permissions(p, "permissions"))
            .transpose()?,
        zones: body.management_zones,
        all_zones: body.all_zones,
    };
    let user = state
        .service
        .update_user(&caller.actor(), &username, patch)
        .await?;
    Ok(Json(view(&user)))
}

/// Sets a new generated password, shown this once; every session of the user ends.
#[utoipa::path(post, path = "/api/v2/tessera/users/{username}/password", tag = "Users",
    params(("username" = String, Path)),
    responses((status = 200, body = UserWithPassword), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope), (status = 404, body = tessera_api::ErrorEnvelope),
              (status = 409, description = "The user signs in through the identity provider", body = tessera_api::ErrorEnvelope)),
    security(("session" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<AdminSession>,
    Path(username): Path<String>,
) -> Result<Json<UserWithPassword>, ApiError> {
    found(&state, &username).await?;
    let (password, password_hash) = new_password().await?;
    let patch = UserPatch {
        password_hash: Some(password_hash),
        ..UserPatch::default()
    };
    let user = state
        .service
        .update_user(&caller.actor(), &username, patch)
        .await?;
    Ok(Json(UserWithPassword {
        user: view(&user),
        password,
    }))
}
