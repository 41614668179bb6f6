//! `GET /api/v2/apiTokens/{id}/usage` (Tessera extension): a token's requests per hour over
//! the last 30 days, allowed and refused, by scope (`crate::meter::usage`).
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use tessera_api::{TokenUsage, UsageCounts, UsageHour};

use super::authorized::{Authorized, TokensRead};
use crate::domain::time;
use crate::error::ApiError;
use crate::meter::usage::{HOUR_MS, KEEP_DAYS};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/apiTokens/{id}/usage", get(usage))
}

/// The token's requests per hour: only hours with requests are listed. This node's counts
/// are written first, so they are complete; other nodes' last seconds (at most
/// `meter::FLUSH_EVERY`) may not be in yet.
#[utoipa::path(get, path = "/api/v2/apiTokens/{id}/usage", tag = "Access tokens",
    params(("id" = String, Path, description = "Token id, dt0c01.<public>", pattern = r"^dt0c01\.[A-Z2-7]{24}$")),
    responses((status = 200, body = TokenUsage), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["apiTokens.read"]), ("session" = [])))]
pub async fn usage(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<TokensRead>,
    Path(id): Path<String>,
) -> Result<Json<TokenUsage>, ApiError> {
    // Who may see the token may see its usage (404 otherwise, as for the token).
    let record = state.service.token(&caller.actor(), &id).await?;
    let store = state.store();
    // In a task of its own: a client hanging up must not cancel a batch half written.
    let (meter, flushed) = (state.meter.clone(), store.clone());
    tokio::spawn(async move { meter.usage.flush(&*flushed).await })
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    let now = time::now();
    let this_hour = now - now.rem_euclid(HOUR_MS);
    let from = this_hour - (KEEP_DAYS * 24 - 1) * HOUR_MS;
    let rows = store.usage(&record.id, from).await?;
    let mut total = UsageCounts::default();
    let mut hours: Vec<UsageHour> = Vec::new();
    for row in rows {
        let counts = UsageCounts {
            allowed: row.allowed.max(0) as u64,
            refused: row.refused.max(0) as u64,
            limited: row.limited.max(0) as u64,
        };
        total.add(&counts);
        let start = time::format(row.hour);
        if hours.last().is_none_or(|h| h.start != start) {
            hours.push(UsageHour {
                start,
                ..UsageHour::default()
            });
        }
        let hour = hours.last_mut().expect("pushed above");
        hour.add(&counts);
        hour.by_scope.entry(row.scope).or_default().add(&counts);
    }
    Ok(Json(TokenUsage {
        token_id: record.id,
        from: time::format(from),
        to: time::format(this_hour + HOUR_MS),
        total,
        hours,
    }))
}
