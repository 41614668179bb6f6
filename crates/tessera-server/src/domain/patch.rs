//! What a change did, as a JSON Patch (RFC 6902) of `replace` operations, each with the
//! value it replaced in `oldValue` — the `patch` of an Audit logs API entry.
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Patch(Vec<Value>);

impl Patch {
    /// Records `path` if the value changed.
    pub fn replace<T: Serialize + PartialEq>(&mut self, path: &str, old: &T, new: &T) -> &mut Self {
        if old != new {
            self.0
                .push(json!({"op": "replace", "path": path, "value": new, "oldValue": old}));
        }
        self
    }

    /// Records that a secret changed, without either value.
    pub fn replace_secret(&mut self, path: &str) -> &mut Self {
        self.0.push(json!({"op": "replace", "path": path}));
        self
    }

    /// The operations (secrets appear only as a path): what `settings.changed` reports.
    pub fn operations(&self) -> &[Value] {
        &self.0
    }

    /// The patch as stored, or `None` when nothing changed.
    pub fn text(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| Value::Array(self.0.clone()).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_are_recorded_and_secrets_carry_no_value() {
        let mut patch = Patch::default();
        patch
            .replace("/name", &"a", &"b")
            .replace("/enabled", &true, &true);
        patch.replace_secret("/password");
        let value: Value = serde_json::from_str(&patch.text().unwrap()).unwrap();
        assert_eq!(
            value,
            json!([
                {"op": "replace", "path": "/name", "value": "b", "oldValue": "a"},
                {"op": "replace", "path": "/password"}
            ])
        );
        assert_eq!(Patch::default().text(), None);
    }
}
