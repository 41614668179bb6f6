//! The query parameters every paged list shares (`GET /api/v2/apiTokens`, `/auditlogs`).
use tessera_api::ParameterLocation;

use crate::error::ApiError;

/// A 400 naming a query parameter.
pub fn query_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(ParameterLocation::Query, name, message)
}

/// `nextPageKey` excludes every other parameter (as in Dynatrace's APIs).
pub fn page_key_alone(others: &[&Option<String>]) -> Result<(), ApiError> {
    if others.iter().any(|p| p.is_some()) {
        return Err(query_error(
            "nextPageKey",
            "When nextPageKey is given, no other query parameter may be",
        ));
    }
    Ok(())
}

/// `pageSize`: a whole number from 1 to `max`, or `default` when absent.
pub fn page_size(value: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            query_error(
                "pageSize",
                format!("pageSize must be a whole number from 1 to {max}"),
            )
        })
}
