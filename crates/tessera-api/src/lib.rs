//! Tessera's wire types and scope catalog.
//!
//! Both the console (compiled to wasm32) and the server use these types, so a field
//! renamed here is renamed on both sides at once. Only serde (and, behind the `openapi`
//! feature, utoipa) may be depended on: nothing server-only belongs here.

pub mod audit;
pub mod error;
pub mod scopes;
pub mod session;
pub mod settings;
pub mod tokens;
pub mod usage;
pub mod users;
pub mod webhooks;

pub use audit::{AuditLog, AuditLogEntry};
pub use error::{ConstraintViolation, ErrorBody, ErrorEnvelope, ParameterLocation};
pub use scopes::{Scope, ScopeGroup, SCOPES};
pub use session::{LoginRequest, SessionInfo, SignInOptions, SignedOut, UserInfo};
pub use settings::{
    LifecyclePolicyValue, SettingsList, SettingsObject, SettingsUpdate, SettingsValue,
    TokenSettingsValue,
};
pub use tokens::{
    ApiToken, ApiTokenList, CreateTokenRequest, CreatedToken, LookupRequest, RotateTokenRequest,
    UpdateTokenRequest,
};
pub use usage::{TokenUsage, UsageCounts, UsageHour};
pub use users::{AdminUser, NewUser, UserList, UserUpdate, UserWithPassword};
pub use webhooks::{WebhookAttempt, WebhookDeliveries, WebhookDelivery, WebhookTestQueued};

/// The token id prefix and the scanner-compatible shape of a whole token.
pub const TOKEN_PREFIX: &str = "dt0c01";
/// Length of the public part (the token id is `dt0c01.<public>`).
pub const PUBLIC_LEN: usize = 24;
/// Length of the secret part: 57 random characters and a 7-character checksum.
pub const SECRET_LEN: usize = 64;

/// Schema id of the token settings object (Settings 2.0).
pub const TOKEN_SETTINGS_SCHEMA: &str = "builtin:tokens.token-settings";
/// The schema id of the lifecycle policy object (SPEC §11).
pub const LIFECYCLE_SCHEMA: &str = "tessera:tokens.lifecycle";
