//! The Audit logs API's view of Tessera's audit rows: how each event maps onto Dynatrace's
//! `eventType` and `category`, the `filter` language, and the query a page key carries.
use serde::{Deserialize, Serialize};

use super::time::Millis;

/// Tessera's events with their `eventType` and `category` (SPEC §12). An event not listed
/// (none is written today) is `GENERAL` / `CONFIG`.
const EVENTS: &[(&str, &str, &str)] = &[
    ("token.generated", "CREATE", "TOKEN"),
    ("token.updated", "UPDATE", "TOKEN"),
    ("token.enabled", "UPDATE", "TOKEN"),
    ("token.disabled", "UPDATE", "TOKEN"),
    ("token.deleted", "DELETE", "TOKEN"),
    ("token.rotated", "UPDATE", "TOKEN"),
    ("token.policy_capped", "UPDATE", "TOKEN"),
    ("settings.changed", "UPDATE", "CONFIG"),
    ("user.added", "CREATE", "CONFIG"),
    ("user.updated", "UPDATE", "CONFIG"),
    ("user.password_changed", "UPDATE", "CONFIG"),
    ("user.enabled", "UPDATE", "CONFIG"),
    ("user.disabled", "UPDATE", "CONFIG"),
    ("signin.succeeded", "LOGIN", "WEB_UI"),
    ("signin.failed", "LOGIN", "WEB_UI"),
    ("signout", "LOGOUT", "WEB_UI"),
];

/// Dynatrace's event types and categories; filtering by one Tessera never writes is not an
/// error, it matches nothing.
const EVENT_TYPES: &[&str] = &[
    "CREATE",
    "DELETE",
    "GENERAL",
    "GET",
    "LOGIN",
    "LOGOUT",
    "PATCH",
    "POST",
    "PUT",
    "READ",
    "REVOKE",
    "TAG_ADD",
    "TAG_REMOVE",
    "TAG_UPDATE",
    "UPDATE",
];
const CATEGORIES: &[&str] = &[
    "ACTIVEGATE_TOKEN",
    "CONFIG",
    "DEBUG_UI",
    "MANUAL_TAGGING_SERVICE",
    "REST",
    "TOKEN",
    "WEB_UI",
];

/// `(eventType, category)` of a Tessera event.
pub fn classify(event: &str) -> (&'static str, &'static str) {
    EVENTS
        .iter()
        .find(|(name, _, _)| *name == event)
        .map_or(("GENERAL", "CONFIG"), |(_, t, c)| (*t, *c))
}

/// Whether Tessera writes this event (a page key naming another was not written by us).
pub fn known_event(event: &str) -> bool {
    EVENTS.iter().any(|(name, _, _)| *name == event)
}

/// Whether the event reports a success (a refused sign-in does not).
pub fn success(event: &str) -> bool {
    event != "signin.failed"
}

/// A first page's request, resolved: later pages carry it unchanged in their key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Tessera event names to include; `None` is all.
    pub events: Option<Vec<String>>,
    /// Actors, any of them (EQUALS).
    pub users: Vec<String>,
    /// Parts of the entity id, any of them (CONTAINS).
    pub entity_ids: Vec<String>,
    pub from: Millis,
    pub to: Millis,
    pub ascending: bool,
    pub page_size: u32,
}

impl AuditQuery {
    pub const DEFAULT_PAGE_SIZE: u32 = 1000;
    pub const MAX_PAGE_SIZE: u32 = 5000;
}

/// The criteria of `filter`: `eventType("CREATE","UPDATE"),category("TOKEN"),user("alice"),
/// entityId("dt0c01.")`. Values are quoted; `~` escapes `"`, `~` and `,` inside them.
pub fn parse_filter(input: &str) -> Result<Filter, String> {
    let mut filter = Filter::default();
    for (key, values) in super::selector::criteria(input, '~')? {
        let known = |allowed: &[&str], what: &str| -> Result<Vec<String>, String> {
            for v in &values {
                if !allowed.contains(&v.as_str()) {
                    return Err(format!(
                        "Unknown {what} `{v}`; use one of {}",
                        allowed.join(", ")
                    ));
                }
            }
            Ok(values.clone())
        };
        match key {
            "eventType" => filter.event_types.extend(known(EVENT_TYPES, "eventType")?),
            "category" => filter.categories.extend(known(CATEGORIES, "category")?),
            "user" => filter.users.extend(values),
            "entityId" => filter.entity_ids.extend(values),
            other => {
                return Err(format!(
                    "Unknown criterion `{other}`; use eventType, category, user or entityId"
                ))
            }
        }
    }
    Ok(filter)
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub event_types: Vec<String>,
    pub categories: Vec<String>,
    pub users: Vec<String>,
    pub entity_ids: Vec<String>,
}

impl Filter {
    /// The Tessera events the type and category criteria leave (`None`: no such criterion).
    pub fn events(&self) -> Option<Vec<String>> {
        if self.event_types.is_empty() && self.categories.is_empty() {
            return None;
        }
        let wanted =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        Some(
            EVENTS
                .iter()
                .filter(|(_, t, c)| wanted(&self.event_types, t) && wanted(&self.categories, c))
                .map(|(name, _, _)| (*name).to_owned())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_map_onto_tessera_events() {
        let f = parse_filter(
            r#"eventType("UPDATE"),category("TOKEN"),user("al~"x"),entityId("dt0c01.")"#,
        )
        .unwrap();
        assert_eq!(f.users, vec!["al\"x"]);
        assert_eq!(f.entity_ids, vec!["dt0c01."]);
        assert_eq!(
            f.events().unwrap(),
            vec![
                "token.updated",
                "token.enabled",
                "token.disabled",
                "token.rotated",
                "token.policy_capped"
            ]
        );
        assert_eq!(
            parse_filter(r#"eventType("READ")"#).unwrap().events(),
            Some(vec![])
        );
        assert_eq!(parse_filter("").unwrap().events(), None);
        for bad in [
            r#"eventType("NOPE")"#,
            r#"colour("red")"#,
            r#"user("a""#,
            "user(a) user(b)",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_event_is_classified() {
        assert_eq!(classify("signin.failed"), ("LOGIN", "WEB_UI"));
        assert!(!success("signin.failed"));
        assert_eq!(classify("something.new"), ("GENERAL", "CONFIG"));
    }
}
