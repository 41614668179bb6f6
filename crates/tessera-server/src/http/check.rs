//! The gateway check (SPEC §5.5): may this token act with this scope? Made for reverse
//! proxies, so it is the hot path: decided from the in-memory index, no database read,
//! at most one throttled last-used write per token per minute, and for a rate-limited
//! token one reservation per tenth of its limit (`meter::rate`).
use axum::extract::Request;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde::Deserialize;
use tessera_api::Scope;
use utoipa::IntoParams;

use crate::auth::caller::record_use;
use crate::auth::caller::ClientAddr;
use crate::auth::{Denied, TokenPrincipal};
use crate::domain::time;
use crate::error::ApiError;
use crate::http::check_scope;
use crate::meter::{set_headers, Outcome};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/auth/check", get(check))
        // The site root, which the catch-all below does not match.
        .route("/api/v2/auth/check/", any(check_prefixed))
        .route("/api/v2/auth/check/{*original}", any(check_prefixed))
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
                  ("X-Tessera-Management-Zones" = String, description = "Comma-separated zones, or *"),
                  ("X-RateLimit-Limit" = u32, description = "With a rate-limited token: its requests per minute"),
                  ("X-RateLimit-Remaining" = u32, description = "Requests left in this minute over all nodes (as this node knows)"),
                  ("X-RateLimit-Reset" = u64, description = "Seconds until the minute ends"))),
              (status = 400, body = tessera_api::ErrorEnvelope), (status = 401, body = tessera_api::ErrorEnvelope),
              (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 429, description = "The token's rate limit is used up (Retry-After, X-RateLimit-*)", body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = [])))]
pub async fn check(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    // The request itself rather than `HeaderMap` and `Uri` extractors, which clone them:
    // this runs on every request a proxy forwards.
    request: Request,
) -> Result<Response, ApiError> {
    let asked = ask(&state, &request, check_scope::required)?;
    decide(&state, client, asked, StatusCode::NO_CONTENT).await
}

/// Envoy's ext_authz (HTTP): the check's own method and the path after
/// `/api/v2/auth/check` are the original request's; 200 allows (Envoy allows only 200).
pub async fn check_prefixed(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request: Request,
) -> Result<Response, ApiError> {
    let asked = ask(&state, &request, check_scope::prefixed)?;
    let mut response = decide(&state, client, asked, StatusCode::OK).await?;
    // Envoy removes these from the upstream request: it never sees the token or cookies.
    response.headers_mut().insert(
        "x-envoy-auth-headers-to-remove",
        HeaderValue::from_static("authorization, cookie"),
    );
    Ok(response)
}

/// Who asks, and for which scope (not async: a `&Request` cannot be held across an await).
fn ask(
    state: &AppState,
    request: &Request,
    scope_of: fn(&AppState, &Request) -> Result<Scope, ApiError>,
) -> Result<(TokenPrincipal, Scope), ApiError> {
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
    let principal = match authenticated {
        Ok(p) => p,
        Err(denied) => {
            count(denied.outcome());
            return Err(denied.into());
        }
    };
    let scope = scope_of(state, request).inspect_err(|e| {
        if matches!(e, ApiError::Forbidden(_)) {
            count("no_route");
            state
                .meter
                .record(&principal.token_id, None, Outcome::Refused);
        }
    })?;
    Ok((principal, scope))
}

/// The rate limit, then rules 6 and 7.
async fn decide(
    state: &AppState,
    client: std::net::IpAddr,
    (principal, scope): (TokenPrincipal, Scope),
    allowed: StatusCode,
) -> Result<Response, ApiError> {
    let meter = &state.meter;
    let rate = meter
        .limit(state.store(), &principal, Some(scope))
        .await
        .inspect_err(|e| {
            if matches!(e, ApiError::RateLimited(..)) {
                count("rate_limited");
            }
        })?;
    if let Err(denied) = principal.require(scope) {
        count(denied.outcome());
        meter.record(&principal.token_id, Some(scope), Outcome::Refused);
        return Err(denied.into());
    }
    count("allowed");
    meter.record(&principal.token_id, Some(scope), Outcome::Allowed);
    record_use(state, &principal, client);
    let mut response = allowed.into_response();
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    h.insert("x-tessera-owner", value(&principal.owner.username));
    h.insert("x-tessera-token-id", value(&principal.token_id));
    h.insert(
        "x-tessera-management-zones",
        value(principal.owner.zones_header()),
    );
    if let Some(rate) = rate {
        set_headers(h, &rate, time::now());
    }
    Ok(response)
}
