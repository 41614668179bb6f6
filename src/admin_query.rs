//! The queries the administrators' pages send, built from their filter forms. Plain data
//! and strings, so they are tested natively (the pages themselves are in the admin build).

/// The selector value `"v"` with `\` escapes (the token list's `apiTokenSelector`).
pub fn quote_selector(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The audit filter value `"v"` with `~` escapes (Dynatrace's filter language).
pub fn quote_filter(value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '"' | '~' | ',' => vec!['~', c],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// The filters of Settings > Access control > Access tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilters {
    /// A username (exact).
    pub owner: String,
    /// A scope value such as `apiTokens.read`, or empty.
    pub scope: String,
    /// `personal`, `environment` or empty.
    pub kind: String,
    /// `enabled`, `disabled`, `expired`, `expiring` (within 7 days) or empty.
    pub status: String,
    /// Only tokens not used for 90 days (or never, made that long ago).
    pub unused: bool,
}

impl TokenFilters {
    /// The `apiTokenSelector` (empty: every token).
    pub fn selector(&self) -> String {
        let mut parts = Vec::new();
        let owner = self.owner.trim();
        if !owner.is_empty() {
            parts.push(format!("owner({})", quote_selector(owner)));
        }
        if !self.scope.is_empty() {
            parts.push(format!("scope({})", quote_selector(&self.scope)));
        }
        match self.kind.as_str() {
            "personal" => parts.push("personalAccessToken(true)".into()),
            "environment" => parts.push("personalAccessToken(false)".into()),
            _ => {}
        }
        if !self.status.is_empty() {
            parts.push(format!("status({})", quote_selector(&self.status)));
        }
        if self.unused {
            parts.push("unusedDays(90)".into());
        }
        parts.join(",")
    }
}

/// The filters of Settings > Access control > Audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilters {
    pub event_type: String,
    pub category: String,
    pub user: String,
    pub entity_id: String,
}

impl AuditFilters {
    /// The `filter` parameter (empty: everything in the time window).
    pub fn filter(&self) -> String {
        [
            ("eventType", self.event_type.trim()),
            ("category", self.category.trim()),
            ("user", self.user.trim()),
            ("entityId", self.entity_id.trim()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}({})", quote_filter(v)))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// One operation of an audit entry's `patch`, in words: the field, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub before: String,
    pub after: String,
}

/// The operations of a JSON Patch whose operations carry the replaced value in `oldValue`.
/// A value the server leaves out (a new password) reads "(not shown)".
pub fn changes(patch: Option<&serde_json::Value>) -> Vec<Change> {
    let Some(ops) = patch.and_then(|p| p.as_array()) else {
        return Vec::new();
    };
    let show = |v: Option<&serde_json::Value>| match v {
        None => "(not shown)".to_owned(),
        Some(serde_json::Value::Null) => "none".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) if items.is_empty() => "none".to_owned(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    ops.iter()
        .map(|op| Change {
            path: op["path"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned(),
            before: show(op.get("oldValue")),
            after: show(op.get("value")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_filters_make_the_documented_selector() {
        assert_eq!(TokenFilters::default().selector(), "");
        let all = TokenFilters {
            owner: r#" a"b\c "#.into(),
            scope: "apiTokens.read".into(),
            kind: "environment".into(),
            status: "expiring".into(),
            unused: true,
        };
        assert_eq!(
            all.selector(),
            r#"owner("a\"b\\c"),scope("apiTokens.read"),personalAccessToken(false),status("expiring"),unusedDays(90)"#
        );
    }

    #[test]
    fn audit_filters_escape_with_tilde() {
        assert_eq!(AuditFilters::default().filter(), "");
        let f = AuditFilters {
            event_type: "UPDATE".into(),
            category: String::new(),
            user: "a,b\"~".into(),
            entity_id: " dt0c01.X ".into(),
        };
        assert_eq!(
            f.filter(),
            r#"eventType("UPDATE"),user("a~,b~"~~"),entityId("dt0c01.X")"#
        );
    }

    #[test]
    fn patch_operations_read_as_before_and_after() {
        let patch = serde_json::json!([
            {"op": "replace", "path": "/enabled", "value": false, "oldValue": true},
            {"op": "replace", "path": "/scopes", "value": ["a.read", "b.write"], "oldValue": []},
            {"op": "replace", "path": "/expirationDate", "value": "2027-01-01T00:00:00Z", "oldValue": null},
            {"op": "replace", "path": "/password"}
        ]);
        let shown: Vec<_> = changes(Some(&patch))
            .into_iter()
            .map(|c| format!("{}: {} → {}", c.path, c.before, c.after))
            .collect();
        assert_eq!(
            shown,
            [
                "enabled: true → false",
                "scopes: none → a.read, b.write",
                "expirationDate: none → 2027-01-01T00:00:00Z",
                "password: (not shown) → (not shown)",
            ]
        );
        assert!(changes(None).is_empty());
    }
}
