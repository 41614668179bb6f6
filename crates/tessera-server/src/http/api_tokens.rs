//! The Access tokens API v2 (`/api/v2/apiTokens`), wire-compatible with the model API.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tessera_api::{
    ApiToken, ApiTokenList, ConstraintViolation, CreateTokenRequest, CreatedToken, LookupRequest,
    ParameterLocation, Scope, UpdateTokenRequest,
};
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::domain::names::TokenName;
use crate::domain::query::{Field, Fields, ListQuery, PageKey, Selector, Sort};
use crate::domain::scope_set::ScopeSet;
use crate::domain::time::{self, Millis};
use crate::domain::token::{Token, TokenId, TokenParseError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{StoreError, TokenPatch, TokenRecord};

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
        additional_metadata: has(Field::AdditionalMetadata).then(serde_json::Map::new),
    }
}

/// Query parameters of `GET /api/v2/apiTokens`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `owner("a")`, `personalAccessToken(true)`, `scope("x","y")`, `name("n")`, comma-separated.
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

fn query_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(ParameterLocation::Query, name, message)
}

impl ListParams {
    fn into_query(self, now: Millis) -> Result<(ListQuery, Option<i64>, u64), ApiError> {
        if let Some(key) = &self.next_page_key {
            let others = [
                &self.api_token_selector,
                &self.fields,
                &self.from,
                &self.to,
                &self.sort,
                &self.page_size,
            ];
            if others.iter().any(|p| p.is_some()) {
                return Err(query_error(
                    "nextPageKey",
                    "When nextPageKey is given, no other query parameter may be",
                ));
            }
            let key = PageKey::decode(key)
                .ok_or_else(|| query_error("nextPageKey", "The page key is invalid"))?;
            return Ok((key.query, Some(key.snapshot), key.offset));
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
            page_size: match &self.page_size {
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=ListQuery::MAX_PAGE_SIZE).contains(n))
                    .ok_or_else(|| {
                        query_error(
                            "pageSize",
                            "pageSize must be a whole number from 1 to 10000",
                        )
                    })?,
                None => ListQuery::DEFAULT_PAGE_SIZE,
            },
        };
        Ok((query, None, 0))
    }
}

/// Lists tokens: admins see everyone's, others only their own.
#[utoipa::path(get, path = "/api/v2/apiTokens", tag = "Access tokens", params(ListParams),
    responses((status = 200, body = ApiTokenList), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.read"]), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ApiTokenList>, ApiError> {
    caller.require(&state, Scope::ApiTokensRead)?;
    let (query, snapshot, offset) = params.into_query(time::now())?;
    let owner = (!caller.sees_all_tokens()).then(|| caller.username());
    let page = state
        .store
        .list_tokens(owner, &query, snapshot, offset)
        .await?;
    let next_offset = offset + page.tokens.len() as u64;
    let next_page_key = (next_offset < page.total && !page.tokens.is_empty()).then(|| {
        PageKey {
            query: query.clone(),
            snapshot: page.snapshot,
            offset: next_offset,
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

/// Scopes as asked for, sorted into what is known and held, unknown, and not held.
struct ScopeCheck {
    set: ScopeSet,
    unknown: Vec<ConstraintViolation>,
    denied: Vec<ConstraintViolation>,
}

fn check_scopes(values: &[String], allowed: ScopeSet) -> ScopeCheck {
    let mut check = ScopeCheck {
        set: ScopeSet::default(),
        unknown: Vec::new(),
        denied: Vec::new(),
    };
    if values.is_empty() {
        check.unknown.push(ConstraintViolation::new(
            ParameterLocation::PayloadBody,
            "scopes",
            "Select at least one scope",
        ));
    }
    for (i, value) in values.iter().enumerate() {
        let path = format!("scopes[{i}]");
        match Scope::parse(value) {
            None => check.unknown.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                path,
                format!("Unknown scope `{value}`"),
            )),
            Some(scope) if !allowed.contains(scope) => check.denied.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                path,
                format!(
                    "You do not hold the permission {} ({})",
                    scope.as_str(),
                    scope.display_name()
                ),
            )),
            Some(scope) => check.set.insert(scope),
        }
    }
    check
}

