//! The HTTP layer: one router per resource, merged here with the layers they share.
pub mod api_tokens;
pub mod assets;
mod audit;
pub mod authorized;
pub mod check;
pub mod check_scope;
pub mod embedded;
pub mod extract;
pub mod forwarded;
pub mod middleware;
pub mod openapi;
pub mod ops;
mod paging;
mod rotate;
pub mod session;
pub mod settings;
mod sso;
#[cfg(debug_assertions)]
mod test_clock;
mod usage;
mod users;
mod webhooks;

use std::path::PathBuf;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::envelope;
use crate::state::AppState;

/// Request bodies larger than this are refused with 413 before they are parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole application: `/api`, operations endpoints and the console's assets.
pub fn app(state: AppState, assets: Option<PathBuf>) -> Router {
    let api = Router::new()
        .merge(session::router())
        .merge(api_tokens::router())
        .merge(rotate::router())
        .merge(sso::router())
        .merge(usage::router())
        .merge(settings::router())
        .merge(users::router())
        .merge(webhooks::router())
        .merge(audit::router())
        .merge(openapi::router())
        .merge(test_routes())
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyTimeoutLayer::new(state.settings.body_timeout))
        .layer(middleware::json_charset())
        .layer(middleware::no_store());

    // The gateway check is the hot path of every protected request. It takes no body, so it
    // skips the body limit and timeout layers and keeps only the two header layers.
    let gateway = check::router()
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::json_charset())
        .layer(middleware::no_store());

    let csp = assets::content_security_policy(assets.as_ref());
    let mut app = Router::new()
        .merge(api)
        .merge(gateway)
        .merge(ops::router())
        .with_state(state);
    app = match assets {
        Some(dir) => app.fallback_service(assets::service(&dir)),
        None if embedded::available() => app.fallback_service(embedded::service()),
        None => app.fallback(console_missing),
    };
    let mut app = app.layer(axum::middleware::from_fn(middleware::observe));
    for (name, value) in middleware::security_headers(&csp) {
        app = app.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    app
}

/// The tests' clock, in debug builds (`test_clock`); nothing in release builds.
fn test_routes() -> Router<AppState> {
    #[cfg(debug_assertions)]
    return test_clock::router();
    #[cfg(not(debug_assertions))]
    Router::new()
}

async fn api_not_found() -> Response {
    envelope(StatusCode::NOT_FOUND, "No such API endpoint", Vec::new())
}

async fn method_not_allowed() -> Response {
    envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed on this endpoint",
        Vec::new(),
    )
}

async fn console_missing() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        "This build of Tessera has no console inside (the console was not built before the \
         server); it serves the API only. Run `make run`, or start it with --assets <dist>.\n",
    )
}
