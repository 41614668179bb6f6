//! The one error type of the HTTP layer. Every failure under `/api` renders the API's
//! error envelope; a 5xx says nothing internal (the detail goes to the log only).
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_api::{ConstraintViolation, ErrorEnvelope, ParameterLocation};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        violations: Vec<ConstraintViolation>,
    },
    /// One message for every authentication failure, so none of them can be told apart.
    #[error("unauthorized")]
    Unauthorized,
    /// A failed sign-in: one message whether the user, the password or the account is wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    /// A 403 that names the inputs it concerns (e.g. scopes the caller does not hold).
    #[error("{message}")]
    ForbiddenFields {
        message: String,
        violations: Vec<ConstraintViolation>,
    },
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but clashes with the state of the target (e.g. a token
    /// deleting itself); names the input concerned.
    #[error("{message}")]
    Conflict {
        message: String,
        violations: Vec<ConstraintViolation>,
    },
    #[error("payload too large")]
    PayloadTooLarge,
    /// The client did not finish sending the body in time.
    #[error("request timeout")]
    RequestTimeout,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// A token's rate limit (`crate::meter::rate`), at the given time.
    #[error("rate limited")]
    RateLimited(crate::meter::RateState, crate::domain::time::Millis),
    /// This node cannot answer truthfully right now (e.g. it cannot read the database).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            violations: Vec::new(),
        }
    }

    /// A 400 naming one invalid input.
    pub fn invalid(
        location: ParameterLocation,
        path: &str,
        message: impl Into<String>,
    ) -> ApiError {
        let message = message.into();
        ApiError::BadRequest {
            message: format!("Constraints violated: {path}: {message}"),
            violations: vec![ConstraintViolation::new(location, path, message)],
        }
    }

    /// A 409 naming the input that clashes.
    pub fn conflict(location: ParameterLocation, path: &str, message: &str) -> ApiError {
        ApiError::Conflict {
            message: message.to_owned(),
            violations: vec![ConstraintViolation::new(location, path, message)],
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ForbiddenFields { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } | ApiError::RateLimited(..) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.into())
    }
}

/// Renders an envelope with the given status and message.
pub fn envelope(
    status: StatusCode,
    message: &str,
    violations: Vec<ConstraintViolation>,
) -> Response {
    let mut body = ErrorEnvelope::new(status.as_u16(), message);
    body.error.constraint_violations = violations;
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        let (message, violations) = match self {
            ApiError::BadRequest {
                message,
                violations,
            }
            | ApiError::ForbiddenFields {
                message,
                violations,
            }
            | ApiError::Conflict {
                message,
                violations,
            } => (message, violations),
            ApiError::Unauthorized => ("Missing or invalid authentication".to_owned(), Vec::new()),
            ApiError::InvalidCredentials => ("Invalid username or password".to_owned(), Vec::new()),
            ApiError::Forbidden(m) | ApiError::NotFound(m) | ApiError::Unavailable(m) => {
                (m, Vec::new())
            }
            ApiError::PayloadTooLarge => ("Request body is too large".to_owned(), Vec::new()),
            ApiError::RequestTimeout => (
                "The request body did not arrive in time".to_owned(),
                Vec::new(),
            ),
            ApiError::TooManyRequests { .. } => {
                ("Too many requests; try again later".to_owned(), Vec::new())
            }
            ApiError::RateLimited(state, now) => {
                let message = format!(
                    "This token's rate limit of {} requests per minute is used up; try again in {} s",
                    state.limit,
                    state.reset_secs(now)
                );
                let mut response = envelope(status, &message, Vec::new());
                crate::meter::set_headers(response.headers_mut(), &state, now);
                return response;
            }
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                ("Internal server error".to_owned(), Vec::new())
            }
        };
        let mut response = envelope(status, &message, violations);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Api-Token"),
            );
        }
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.max(1).into());
        }
        response
    }
}
