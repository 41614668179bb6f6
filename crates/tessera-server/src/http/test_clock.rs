//! `POST /api/test/clock {"advanceMs": n}`: moves this node's clock forward (debug builds
//! run with `TESSERA_TEST_CLOCK=1` only; see `domain::time::test_clock`). Not in the
//! OpenAPI document: it is not part of the product.
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::domain::time;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Advance {
    advance_ms: i64,
}

pub fn router() -> Router<AppState> {
    if std::env::var("TESSERA_TEST_CLOCK").as_deref() != Ok("1") {
        return Router::new();
    }
    tracing::warn!("the test clock is on: POST /api/test/clock moves this server's time");
    Router::new().route(
        "/api/test/clock",
        post(|Json(body): Json<Advance>| async move {
            let offset = time::test_clock::advance(body.advance_ms);
            Json(serde_json::json!({ "offsetMs": offset, "now": time::format(time::now()) }))
        }),
    )
}
