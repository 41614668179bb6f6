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
/// Not ready either when another node migrated the database past this binary's schema.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if !state.follower.is_current() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not up to date with the database\n".into(),
        );
    }
    let store = state.store();
    match store.schema_version().await {
        Ok(version) => match crate::store::schema::newer_than_binary(version, store.known_schema())
        {
            Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
            None => (StatusCode::OK, "ready\n".into()),
        },
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable\n".into(),
            )
        }
    }
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
