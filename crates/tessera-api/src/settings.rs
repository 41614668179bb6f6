//! The Settings 2.0 objects: `builtin:tokens.token-settings` (PATs on or off) and
//! `tessera:tokens.lifecycle` (the lifecycle policy, SPEC §11).
use serde::{Deserialize, Serialize};

/// The value of the token settings object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenSettingsValue {
    pub pat_enabled: bool,
}

/// The value of the lifecycle policy object as read. `webhookSecret` is write-only: reads
/// give `null` and say in `webhookSecretSet` whether one is stored. On write an absent or
/// `null` secret keeps the stored one, `""` removes it (so a read value can be written back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecyclePolicyValue {
    /// New tokens must expire within this many days (1–3650); `null`: no limit.
    #[serde(default)]
    pub max_lifetime_days: Option<i64>,
    /// Days before expiry at which owners are warned, e.g. `[7, 1]` (each 1–365, at most 5).
    #[serde(default)]
    pub expiry_warning_days: Vec<i64>,
    /// Where events are POSTed (`http` or `https`); `null`: no webhook.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Write-only (see above).
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// Read-only: whether a webhook secret is stored.
    #[serde(default)]
    pub webhook_secret_set: bool,
    /// Tokens not used for this many days (1–3650; from creation when never used) are
    /// disabled; `null`: never.
    #[serde(default)]
    pub disable_unused_after_days: Option<i64>,
}

/// The value of a settings object, by its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum SettingsValue {
    Token(TokenSettingsValue),
    Lifecycle(LifecyclePolicyValue),
}

/// One settings object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettingsObject {
    pub object_id: String,
    pub schema_id: String,
    pub scope: String,
    pub value: SettingsValue,
}

/// `GET /api/v2/settings/objects` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettingsList {
    pub items: Vec<SettingsObject>,
    pub total_count: u64,
    pub page_size: u64,
}

/// `PUT /api/v2/settings/objects/{objectId}` body: a value of the object's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub value: SettingsValue,
}
