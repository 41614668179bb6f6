//! Extractors whose rejections render the API's error envelope, never a plain-text
//! framework message.
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;
use tessera_api::ParameterLocation;

use crate::error::ApiError;

/// A JSON body: `application/json` required, unknown fields refused (by the wire types).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::invalid(
                ParameterLocation::Header,
                "Content-Type",
                "Send the body as application/json",
            ));
        }
        // Through a Value first: serde would also build a struct from an array
        // (`[null, null]`), which no client means and no schema documents.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        if !value.is_object() {
            return Err(body_error("Send a JSON object"));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| body_error(&format!("Invalid JSON body: {e}")))
    }
}

fn body_error(message: &str) -> ApiError {
    ApiError::invalid(ParameterLocation::PayloadBody, "body", message)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    if timed_out(&rejection) {
        return ApiError::RequestTimeout;
    }
    let detail = match &rejection {
        JsonRejection::JsonDataError(e) => std::error::Error::source(e)
            .map(ToString::to_string)
            .unwrap_or_else(|| e.body_text()),
        JsonRejection::JsonSyntaxError(e) => std::error::Error::source(e)
            .map(ToString::to_string)
            .unwrap_or_else(|| e.body_text()),
        other => other.body_text(),
    };
    ApiError::invalid(
        ParameterLocation::PayloadBody,
        "body",
        format!("Invalid JSON body: {detail}"),
    )
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let detail = match &rejection {
        QueryRejection::FailedToDeserializeQueryString(e) => std::error::Error::source(e)
            .map(ToString::to_string)
            .unwrap_or_else(|| e.body_text()),
        other => other.body_text(),
    };
    ApiError::invalid(
        ParameterLocation::Query,
        "query",
        format!("Invalid query string: {detail}"),
    )
}

/// Whether reading the body stopped because `RequestBodyTimeoutLayer` fired.
fn timed_out(rejection: &JsonRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}
