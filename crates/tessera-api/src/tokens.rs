//! The Access tokens API v2 wire types.
use serde::{Deserialize, Serialize};

/// Token metadata. Every field but `id` is optional on the wire because the list
/// endpoint returns only the fields asked for with `fields`; the single-token endpoints
/// return all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_access_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    /// Absent when not asked for; `null` when the token never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_date: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_ip_address: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `GET /api/v2/apiTokens` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenList {
    pub api_tokens: Vec<ApiToken>,
    pub total_count: u64,
    pub page_size: u64,
    pub next_page_key: Option<String>,
}

/// `POST /api/v2/apiTokens` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1–100 characters, at least one not a space, no control characters. Need not be unique.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 100,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::Scope>, min_items = 1))]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_access_token: Option<bool>,
    /// ISO-8601 instant or `now+<n><unit>` (units `m h d w M y`); absent = never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    /// Tessera extension: at most this many requests per minute, over all nodes (1–1000000);
    /// absent = unlimited. Read back as `additionalMetadata.rateLimitPerMinute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub rate_limit_per_minute: Option<u32>,
}

/// `POST /api/v2/apiTokens` result: the only response that ever carries the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    pub expiration_date: Option<String>,
}

/// `POST /api/v2/apiTokens/{id}/rotate` body (SPEC §11): a new token replaces this one,
/// which keeps working for `graceSeconds` and is then refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateTokenRequest {
    /// 0–86400; 0 (the default) ends the old token at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 86400))]
    pub grace_seconds: Option<i64>,
    /// ISO-8601 instant or `now+<n><unit>`; absent = the old token's lifetime length again
    /// (never expiring if it never did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
}

/// `PUT /api/v2/apiTokens/{id}` body; absent fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// 1–100 characters, at least one not a space, no control characters. Need not be unique.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 100,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A full replacement of the token's scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::Scope>>, min_items = 1))]
    pub scopes: Option<Vec<String>>,
    /// Tessera extension: requests per minute over all nodes (1–1000000); `null` removes
    /// the limit, absent leaves it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_or_null"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, nullable = true, minimum = 1, maximum = 1000000))]
    pub rate_limit_per_minute: Option<Option<u32>>,
}

/// Tells `null` (`Some(None)`) from an absent field (`None`, by `default`).
fn present_or_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /api/v2/apiTokens/lookup` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// A whole token, `dt0c01.<public>.<secret>`; surrounding spaces are ignored.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*dt0c01\.[A-Z2-7]{24}\.[A-Z2-7]{64}\s*$")
    )]
    pub token: String,
}
