//! Liveness, readiness and metrics.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive: answers without touching the database.
async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
}

/// Ready: the database answers and this node's index is up to date (`--max-staleness`).
/// Not ready either when another node migrated the database past this binary's schema
/// (checked first: a newer schema may be why the node fell behind).
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    let store = state.store();
    let unavailable = |reason: String| (StatusCode::SERVICE_UNAVAILABLE, reason);
    match store.schema_version().await {
        Ok(version) => {
            let known = store.known_schema();
            if let Some(reason) = crate::store::schema::newer_than_binary(version, known) {
                return unavailable(reason);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            return unavailable("database unavailable\n".into());
        }
    }
    if !state.follower.is_current() {
        return unavailable("not up to date with the database\n".into());
    }
    (StatusCode::OK, "ready\n".into())
}

/// Prometheus text format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let now = crate::domain::time::now();
    let week = now + 7 * crate::domain::lifecycle::DAY_MS;
    metrics::gauge!("tessera_tokens_expiring", "within" => "7d")
        .set(state.index().count_expiring(now, week) as f64);
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
