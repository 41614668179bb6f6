//! The `builtin:tokens.token-settings` object of the Settings 2.0 API.
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tessera_api::{
    SettingsList, SettingsObject, SettingsUpdate, TokenSettingsValue, TOKEN_SETTINGS_SCHEMA,
};
use utoipa::{IntoParams, ToSchema};

use super::authorized::{Authorized, SettingsRead, SettingsWrite};
use super::extract::{ApiJson, ApiQuery};
use crate::error::ApiError;
use crate::state::AppState;

/// The one object of the schema, in the one scope it lives in.
pub const OBJECT_ID: &str = "dGVzc2VyYTpidWlsdGluOnRva2Vucy50b2tlbi1zZXR0aW5nczplbnZpcm9ubWVudA";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/settings/objects", get(list))
        .route(
            "/api/v2/settings/objects/{objectId}",
            get(get_one).put(update),
        )
}

fn object(state: &AppState) -> SettingsObject {
    SettingsObject {
        object_id: OBJECT_ID.to_owned(),
        schema_id: TOKEN_SETTINGS_SCHEMA.to_owned(),
        scope: "environment".to_owned(),
        value: TokenSettingsValue {
            pat_enabled: state.index().pat_enabled(),
        },
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Comma-separated schema ids; only `builtin:tokens.token-settings` exists.
    schema_ids: Option<String>,
    /// Comma-separated scopes; the object lives in `environment`.
    scopes: Option<String>,
}

/// Lists settings objects (the token settings object).
#[utoipa::path(get, path = "/api/v2/settings/objects", tag = "Settings", params(ListParams),
    responses((status = 200, body = SettingsList), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope), (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.read"]), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<SettingsRead>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<SettingsList>, ApiError> {
    if let Some(ids) = &params.schema_ids {
        if let Some(unknown) = ids
            .split(',')
            .map(str::trim)
            .find(|id| *id != TOKEN_SETTINGS_SCHEMA)
        {
            return Err(ApiError::NotFound(format!("Schema `{unknown}` not found")));
        }
    }
    let in_scope = params
        .scopes
        .as_deref()
        .is_none_or(|scopes| scopes.split(',').any(|s| s.trim() == "environment"));
    let items: Vec<_> = if in_scope {
        vec![object(&state)]
    } else {
        Vec::new()
    };
    Ok(Json(SettingsList {
        total_count: items.len() as u64,
        page_size: 100,
        items,
    }))
}

fn known(object_id: &str) -> Result<(), ApiError> {
    if object_id == OBJECT_ID {
        Ok(())
    } else {
        Err(ApiError::not_found("Settings object"))
    }
}

/// The token settings object.
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
    known(&object_id)?;
    Ok(Json(object(&state)))
}

/// `PUT` result, as in the model API.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResult {
    code: u16,
    object_id: String,
}

/// Turns personal access tokens on or off; takes effect on the very next request.
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
    known(&object_id)?;
    state
        .service
        .set_pat_enabled(&caller.actor(), body.value.pat_enabled)
        .await?;
    Ok(Json(UpdateResult {
        code: 200,
        object_id: OBJECT_ID.to_owned(),
    }))
}
