//! The error envelope used by every `/api` response that is not a success.
use serde::{Deserialize, Serialize};

/// `{"error": {...}}`, as in the model API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The body of an error: HTTP status, a human-readable message and field-level violations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub code: u16,
    pub message: String,
    #[serde(default)]
    pub constraint_violations: Vec<ConstraintViolation>,
}

/// One invalid input, named by where it came from and its path within that place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConstraintViolation {
    pub path: String,
    pub message: String,
    pub parameter_location: ParameterLocation,
    #[serde(default)]
    pub location: Option<String>,
}

/// Where an invalid input was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterLocation {
    Path,
    PayloadBody,
    Query,
    Header,
}

impl ErrorEnvelope {
    /// An envelope with no constraint violations.
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message: message.into(),
                constraint_violations: Vec::new(),
            },
        }
    }
}

impl ConstraintViolation {
    pub fn new(
        location: ParameterLocation,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            parameter_location: location,
            location: None,
        }
    }
}
