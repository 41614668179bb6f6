//! Tessera's users API (`/api/v2/tessera/users`, a Tessera extension; admins only).
use serde::{Deserialize, Serialize};

/// A user as an administrator sees them (never a password or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
    /// Disabled users cannot sign in, and none of their tokens work.
    pub active: bool,
    /// Scope values the user may grant to their tokens (admins: every scope).
    pub permissions: Vec<String>,
    pub management_zones: Vec<String>,
    pub all_zones: bool,
    /// Whether the user has a local password (false for users of single sign-on).
    pub has_password: bool,
}

/// `GET /api/v2/tessera/users` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserList {
    pub users: Vec<AdminUser>,
    pub total_count: u64,
}

/// `POST /api/v2/tessera/users` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    /// Defaults to the username.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub management_zones: Vec<String>,
    #[serde(default)]
    pub all_zones: bool,
    #[serde(default)]
    pub admin: bool,
}

/// `PUT /api/v2/tessera/users/{username}` body; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    #[serde(default)]
    pub management_zones: Option<Vec<String>>,
    #[serde(default)]
    pub all_zones: Option<bool>,
    #[serde(default)]
    pub admin: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A user with a password generated for them, shown this once (add, reset password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserWithPassword {
    pub user: AdminUser,
    pub password: String,
}
