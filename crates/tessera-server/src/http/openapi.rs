//! The OpenAPI 3 document of every `/api` route, generated from the handlers' annotations.
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera", description = "Personal access tokens; wire-compatible with the Access tokens API v2."),
    paths(
        super::session::sign_in, super::session::current, super::session::sign_out,
        super::api_tokens::list, super::api_tokens::create, super::api_tokens::lookup,
        super::api_tokens::get_one, super::api_tokens::update, super::api_tokens::delete,
        super::rotate::rotate, super::usage::usage,
        super::settings::list, super::settings::get_one, super::settings::update,
        super::users::list, super::users::get_one, super::users::add, super::users::update,
        super::users::reset_password, super::audit::list, super::audit::get_one,
        super::webhooks::deliveries, super::webhooks::send_test,
        super::check::check, openapi_json,
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Api-Token dt0c01.<public>.<secret>`",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "tessera_session",
                "Browser session; writes also need the X-CSRF-Token header",
            ))),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v2/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/api/v2/openapi.json", tag = "Operations", responses((status = 200, description = "OpenAPI 3 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
