//! Tessera's own browser-session API (`/api/session`).
use serde::{Deserialize, Serialize};

/// `POST /api/session` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in user as the console sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
    /// Scope values this user may use (admins: every scope).
    pub permissions: Vec<String>,
    pub management_zones: Vec<String>,
    pub all_zones: bool,
}

/// `GET /api/session` and `POST /api/session` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub user: UserInfo,
    pub pat_enabled: bool,
    /// Send as `X-CSRF-Token` on every cookie-authenticated POST, PUT and DELETE.
    pub csrf_token: String,
    /// The lifecycle policy's maximum token lifetime in days, when there is one.
    #[serde(default)]
    pub max_lifetime_days: Option<i64>,
    /// Days before expiry at which tokens are flagged, largest first (default `[7, 1]`).
    #[serde(default)]
    pub expiry_warning_days: Vec<i64>,
}

/// `GET /api/session/options`: how one may sign in here (read before signing in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignInOptions {
    pub password_login: bool,
    /// The identity provider's name, when single sign-on is on.
    pub sso: Option<String>,
}

/// `DELETE /api/session` for a user of single sign-on: where the browser goes next to end
/// the provider's session too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignedOut {
    pub end_session_url: String,
}
