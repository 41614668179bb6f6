//! The Settings 2.0 API's two objects: `builtin:tokens.token-settings` (PATs on or off)
//! and `tessera:tokens.lifecycle` (the lifecycle policy, SPEC §11).
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_api::{
    SettingsList, SettingsObject, SettingsUpdate, SettingsValue, TokenSettingsValue,
    LIFECYCLE_SCHEMA, TOKEN_SETTINGS_SCHEMA,
};
use utoipa::{IntoParams, ToSchema};

use super::authorized::{Authorized, SettingsRead, SettingsWrite};
use super::extract::{ApiJson, ApiQuery};
use crate::error::ApiError;
use crate::state::AppState;

/// The one object of each schema, in the one scope they live in.
pub const OBJECT_ID: &str = "dGVzc2VyYTpidWlsdGluOnRva2Vucy50b2tlbi1zZXR0aW5nczplbnZpcm9ubWVudA";
pub const LIFECYCLE_OBJECT_ID: &str = "dGVzc2VyYTp0ZXNzZXJhOnRva2Vucy5saWZlY3ljbGU6ZW52aXJvbm1lbnQ";
const SCHEMAS: [&str; 2] = [TOKEN_SETTINGS_SCHEMA, LIFECYCLE_SCHEMA];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/settings/objects", get(list))
        .route(
            "/api/v2/settings/objects/{objectId}",
            get(get_one).put(update),
        )
}

fn token_settings(state: &AppState) -> SettingsObject {
    SettingsObject {
        object_id: OBJECT_ID.to_owned(),
        schema_id: TOKEN_SETTINGS_SCHEMA.to_owned(),
        scope: "environment".to_owned(),
        value: SettingsValue::Token(TokenSettingsValue {
            pat_enabled: state.index().pat_enabled(),
        }),
    }
}

async fn lifecycle(state: &AppState) -> Result<SettingsObject, ApiError> {
    Ok(SettingsObject {
        object_id: LIFECYCLE_OBJECT_ID.to_owned(),
        schema_id: LIFECYCLE_SCHEMA.to_owned(),
        scope: "environment".to_owned(),
        value: SettingsValue::Lifecycle(state.service.lifecycle_policy().await?.to_wire()),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Comma-separated schema ids: `builtin:tokens.token-settings`, `tessera:tokens.lifecycle`.
    schema_ids: Option<String>,
    /// Comma-separated scopes; the object lives in `environment`.
    scopes: Option<String>,
}

/// Lists settings objects (the token settings and the lifecycle policy).
#[utoipa::path(get, path = "/api/v2/settings/objects", tag = "Settings", params(ListParams),
    responses((status = 200, body = SettingsList), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope), (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.read"]), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<SettingsRead>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<SettingsList>, ApiError> {
    let wanted: Vec<&str> = match &params.schema_ids {
        Some(ids) => ids.split(',').map(str::trim).collect(),
        None => SCHEMAS.to_vec(),
    };
    if let Some(unknown) = wanted.iter().find(|id| !SCHEMAS.contains(id)) {
        return Err(ApiError::NotFound(format!("Schema `{unknown}` not found")));
    }
    let in_scope = params
        .scopes
        .as_deref()
        .is_none_or(|scopes| scopes.split(',').any(|s| s.trim() == "environment"));
    let mut items = Vec::new();
    if in_scope && wanted.contains(&TOKEN_SETTINGS_SCHEMA) {
        items.push(token_settings(&state));
    }
    if in_scope && wanted.contains(&LIFECYCLE_SCHEMA) {
        items.push(lifecycle(&state).await?);
    }
    Ok(Json(SettingsList {
        total_count: items.len() as u64,
        page_size: 100,
        items,
    }))
}

fn not_found() -> ApiError {
    ApiError::not_found("Settings object")
}

/// One settings object.
#[utoipa::path(get, path = "/api/v2/settings/objects/{objectId}", tag = "Settings",
    params(("objectId" = String, Path)),
    responses((status = 200, body = SettingsObject), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope), (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.read"]), ("session" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    _: Authorized<SettingsRead>,
    Path(object_id): Path<String>,
) -> Result<Json<SettingsObject>, ApiError> {
    match object_id.as_str() {
        OBJECT_ID => Ok(Json(token_settings(&state))),
        LIFECYCLE_OBJECT_ID => Ok(Json(lifecycle(&state).await?)),
        _ => Err(not_found()),
    }
}

/// `PUT` result, as in the model API.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResult {
    code: u16,
    object_id: String,
}

/// Changes an object: token settings (PATs on or off, in force on the very next request) or
/// the lifecycle policy (setting or lowering `maxLifetimeDays` caps longer-lived tokens).
#[utoipa::path(put, path = "/api/v2/settings/objects/{objectId}", tag = "Settings", request_body = SettingsUpdate,
    params(("objectId" = String, Path)),
    responses((status = 200, body = UpdateResult), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.write"]), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<SettingsWrite>,
    Path(object_id): Path<String>,
    ApiJson(body): ApiJson<SettingsUpdate>,
) -> Result<Json<UpdateResult>, ApiError> {
    let actor = caller.actor();
    match (object_id.as_str(), body.value) {
        (OBJECT_ID, SettingsValue::Token(v)) => {
            state.service.set_pat_enabled(&actor, v.pat_enabled).await?
        }
        (LIFECYCLE_OBJECT_ID, SettingsValue::Lifecycle(v)) => {
            state.service.set_lifecycle_policy(&actor, v).await?;
        }
        (OBJECT_ID | LIFECYCLE_OBJECT_ID, _) => {
            return Err(ApiError::invalid(
                tessera_api::ParameterLocation::PayloadBody,
                "value",
                "The value does not match the object's schema",
            ))
        }
        _ => return Err(not_found()),
    }
    Ok(Json(UpdateResult {
        code: 200,
        object_id,
    }))
}
