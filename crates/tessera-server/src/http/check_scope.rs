//! Which scope a gateway check asks about: `?scope=`, or with `--gateway-routes` the scope
//! the route map gives the original request, which a trusted proxy forwards as headers
//! (`forwarded`) or, as Envoy's ext_authz does, as the method and path of the check itself.
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use tessera_api::{ParameterLocation, Scope};

use crate::domain::routes::{RouteMap, Target, TargetError};
use crate::error::ApiError;
use crate::http::forwarded::{self, Forwarded};
use crate::state::AppState;

/// The path Envoy's `path_prefix` puts before the original path.
pub const PREFIX: &str = "/api/v2/auth/check";

fn header_error(message: String) -> ApiError {
    ApiError::invalid(ParameterLocation::Header, "X-Forwarded-Uri", message)
}

fn from_trusted_proxy(state: &AppState, request: &Request) -> bool {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| {
            let ip = c.0.ip();
            state
                .settings
                .trusted_proxies
                .iter()
                .any(|n| n.contains(&ip))
        })
}

/// The route map and the trusted proxy the prefixed (Envoy) form needs.
pub fn prefixed(state: &AppState, request: &Request) -> Result<Scope, ApiError> {
    let Some(routes) = &state.settings.gateway_routes else {
        return Err(ApiError::not_found(
            "Route map (start Tessera with --gateway-routes)",
        ));
    };
    if !from_trusted_proxy(state, request) {
        return Err(header_error(
            "the original request is read only from a --trusted-proxy".into(),
        ));
    }
    forwarded::refuse_smuggling(request.headers()).map_err(header_error)?;
    let uri = request.uri();
    let path = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let original = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    route(
        routes,
        Forwarded {
            method: request.method().as_str().to_owned(),
            uri: original,
        },
    )
}

/// The scope asked for: `?scope=`, or with a route map the one the forwarded request needs.
pub fn required(state: &AppState, request: &Request) -> Result<Scope, ApiError> {
    let routes = state.settings.gateway_routes.as_ref();
    // Forwarded headers count only from a trusted proxy, and only with a route map.
    let trusted = from_trusted_proxy(state, request);
    let forwarded = match routes {
        Some(_) if trusted && forwarded::present(request.headers()) => {
            Some(forwarded::read(request.headers()).map_err(header_error)?)
        }
        _ => None,
    };
    // Read directly rather than through serde (`CheckParams` documents it).
    let query = request.uri().query().unwrap_or_default();
    let asked = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "scope");
    let (routes, forwarded) = match (asked, routes, forwarded) {
        // A proxy that passes the client's query on must not let it choose the scope.
        (Some(_), _, Some(_)) => {
            return Err(ApiError::invalid(
                ParameterLocation::Query,
                "scope",
                "Send either ?scope= or the forwarded method and URI, not both",
            ))
        }
        (Some((_, value)), _, None) => {
            return Scope::parse(&value).ok_or_else(|| {
                ApiError::invalid(
                    ParameterLocation::Query,
                    "scope",
                    "Name a known scope, e.g. metrics.read",
                )
            })
        }
        (None, Some(_), None) if !trusted => return Err(header_error(
            "the forwarded method and URI are read only from a --trusted-proxy; ask with ?scope="
                .into(),
        )),
        // Nothing forwarded: `read` says what is missing (or refused).
        (None, Some(routes), forwarded) => match forwarded {
            Some(f) => (routes, f),
            None => (
                routes,
                forwarded::read(request.headers()).map_err(header_error)?,
            ),
        },
        (None, None, _) => {
            return Err(ApiError::invalid(
                ParameterLocation::Query,
                "scope",
                "Name a known scope, e.g. metrics.read (or start Tessera with --gateway-routes)",
            ))
        }
    };
    route(routes, forwarded)
}

fn route(routes: &RouteMap, forwarded: Forwarded) -> Result<Scope, ApiError> {
    let target = Target::parse(&forwarded.method, &forwarded.uri).map_err(|e| match e {
        TargetError::Method => header_error("the forwarded method is not an HTTP method".into()),
        TargetError::Path => header_error(
            "the forwarded path must not need normalising: no . or .. segments, ;, // or backslash, and no encoded slash, backslash, dot or percent".into(),
        ),
    })?;
    routes.scope_for(&target).ok_or_else(|| {
        let path: String = forwarded
            .uri
            .split('?')
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        ApiError::Forbidden(format!("No gateway route allows {} {path}", target.method))
    })
}
