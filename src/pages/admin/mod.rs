//! Pages only administrators use, built into `admin.html` only (see `crate::bundle`).
mod access_tokens;
mod audit_log;
mod bulk;
mod lifecycle_policy;
mod token_settings;
mod user_form;
mod users;
mod webhook_deliveries;

pub use access_tokens::{AccessTokensPage, NewEnvironmentTokenPage};
pub use audit_log::AuditLogPage;
pub use token_settings::TokenSettingsPage;
pub use user_form::{EditUserPage, NewUserPage};
pub use users::UsersPage;
