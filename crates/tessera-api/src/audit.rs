//! The Audit logs API v2 (`/api/v2/auditlogs`), wire-compatible with Dynatrace's.
use serde::{Deserialize, Serialize};

/// One entry of the audit log (Dynatrace's `AuditLogEntry`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditLogEntry {
    /// The id of the entry.
    pub log_id: String,
    /// `CREATE`, `UPDATE`, `DELETE`, `LOGIN`, `LOGOUT` or `GENERAL`.
    pub event_type: String,
    /// `TOKEN` (token events), `CONFIG` (settings and users) or `WEB_UI` (sign-in, sign-out).
    pub category: String,
    /// What the change was made to: a token id, a username or a settings schema id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Who made it: a username, or `cli` / `system` (`userType` `SERVICE_NAME`).
    pub user: String,
    /// `USER_NAME` or `SERVICE_NAME`.
    pub user_type: String,
    /// The client address the request came from, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_origin: Option<String>,
    /// When, in epoch milliseconds.
    pub timestamp: i64,
    /// False for a refused sign-in.
    pub success: bool,
    /// Tessera's event name and its detail, e.g. `token.updated: name=true scopes=false`.
    pub message: String,
    /// Before → after, as a JSON Patch whose operations carry the replaced value in
    /// `oldValue`; absent when the event changed nothing it could show.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub patch: Option<serde_json::Value>,
}

/// A page of the audit log (Dynatrace's `AuditLog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditLog {
    pub audit_logs: Vec<AuditLogEntry>,
    pub total_count: u64,
    pub page_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_key: Option<String>,
}
