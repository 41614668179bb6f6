//! The scope catalog (SPEC §1.3): the one place where scopes are defined.
use serde::{Deserialize, Serialize};

/// The group a scope is shown under in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeGroup {
    AccessTokens,
    AuditLogs,
    Entities,
    Metrics,
    NetworkZones,
    Problems,
    Releases,
    SecurityProblems,
    Settings,
    Slo,
}

impl ScopeGroup {
    /// Every group, in display order.
    pub const ALL: [ScopeGroup; 10] = [
        ScopeGroup::AccessTokens,
        ScopeGroup::AuditLogs,
        ScopeGroup::Entities,
        ScopeGroup::Metrics,
        ScopeGroup::NetworkZones,
        ScopeGroup::Problems,
        ScopeGroup::Releases,
        ScopeGroup::SecurityProblems,
        ScopeGroup::Settings,
        ScopeGroup::Slo,
    ];

    pub fn display_name(self) -> &'static str {
        match self {
            ScopeGroup::AccessTokens => "Access tokens",
            ScopeGroup::AuditLogs => "Audit logs",
            ScopeGroup::Entities => "Entities",
            ScopeGroup::Metrics => "Metrics",
            ScopeGroup::NetworkZones => "Network zones",
            ScopeGroup::Problems => "Problems",
            ScopeGroup::Releases => "Releases",
            ScopeGroup::SecurityProblems => "Security problems",
            ScopeGroup::Settings => "Settings",
            ScopeGroup::Slo => "SLO",
        }
    }

    /// The scopes of this group, in catalog order.
    pub fn scopes(self) -> impl Iterator<Item = Scope> {
        SCOPES.iter().copied().filter(move |s| s.group() == self)
    }
}

macro_rules! catalog {
    ($( $variant:ident => $value:literal, $group:ident, $display:literal, $grants:literal; )*) => {
        /// A permission that a user holds and a token carries.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope { $( $variant, )* }

        /// Every scope, in catalog order.
        pub const SCOPES: &[Scope] = &[ $( Scope::$variant, )* ];

        impl Scope {
            /// The API value, e.g. `metrics.read`.
            pub fn as_str(self) -> &'static str {
                match self { $( Scope::$variant => $value, )* }
            }
            /// The name shown in the console, e.g. "Read metrics".
            pub fn display_name(self) -> &'static str {
                match self { $( Scope::$variant => $display, )* }
            }
            /// What the scope grants, one line.
            pub fn description(self) -> &'static str {
                match self { $( Scope::$variant => $grants, )* }
            }
            pub fn group(self) -> ScopeGroup {
                match self { $( Scope::$variant => ScopeGroup::$group, )* }
            }
            /// Parses an API value; case-sensitive, as in the model API.
            pub fn parse(value: &str) -> Option<Scope> {
                match value { $( $value => Some(Scope::$variant), )* _ => None }
            }
        }
    };
}

catalog! {
    ApiTokensRead => "apiTokens.read", AccessTokens, "Read API tokens", "GET requests of the Access tokens API";
    ApiTokensWrite => "apiTokens.write", AccessTokens, "Write API tokens", "POST, PUT and DELETE requests of the Access tokens API";
    EntitiesRead => "entities.read", Entities, "Read entities", "GET requests of the Monitored entities and Custom tags APIs";
    EntitiesWrite => "entities.write", Entities, "Write entities", "POST, PUT and DELETE requests of the Monitored entities and Custom tags APIs";
    MetricsRead => "metrics.read", Metrics, "Read metrics", "GET requests of the Metrics API v2";
    MetricsWrite => "metrics.write", Metrics, "Write metrics", "The DELETE a custom metric request of the Metrics API v2";
    NetworkZonesRead => "networkZones.read", NetworkZones, "Read network zones", "GET requests of the Network zones API";
    NetworkZonesWrite => "networkZones.write", NetworkZones, "Write network zones", "POST, PUT and DELETE requests of the Network zones API";
    ProblemsRead => "problems.read", Problems, "Read problems", "GET requests of the Problems API v2";
    ProblemsWrite => "problems.write", Problems, "Write problems", "POST, PUT and DELETE requests of the Problems API v2";
    ReleasesRead => "releases.read", Releases, "Read releases", "The Releases API";
    SecurityProblemsRead => "securityProblems.read", SecurityProblems, "Read security problems", "GET requests of the Security problems API";
    SecurityProblemsWrite => "securityProblems.write", SecurityProblems, "Write security problems", "POST requests of the Security problems API";
    SettingsRead => "settings.read", Settings, "Read settings", "GET requests of the Settings API";
    SettingsWrite => "settings.write", Settings, "Write settings", "POST and DELETE requests of the Settings API (and PUT of settings objects)";
    SloRead => "slo.read", Slo, "Read SLO", "GET requests of the Service-level objectives API";
    SloWrite => "slo.write", Slo, "Write SLO", "POST, PUT and DELETE requests of the Service-level objectives API";
    // Last, so the bit positions of the scopes above stay as they were.
    AuditLogsRead => "auditLogs.read", AuditLogs, "Read audit logs", "GET requests of the Audit logs API (administrators only)";
}

impl Scope {
    /// Only administrators hold it: never granted to a user who is not one.
    pub fn admin_only(self) -> bool {
        matches!(self, Scope::AuditLogsRead)
    }
}

/// In the OpenAPI document a scope is one of the catalog's API values.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Scope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(SCOPES.iter().map(|s| s.as_str())))
            .description(Some("A scope's API value, e.g. `metrics.read`"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Scope {}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        Scope::parse(&value)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown scope `{value}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_the_seventeen_scopes_of_the_spec() {
        assert_eq!(SCOPES.len(), 18);
        let groups: usize = ScopeGroup::ALL.iter().map(|g| g.scopes().count()).sum();
        assert_eq!(groups, 18, "every scope belongs to a listed group");
    }

    #[test]
    fn api_values_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for scope in SCOPES {
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
            assert!(seen.insert(scope.as_str()));
        }
    }

    #[test]
    fn parse_is_case_sensitive_and_rejects_unknown_values() {
        assert_eq!(Scope::parse("metrics.read"), Some(Scope::MetricsRead));
        assert_eq!(Scope::parse("Metrics.Read"), None);
        assert_eq!(Scope::parse("metrics.ingest"), None);
        assert_eq!(Scope::parse(""), None);
    }

    #[test]
    fn serde_uses_the_api_value() {
        let json = serde_json::to_string(&Scope::SloWrite).unwrap();
        assert_eq!(json, "\"slo.write\"");
        let back: Scope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Scope::SloWrite);
        assert!(serde_json::from_str::<Scope>("\"nope\"").is_err());
    }
}
