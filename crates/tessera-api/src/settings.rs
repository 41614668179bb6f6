//! The `builtin:tokens.token-settings` Settings 2.0 object.
use serde::{Deserialize, Serialize};

/// The value of the token settings object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenSettingsValue {
    pub pat_enabled: bool,
}

/// One settings object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettingsObject {
    pub object_id: String,
    pub schema_id: String,
    pub scope: String,
    pub value: TokenSettingsValue,
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

/// `PUT /api/v2/settings/objects/{objectId}` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub value: TokenSettingsValue,
}
