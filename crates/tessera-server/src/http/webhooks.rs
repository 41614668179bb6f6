//! Webhook deliveries for the Token settings page (Tessera extensions): the newest events
//! with their last attempt, and a test event to try the receiver. Administrators, or
//! tokens with the settings scopes (as for the lifecycle policy itself).
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tessera_api::{WebhookAttempt, WebhookDeliveries, WebhookDelivery, WebhookTestQueued};

use super::authorized::{Authorized, SettingsRead, SettingsWrite};
use crate::domain::time;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::DeliveryRow;

/// How many events the deliveries view shows.
const SHOWN: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/tessera/webhooks/deliveries", get(deliveries))
        .route("/api/v2/tessera/webhooks/test", post(send_test))
}

fn view(row: DeliveryRow) -> WebhookDelivery {
    let last_attempt = row.attempt_at.map(|at| WebhookAttempt {
        date: time::format(at),
        status: row.status.and_then(|s| u16::try_from(s).ok()),
        error: row.error.clone(),
        duration_ms: row.duration_ms.unwrap_or_default(),
    });
    WebhookDelivery {
        next_attempt_date: (row.state == "pending").then(|| time::format(row.next_attempt_at)),
        id: row.id,
        event_type: row.kind,
        token_id: row.token_id,
        created_date: time::format(row.created_at),
        state: row.state,
        attempts: row.attempts,
        last_attempt,
    }
}

/// The newest 20 webhook events, newest first, with how their delivery stands.
#[utoipa::path(get, path = "/api/v2/tessera/webhooks/deliveries", tag = "Settings",
    responses((status = 200, body = WebhookDeliveries), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.read"]), ("session" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<SettingsRead>,
) -> Result<Json<WebhookDeliveries>, ApiError> {
    let rows = state
        .service
        .webhook_deliveries(&caller.actor(), SHOWN)
        .await?;
    Ok(Json(WebhookDeliveries {
        deliveries: rows.into_iter().map(view).collect(),
    }))
}

/// Queues a `webhook.test` event to the lifecycle policy's webhook URL (400 when none).
#[utoipa::path(post, path = "/api/v2/tessera/webhooks/test", tag = "Settings",
    responses((status = 202, body = WebhookTestQueued), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["settings.write"]), ("session" = [])))]
pub async fn send_test(
    State(state): State<AppState>,
    Authorized(caller, _): Authorized<SettingsWrite>,
) -> Result<(StatusCode, Json<WebhookTestQueued>), ApiError> {
    let id = state.service.send_test_webhook(&caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(WebhookTestQueued { id })))
}
