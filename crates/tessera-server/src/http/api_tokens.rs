//! The Access tokens API v2 (`/api/v2/apiTokens`), wire-compatible with the model API.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tessera_api::{
    ApiToken, ApiTokenList, CreateTokenRequest, CreatedToken, LookupRequest, UpdateTokenRequest,
};
use utoipa::IntoParams;

use super::authorized::{Authorized, TokensRead, TokensWrite};
use super::extract::{ApiJson, ApiQuery};
use super::paging::{page_key_alone, page_size, query_error};
use crate::domain::query::{Field, Fields, ListQuery, PageKey, Position, Selector, Sort};
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::TokenRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/apiTokens", get(list).post(create))
        .route("/api/v2/apiTokens/lookup", post(lookup))
        .route(
            "/api/v2/apiTokens/{id}",
            get(get_one).put(update).delete(delete),
        )
}

/// Token metadata with the given fields (all of them when `fields` is `None`).
pub fn to_wire(r: &TokenRecord, fields: Option<&Fields>) -> ApiToken {
    let has = |f: Field| fields.is_none_or(|fs| fs.has(f));
    let pick = |f: Field, v: Option<Millis>| has(f).then(|| v.map(time::format));
    ApiToken {
        id: r.id.clone(),
        name: has(Field::Name).then(|| r.name.clone()),
        enabled: has(Field::Enabled).then_some(r.enabled),
        owner: has(Field::Owner).then(|| r.owner.clone()),
        personal_access_token: has(Field::PersonalAccessToken).then_some(r.personal),
        creation_date: has(Field::CreationDate).then(|| time::format(r.created_at)),
        expiration_date: pick(Field::ExpirationDate, r.expires_at),
        last_used_date: pick(Field::LastUsedDate, r.last_used_at),
        last_used_ip_address: has(Field::LastUsedIpAddress).then(|| r.last_used_ip.clone()),
        modified_date: pick(Field::ModifiedDate, r.modified_at),
        scopes: has(Field::Scopes).then(|| r.scopes.to_strings()),
        additional_metadata: has(Field::AdditionalMetadata).then(|| metadata(r)),
    }
}

/// `additionalMetadata`: the rotation links and when the lifecycle policy shortened the
/// token's life (`policyCappedDate`), when there are any (SPEC §11).
fn metadata(r: &TokenRecord) -> serde_json::Map<String, serde_json::Value> {
    [
        ("rotatedFrom", r.rotated_from.clone()),
        ("rotatedTo", r.rotated_to.clone()),
        ("policyCappedDate", r.capped_at.map(time::format)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), serde_json::Value::from(v?))))
    .chain(
        r.rate_limit
            .map(|n| ("rateLimitPerMinute".to_owned(), serde_json::Value::from(n))),
    )
    .collect()
}

/// Query parameters of `GET /api/v2/apiTokens`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `owner("a")`, `personalAccessToken(true)`, `scope("x","y")`, `name("n")`, comma-separated.
    /// Tessera extensions: `status("enabled","disabled","expired","expiring")` (expiring:
    /// within 7 days) and `unusedDays(90)` (not used, or never used and not created, for
    /// that many days).
    api_token_selector: Option<String>,
    /// `+f` adds to the default fields, `-f` removes, a bare list replaces.
    fields: Option<String>,
    /// Last used at or after: ISO-8601, epoch milliseconds or `now-<n><unit>`.
    from: Option<String>,
    /// Last used at or before.
    to: Option<String>,
    /// `name`, `lastUsedDate`, `creationDate`, `expirationDate` or `modifiedDate`, with `+`/`-`.
    sort: Option<String>,
    /// 1–10000, default 200.
    page_size: Option<String>,
    /// The cursor from the previous page; every other parameter must then be absent.
    next_page_key: Option<String>,
}