/// 400 for input that is wrong whoever sends it, then 403 for scopes the owner lacks.
fn scopes_or_error(
    mut violations: Vec<ConstraintViolation>,
    check: ScopeCheck,
) -> Result<ScopeSet, ApiError> {
    violations.extend(check.unknown);
    if !violations.is_empty() {
        return Err(ApiError::BadRequest {
            message: constraint_message(&violations),
            violations,
        });
    }
    if !check.denied.is_empty() {
        return Err(ApiError::ForbiddenFields {
            message: "Available scopes are bound to your permissions".into(),
            violations: check.denied,
        });
    }
    Ok(check.set)
}

fn pat_disabled() -> ApiError {
    ApiError::Forbidden("Personal access tokens are disabled by an administrator".into())
}

/// Generates a token owned by the caller and returns it, the only time it is shown.
#[utoipa::path(post, path = "/api/v2/apiTokens", tag = "Access tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.write"]), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(&state, Scope::ApiTokensWrite)?;
    let personal = body.personal_access_token.unwrap_or(true);
    if !personal && !caller.user().admin {
        return Err(ApiError::Forbidden(
            "Only administrators may create tokens that are not personal access tokens".into(),
        ));
    }
    if personal && !state.index.pat_enabled() {
        return Err(pat_disabled());
    }
    let now = time::now();
    let mut violations = Vec::new();
    let name = TokenName::parse(&body.name)
        .map_err(|e| {
            violations.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                "name",
                e,
            ))
        })
        .ok();
    let expires_at = match body
        .expiration_date
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        None => None,
        Some(v) => time::parse_expiration(v, now)
            .map_err(|e| {
                violations.push(ConstraintViolation::new(
                    ParameterLocation::PayloadBody,
                    "expirationDate",
                    e,
                ))
            })
            .ok(),
    };
    let scopes = scopes_or_error(
        violations,
        check_scopes(&body.scopes, caller.grantable_scopes()),
    )?;
    let name = name.ok_or_else(|| ApiError::bad_request("Invalid token name"))?;
    let token = Token::generate();
    let record = TokenRecord {
        id: token.id().as_str().to_owned(),
        owner: caller.username().to_owned(),
        name: name.as_str().to_owned(),
        scopes,
        personal,
        enabled: true,
        digest: token.digest(),
        created_at: now,
        modified_at: None,
        expires_at,
        last_used_at: None,
        last_used_ip: None,
    };
    state.store.insert_token(&record).await?;
    state.index.put_token(&record);
    state
        .audit(
            caller.username(),
            Some(caller.client()),
            "token.generated",
            Some(&record.id),
            Some(format!("scopes={}", scopes.to_strings().join(","))),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: record.id,
            token: token.expose().to_owned(),
            expiration_date: expires_at.map(time::format),
        }),
    ))
}

fn constraint_message(violations: &[ConstraintViolation]) -> String {
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    format!("Constraints violated: {}", paths.join(", "))
}

