//! The claims mapping (`--oidc-claims-mapping`): which values of the groups claim make an
//! administrator, grant which permissions and which management zones. Applied on every
//! sign-in and re-validation, so a group removed at the provider removes what it gave.
//!
//! ```toml
//! groups_claim = "groups"          # the default
//! [[group]]
//! name = "tessera-admins"
//! admin = true
//! [[group]]
//! name = "observability"
//! permissions = ["metrics.read", "metrics.write"]
//! zones = ["Production"]           # or all_zones = true
//! ```
use serde::Deserialize;
use tessera_api::Scope;

use crate::domain::names::ZoneName;
use crate::domain::scope_set::ScopeSet;

/// What a user holds by their groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    pub admin: bool,
    pub permissions: ScopeSet,
    pub zones: Vec<String>,
    pub all_zones: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default = "default_claim")]
    groups_claim: String,
    #[serde(default)]
    group: Vec<Group>,
}

fn default_claim() -> String {
    "groups".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    all_zones: bool,
}

#[derive(Debug, Clone)]
pub struct ClaimsMapping {
    pub groups_claim: String,
    groups: Vec<Group>,
}

impl Default for ClaimsMapping {
    fn default() -> Self {
        ClaimsMapping {
            groups_claim: default_claim(),
            groups: Vec::new(),
        }
    }
}

impl ClaimsMapping {
    /// Parses the file; errors name the group (1-based) and what is wrong.
    pub fn parse(text: &str) -> Result<ClaimsMapping, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut groups = file.group;
        for (i, g) in groups.iter_mut().enumerate() {
            let name = g.name.clone();
            let at = |e: String| format!("group {} ({name}): {e}", i + 1);
            for p in &g.permissions {
                Scope::parse(p).ok_or_else(|| at(format!("unknown permission `{p}`")))?;
            }
            // Stored as users' zones are (trimmed), so an unchanged mapping changes nothing.
            for z in g.zones.iter_mut() {
                *z = ZoneName::parse(z)
                    .map_err(|e| at(format!("zone `{z}`: {e}")))?
                    .as_str()
                    .to_owned();
            }
        }
        Ok(ClaimsMapping {
            groups_claim: file.groups_claim,
            groups,
        })
    }

    /// The rights of a member of `groups` (the union over every matching group).
    pub fn rights(&self, groups: &[String]) -> Rights {
        let mut rights = Rights::default();
        for g in self.groups.iter().filter(|g| groups.contains(&g.name)) {
            rights.admin |= g.admin;
            rights.all_zones |= g.all_zones;
            for p in g.permissions.iter().filter_map(|p| Scope::parse(p)) {
                rights.permissions.insert(p);
            }
            for z in &g.zones {
                if !rights.zones.contains(z) {
                    rights.zones.push(z.clone());
                }
            }
        }
        rights.zones.sort();
        if !rights.admin {
            rights.permissions = rights.permissions.without_admin_only();
        }
        rights
    }
}

/// The groups in a claim value: an array of strings, or one string.
pub fn groups_of(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = r#"
[[group]]
name = "tessera-admins"
admin = true
[[group]]
name = "observability"
permissions = ["metrics.read", "metrics.write"]
zones = ["Production"]
[[group]]
name = "staging"
permissions = ["metrics.read"]
zones = ["Staging"]
"#;

    #[test]
    fn rights_are_the_union_of_the_matching_groups() {
        let map = ClaimsMapping::parse(MAP).unwrap();
        assert_eq!(map.groups_claim, "groups");
        let r = map.rights(&["observability".into(), "staging".into(), "other".into()]);
        assert!(!r.admin);
        assert_eq!(
            r.permissions.to_strings(),
            ["metrics.read", "metrics.write"]
        );
        assert_eq!(r.zones, ["Production", "Staging"]);
        assert!(map.rights(&["tessera-admins".into()]).admin);
        assert_eq!(map.rights(&[]), Rights::default());
    }

    #[test]
    fn bad_mappings_name_the_group() {
        let bad = "[[group]]\nname = \"x\"\npermissions = [\"metrics.reed\"]\n";
        assert!(ClaimsMapping::parse(bad)
            .unwrap_err()
            .contains("group 1 (x): unknown permission"));
        let bad = "[[group]]\nname = \"x\"\nzones = [\"*\"]\n";
        assert!(ClaimsMapping::parse(bad).unwrap_err().contains("zone `*`"));
        assert!(ClaimsMapping::parse("[[group]]\nname = \"x\"\nextra = 1\n").is_err());
    }

    #[test]
    fn groups_are_read_from_an_array_or_a_string() {
        let v = serde_json::json!(["a", 1, "b"]);
        assert_eq!(groups_of(Some(&v)), ["a", "b"]);
        assert_eq!(groups_of(Some(&serde_json::json!("a"))), ["a"]);
        assert!(groups_of(None).is_empty());
    }
}
