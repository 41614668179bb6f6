//! The lifecycle policy (SPEC §11), as stored (the webhook secret included) and as
//! validated from a settings write.
use serde::{Deserialize, Serialize};
use tessera_api::{ConstraintViolation, LifecyclePolicyValue, ParameterLocation};

use super::time::Millis;

pub const DAY_MS: Millis = 86_400_000;

/// The policy as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    pub max_lifetime_days: Option<i64>,
    pub expiry_warning_days: Vec<i64>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub disable_unused_after_days: Option<i64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_lifetime_days: None,
            expiry_warning_days: vec![7, 1],
            webhook_url: None,
            webhook_secret: None,
            disable_unused_after_days: None,
        }
    }
}

impl Policy {
    /// The stored text's policy; a row that does not parse is the default (never seen:
    /// only `to_text` writes it).
    pub fn from_text(text: Option<&str>) -> Policy {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The latest expiration a token made at `now` may have.
    pub fn latest_expiry(&self, now: Millis) -> Option<Millis> {
        self.max_lifetime_days.map(|days| now + days * DAY_MS)
    }

    /// The value the settings API shows: never the secret.
    pub fn to_wire(&self) -> LifecyclePolicyValue {
        LifecyclePolicyValue {
            max_lifetime_days: self.max_lifetime_days,
            expiry_warning_days: self.expiry_warning_days.clone(),
            webhook_url: self.webhook_url.clone(),
            webhook_secret: None,
            webhook_secret_set: self.webhook_secret.is_some(),
            disable_unused_after_days: self.disable_unused_after_days,
        }
    }

    /// The policy a write asks for, given the stored one (for the secret), or every
    /// violation with its field.
    pub fn from_write(
        value: LifecyclePolicyValue,
        current: &Policy,
    ) -> Result<Policy, Vec<ConstraintViolation>> {
        let mut violations = Vec::new();
        let mut bad = |path: &str, message: String| {
            violations.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                path,
                message,
            ));
        };
        let days = |v: Option<i64>, path: &str, bad: &mut dyn FnMut(&str, String)| {
            if let Some(d) = v.filter(|d| !(1..=3650).contains(d)) {
                bad(
                    path,
                    format!("{path} must be from 1 to 3650 days or null, not {d}"),
                );
            }
        };
        days(value.max_lifetime_days, "maxLifetimeDays", &mut bad);
        days(
            value.disable_unused_after_days,
            "disableUnusedAfterDays",
            &mut bad,
        );
        let mut warnings = value.expiry_warning_days.clone();
        warnings.sort_unstable_by(|a, b| b.cmp(a));
        warnings.dedup();
        if warnings.len() > 5 || warnings.iter().any(|d| !(1..=365).contains(d)) {
            bad(
                "expiryWarningDays",
                "expiryWarningDays takes up to 5 numbers of days, each from 1 to 365".into(),
            );
        }
        let url = value
            .webhook_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        if let Some(u) = &url {
            if let Err(e) = webhook_url(u) {
                bad("webhookUrl", e.into());
            }
        }
        let secret = match value.webhook_secret.as_deref() {
            None => current.webhook_secret.clone(),
            Some("") => None,
            Some(s) if !(16..=256).contains(&s.len()) || s.chars().any(|c| c.is_control()) => {
                bad(
                    "webhookSecret",
                    "webhookSecret must be 16 to 256 characters without control characters".into(),
                );
                None
            }
            Some(s) if s.starts_with("whsec_") && !super::signature::is_whsec(s) => {
                bad(
                    "webhookSecret",
                    "A whsec_ secret must be whsec_ and the base64 of at least 16 random bytes, \
                     as Standard Webhooks libraries make them"
                        .into(),
                );
                None
            }
            Some(s) => Some(s.to_owned()),
        };
        // Events are always signed: a URL needs a secret (an invalid one is reported above).
        if url.is_some() && secret.is_none() {
            match value.webhook_secret.as_deref() {
                Some("") => bad(
                    "webhookSecret",
                    "The secret cannot be removed while a webhookUrl is set".into(),
                ),
                None => bad(
                    "webhookSecret",
                    "Set a webhookSecret (16 to 256 characters) to sign the events sent to webhookUrl"
                        .into(),
                ),
                Some(_) => {}
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Policy {
            max_lifetime_days: value.max_lifetime_days,
            expiry_warning_days: warnings,
            webhook_url: url,
            webhook_secret: secret,
            disable_unused_after_days: value.disable_unused_after_days,
        })
    }
}

/// An absolute `http` or `https` URL with a host, at most 2,048 characters.
fn webhook_url(text: &str) -> Result<(), &'static str> {
    if text.len() > 2048 {
        return Err("webhookUrl must be at most 2048 characters");
    }
    let url = url::Url::parse(text).map_err(|_| "webhookUrl must be an absolute http(s) URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("webhookUrl must be an http or https URL with a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("webhookUrl must not carry a user name or password; sign with webhookSecret");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(v: serde_json::Value) -> LifecyclePolicyValue {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn writes_are_checked_field_by_field() {
        let current = Policy::default();
        let bad = Policy::from_write(
            write(
                serde_json::json!({"maxLifetimeDays": 0, "disableUnusedAfterDays": 4000,
                "expiryWarningDays": [400], "webhookUrl": "ftp://x", "webhookSecret": "short"}),
            ),
            &current,
        )
        .unwrap_err();
        let paths: Vec<_> = bad.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "maxLifetimeDays",
                "disableUnusedAfterDays",
                "expiryWarningDays",
                "webhookUrl",
                "webhookSecret"
            ]
        );
        for url in [
            "https://",
            "http://user:pw@host/",
            "javascript:alert(1)",
            "/relative",
        ] {
            assert!(webhook_url(url).is_err(), "{url}");
        }
        assert!(webhook_url("http://127.0.0.1:9000/hook").is_ok());
    }

    #[test]
    fn the_secret_is_kept_unless_replaced_or_removed() {
        let current = Policy {
            webhook_secret: Some("s".repeat(20)),
            ..Policy::default()
        };
        let keep = Policy::from_write(
            write(serde_json::json!({"expiryWarningDays": [1, 7, 7]})),
            &current,
        )
        .unwrap();
        assert_eq!(keep.webhook_secret, current.webhook_secret);
        assert_eq!(keep.expiry_warning_days, [7, 1]);
        let removed =
            Policy::from_write(write(serde_json::json!({"webhookSecret": ""})), &current).unwrap();
        assert_eq!(removed.webhook_secret, None);
        assert!(!removed.to_wire().webhook_secret_set && keep.to_wire().webhook_secret_set);
        assert_eq!(keep.to_wire().webhook_secret, None);
    }
}