/// A token the caller may see, or 404 (never 403: others' ids are not confirmed).
async fn visible_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<TokenRecord, ApiError> {
    let id = TokenId::parse(id).ok_or_else(|| {
        ApiError::invalid(
            ParameterLocation::Path,
            "id",
            "Not a token id (dt0c01.<24 characters>)",
        )
    })?;
    let record = state
        .store
        .token(id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("Token"))?;
    if caller.sees_all_tokens() || record.owner == caller.username() {
        Ok(record)
    } else {
        Err(ApiError::not_found("Token"))
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
    caller: Caller,
    ApiJson(body): ApiJson<LookupRequest>,
) -> Result<Json<ApiToken>, ApiError> {
    caller.require(&state, Scope::ApiTokensRead)?;
    // A wrong shape is the caller's mistake (400); a right shape with a wrong checksum is
    // simply not a token we issued (404), as is a right checksum with an unknown secret.
    let token = match Token::parse(body.token.trim()) {
        Ok(token) => token,
        Err(TokenParseError::Checksum) => return Err(ApiError::not_found("Token")),
        Err(TokenParseError::Shape) => {
            return Err(ApiError::invalid(
                ParameterLocation::PayloadBody,
                "token",
                "Not a well-formed token",
            ))
        }
    };
    let record = visible_token(&state, &caller, token.id().as_str()).await?;
    if !record.digest.matches(&token.digest()) {
        return Err(ApiError::not_found("Token"));
    }
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiToken>, ApiError> {
    caller.require(&state, Scope::ApiTokensRead)?;
    let record = visible_token(&state, &caller, &id).await?;
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
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTokenRequest>,
) -> Result<StatusCode, ApiError> {
    caller.require(&state, Scope::ApiTokensWrite)?;
    let name = body
        .name
        .as_deref()
        .map(|n| {
            TokenName::parse(n)
                .map_err(|e| ApiError::invalid(ParameterLocation::PayloadBody, "name", e))
        })
        .transpose()?;
    let record = visible_token(&state, &caller, &id).await?;
    if body.enabled == Some(false) && caller.token_id() == Some(record.id.as_str()) {
        return Err(ApiError::conflict(
            ParameterLocation::Path,
            "id",
            "A token cannot disable itself",
        ));
    }
    let owner_permissions = match state.index.user(&record.owner) {
        Some(owner) if record.personal => owner.effective_permissions(),
        _ => ScopeSet::ALL,
    };
    let scopes = body
        .scopes
        .as_deref()
        .map(|s| scopes_or_error(Vec::new(), check_scopes(s, owner_permissions)))
        .transpose()?;
    let patch = TokenPatch {
        name: name.map(|n| n.as_str().to_owned()),
        enabled: body.enabled,
        scopes,
    };
    let updated = {
        let _writes = state.token_writes.lock().await;
        let updated = match state
            .store
            .update_token(&record.id, &patch, time::now())
            .await
        {
            Err(StoreError::NotFound) => return Err(ApiError::not_found("Token")),
            other => other?,
        };
        state.index.put_token(&updated);
        updated
    };
    let client = Some(caller.client());
    if patch.name.is_some() || patch.scopes.is_some() {
        let detail = format!(
            "name={} scopes={}",
            patch.name.is_some(),
            patch.scopes.is_some()
        );
        state
            .audit(
                caller.username(),
                client,
                "token.updated",
                Some(&updated.id),
                Some(detail),
            )
            .await;
    }
    match patch.enabled {
        Some(true) if !record.enabled => {
            state
                .audit(
                    caller.username(),
                    client,
                    "token.enabled",
                    Some(&updated.id),
                    None,
                )
                .await
        }
        Some(false) if record.enabled => {
            state
                .audit(
                    caller.username(),
                    client,
                    "token.disabled",
                    Some(&updated.id),
                    None,
                )
                .await
        }
        _ => {}
    }
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&state, Scope::ApiTokensWrite)?;
    let record = visible_token(&state, &caller, &id).await?;
    if caller.token_id() == Some(record.id.as_str()) {
        return Err(ApiError::conflict(
            ParameterLocation::Path,
            "id",
            "A token cannot delete itself",
        ));
    }
    {
        let _writes = state.token_writes.lock().await;
        if !state.store.delete_token(&record.id).await? {
            return Err(ApiError::not_found("Token"));
        }
        state.index.remove_token(&record.id);
    }
    state
        .audit(
            caller.username(),
            Some(caller.client()),
            "token.deleted",
            Some(&record.id),
            None,
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
