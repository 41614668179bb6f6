//! The gateway check (SPEC §5.5): may this token act with this scope? Made for reverse
//! proxies, so it is the hot path: decided from the in-memory index, no database read,
//! and at most one throttled last-used write per token per minute.
use axum::extract::Request;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tessera_api::{ParameterLocation, Scope};
use utoipa::IntoParams;

use crate::auth::caller::record_use;
use crate::auth::caller::ClientAddr;
use crate::auth::Denied;
use crate::domain::time;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/auth/check", get(check))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; `check` reads it without serde
pub struct CheckParams {
    /// The scope the request needs, e.g. `metrics.read`.
    #[param(required = true, value_type = Scope)]
    scope: Option<String>,
}

fn count(outcome: &'static str) {
    // The allowed counter is looked up once: the hot path should not hash labels.
    static ALLOWED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    if outcome == "allowed" {
        ALLOWED
            .get_or_init(|| metrics::counter!("tessera_token_checks_total", "outcome" => "allowed"))
            .increment(1);
    } else {
        metrics::counter!("tessera_token_checks_total", "outcome" => outcome).increment(1);
    }
}

/// 204 with the owner, token id and management zones when the token may act with `scope`.
#[utoipa::path(get, path = "/api/v2/auth/check", tag = "Gateway", params(CheckParams),
    responses((status = 204, description = "Allowed", headers(
                  ("X-Tessera-Owner" = String, description = "The token's owner"),
                  ("X-Tessera-Token-Id" = String, description = "The token's id"),
                  ("X-Tessera-Management-Zones" = String, description = "Comma-separated zones, or *"))),
              (status = 400, body = tessera_api::ErrorEnvelope), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = [])))]
pub async fn check(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    // The request itself rather than `HeaderMap` and `Uri` extractors, which clone them:
    // this runs on every request a proxy forwards.
    request: Request,
) -> Result<Response, ApiError> {
    state.require_current()?;
    // Who asks is decided before what they ask is read: a caller learns nothing about
    // its input (400) before it is allowed.
    let authenticated = match request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(value) => state.index().authenticate(value, time::now()),
        None => Err(Denied::Unauthorized),
    };
    let principal = authenticated.and_then(|principal| {
        // Read directly rather than through serde (`CheckParams` documents it).
        let query = request.uri().query().unwrap_or_default();
        let Some(scope) = form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "scope")
            .and_then(|(_, value)| Scope::parse(&value))
        else {
            return Ok(None);
        };
        principal.require(scope).map(|()| Some(principal))
    });
    let principal = match principal {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(ApiError::invalid(
                ParameterLocation::Query,
                "scope",
                "Name a known scope, e.g. metrics.read",
            ))
        }
        Err(denied) => {
            count(denied.outcome());
            return Err(denied.into());
        }
    };
    count("allowed");
    record_use(&state, &principal, client);
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    h.insert("x-tessera-owner", value(&principal.owner.username));
    h.insert("x-tessera-token-id", value(&principal.token_id));
    h.insert(
        "x-tessera-management-zones",
        value(principal.owner.zones_header()),
    );
    Ok(response)
}
