//! `GET /api/v2/apiTokens/{id}/usage` (a Tessera extension): a token's requests per hour.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Requests that were allowed, refused (a scope or permission missing, or no route) and
/// refused by the token's rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageCounts {
    pub allowed: u64,
    pub refused: u64,
    pub limited: u64,
}

impl UsageCounts {
    pub fn add(&mut self, other: &UsageCounts) {
        self.allowed += other.allowed;
        self.refused += other.refused;
        self.limited += other.limited;
    }

    pub fn total(&self) -> u64 {
        self.allowed + self.refused + self.limited
    }
}

/// One hour with requests (hours without any are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UsageHour {
    /// The hour's start, ISO-8601 UTC.
    pub start: String,
    pub allowed: u64,
    pub refused: u64,
    pub limited: u64,
    /// The same counts by the scope asked for; `*` is a request refused by the rate limit
    /// before its scope was known. (Not read back by the console, which draws the totals:
    /// a map's deserializer would weigh on its download.)
    #[serde(default, skip_deserializing)]
    pub by_scope: BTreeMap<String, UsageCounts>,
}

impl UsageHour {
    pub fn add(&mut self, counts: &UsageCounts) {
        self.allowed += counts.allowed;
        self.refused += counts.refused;
        self.limited += counts.limited;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    pub token_id: String,
    /// The first hour covered (30 days back at most), ISO-8601 UTC.
    pub from: String,
    /// The end of the current hour, ISO-8601 UTC.
    pub to: String,
    pub total: UsageCounts,
    pub hours: Vec<UsageHour>,
}
