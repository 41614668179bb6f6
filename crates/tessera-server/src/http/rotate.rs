//! `POST /api/v2/apiTokens/{id}/rotate` (SPEC §11): a Tessera extension of the Access
//! tokens API. The rules are the service's (`service/rotation.rs`).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use tessera_api::{CreatedToken, RotateTokenRequest};

use super::authorized::{Authorized, TokensWrite};
use super::extract::ApiJson;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/apiTokens/{id}/rotate", post(rotate))
}

/// Replaces a token with a new one (same owner, name, type and scopes, the scopes still
/// held by the owner); the old one keeps working for `graceSeconds`, then is refused.
/// The owner, an administrator or the token itself may rotate it, once.
#[utoipa::path(post, path = "/api/v2/apiTokens/{id}/rotate", tag = "Access tokens",
    params(("id" = String, Path, description = "The token's id (`dt0c01.<public>`)")),
    request_body = RotateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope), (status = 409, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.write"]), ("session" = [])))]
pub async fn rotate(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RotateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let generated = state
        .service
        .rotate_token(&caller.actor(), &id, body)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(super::api_tokens::shown_once(generated)),
    ))
}