impl ListParams {
    fn into_query(self, now: Millis) -> Result<(ListQuery, Option<Position>), ApiError> {
        if let Some(key) = &self.next_page_key {
            let others = [
                &self.api_token_selector,
                &self.fields,
                &self.from,
                &self.to,
                &self.sort,
                &self.page_size,
            ];
            page_key_alone(&others)?;
            let key = PageKey::decode(key)
                .ok_or_else(|| query_error("nextPageKey", "The page key is invalid"))?;
            return Ok((key.query, Some(key.at)));
        }
        let query = ListQuery {
            selector: match &self.api_token_selector {
                Some(s) => Selector::parse(s).map_err(|e| query_error("apiTokenSelector", e))?,
                None => Selector::default(),
            },
            fields: match &self.fields {
                Some(f) => Fields::parse(f).map_err(|e| query_error("fields", e))?,
                None => Fields::default(),
            },
            sort: match &self.sort {
                Some(s) => Sort::parse(s).map_err(|e| query_error("sort", e))?,
                None => Sort::default(),
            },
            from: self
                .from
                .as_deref()
                .map(|v| time::parse_bound(v, now).map_err(|e| query_error("from", e)))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|v| time::parse_bound(v, now).map_err(|e| query_error("to", e)))
                .transpose()?,
            page_size: page_size(
                self.page_size.as_deref(),
                ListQuery::DEFAULT_PAGE_SIZE,
                ListQuery::MAX_PAGE_SIZE,
            )?,
            now,
        };
        Ok((query, None))
    }
}

/// Lists tokens: admins see everyone's, others only their own.
#[utoipa::path(get, path = "/api/v2/apiTokens", tag = "Access tokens", params(ListParams),
    responses((status = 200, body = ApiTokenList), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.read"]), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensRead>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ApiTokenList>, ApiError> {
    let (query, at) = params.into_query(time::now())?;
    let page = state
        .service
        .list_tokens(&caller.actor(), &query, at)
        .await?;
    let next_page_key = page.next.map(|at| {
        PageKey {
            query: query.clone(),
            at,
        }
        .encode()
    });
    Ok(Json(ApiTokenList {
        api_tokens: page
            .tokens
            .iter()
            .map(|t| to_wire(t, Some(&query.fields)))
            .collect(),
        total_count: page.total,
        page_size: u64::from(query.page_size),
        next_page_key,
    }))
}

/// Generates a token owned by the caller and returns it, the only time it is shown.
#[utoipa::path(post, path = "/api/v2/apiTokens", tag = "Access tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.write"]), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensWrite>,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let generated = state.service.create_token(&caller.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(shown_once(generated))))
}

/// The answer that carries a new token, the only time it is shown (generate, rotate).
pub fn shown_once(generated: crate::service::tokens::Generated) -> CreatedToken {
    CreatedToken {
        id: generated.record.id,
        token: generated.token.expose().to_owned(),
        expiration_date: generated.record.expires_at.map(time::format),
    }
}

/// Finds a token's metadata from the token itself.
#[utoipa::path(post, path = "/api/v2/apiTokens/lookup", tag = "Access tokens", request_body = LookupRequest,
    responses((status = 200, body = ApiToken), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.read"]), ("session" = [])))]
pub async fn lookup(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensRead>,
    ApiJson(body): ApiJson<LookupRequest>,
) -> Result<Json<ApiToken>, ApiError> {
    let record = state
        .service
        .lookup_token(&caller.actor(), &body.token)
        .await?;
    Ok(Json(to_wire(&record, None)))
}

/// One token's metadata.
#[utoipa::path(get, path = "/api/v2/apiTokens/{id}", tag = "Access tokens",
    params(("id" = String, Path, description = "Token id, dt0c01.<public>", pattern = r"^dt0c01\.[A-Z2-7]{24}$")),
    responses((status = 200, body = ApiToken), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.read"]), ("session" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensRead>,
    Path(id): Path<String>,
) -> Result<Json<ApiToken>, ApiError> {
    let record = state.service.token(&caller.actor(), &id).await?;
    Ok(Json(to_wire(&record, None)))
}

/// Renames, enables or disables a token, or replaces its scopes.
#[utoipa::path(put, path = "/api/v2/apiTokens/{id}", tag = "Access tokens", request_body = UpdateTokenRequest,
    params(("id" = String, Path, description = "Token id, dt0c01.<public>", pattern = r"^dt0c01\.[A-Z2-7]{24}$")),
    responses((status = 204), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope),
              (status = 409, description = "A token cannot disable or delete itself", body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.write"]), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTokenRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .update_token(&caller.actor(), &id, body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a token for good.
#[utoipa::path(delete, path = "/api/v2/apiTokens/{id}", tag = "Access tokens",
    params(("id" = String, Path, description = "Token id, dt0c01.<public>", pattern = r"^dt0c01\.[A-Z2-7]{24}$")),
    responses((status = 204), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope),
              (status = 409, description = "A token cannot disable or delete itself", body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.write"]), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_token(&caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
