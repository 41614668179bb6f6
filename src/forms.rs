//! The generate form's rules, kept apart from the view so they can be tested alone.
//! The server applies the same rules; these only spare a round trip.
use std::collections::BTreeSet;

use tessera_api::{Scope, ScopeGroup};

/// Checks a token name as the server will: 1–100 characters after trimming.
pub fn validate_name(name: &str) -> Result<(), &'static str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        Err("Enter a name that says what the token is for.")
    } else if trimmed.chars().count() > 100 {
        Err("Use at most 100 characters.")
    } else {
        Ok(())
    }
}

/// When a new token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    Days30,
    Days90,
    Year1,
    Custom,
    Never,
}

impl Expiration {
    pub const ALL: [Expiration; 5] = [
        Expiration::Days30,
        Expiration::Days90,
        Expiration::Year1,
        Expiration::Custom,
        Expiration::Never,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Expiration::Days30 => "30 days",
            Expiration::Days90 => "90 days",
            Expiration::Year1 => "1 year",
            Expiration::Custom => "Custom date",
            Expiration::Never => "No expiration",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Expiration::Days30 => "30d",
            Expiration::Days90 => "90d",
            Expiration::Year1 => "1y",
            Expiration::Custom => "custom",
            Expiration::Never => "never",
        }
    }

    /// The preset's length in days (a year counted long, for leap years); `None` for a
    /// date of one's choice and for no expiration.
    pub fn days(self) -> Option<i64> {
        match self {
            Expiration::Days30 => Some(30),
            Expiration::Days90 => Some(90),
            Expiration::Year1 => Some(366),
            Expiration::Custom | Expiration::Never => None,
        }
    }

    /// Whether the lifecycle policy's maximum lifetime (`max_days`) allows this choice.
    pub fn allowed(self, max_days: Option<i64>) -> bool {
        match (self, max_days) {
            (_, None) | (Expiration::Custom, _) => true,
            (Expiration::Never, Some(_)) => false,
            (preset, Some(max)) => preset.days().is_some_and(|d| d <= max),
        }
    }

    /// The `expirationDate` to send. `custom_date` is `YYYY-MM-DD` from a date input and
    /// `today` is the same form in the browser's calendar; the token then expires at
    /// the end of that day in UTC.
    pub fn to_request(
        self,
        custom_date: &str,
        today: &str,
    ) -> Result<Option<String>, &'static str> {
        match self {
            Expiration::Days30 => Ok(Some("now+30d".into())),
            Expiration::Days90 => Ok(Some("now+90d".into())),
            Expiration::Year1 => Ok(Some("now+1y".into())),
            Expiration::Never => Ok(None),
            Expiration::Custom => {
                let date = custom_date.trim();
                if !is_date(date) {
                    Err("Choose the date on which the token expires.")
                } else if date <= today {
                    Err("Choose a date in the future.")
                } else {
                    Ok(Some(format!("{date}T23:59:59.999Z")))
                }
            }
        }
    }
}

/// A custom date (`YYYY-MM-DD`) within the policy: on or before `latest`, when there is
/// one (dates of that form compare as text).
pub fn date_within(date: &str, latest: Option<&str>, max_days: Option<i64>) -> Result<(), String> {
    match (latest, max_days) {
        (Some(latest), Some(days)) if date.trim() > latest => Err(format!(
            "Choose a date on or before {latest}: your administrator allows tokens to live at most {days} days."
        )),
        _ => Ok(()),
    }
}

fn is_date(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Which scopes are ticked; only scopes the user holds can be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSelection {
    selected: BTreeSet<Scope>,
}

impl ScopeSelection {
    /// The scopes of these API values (unknown values are left out).
    pub fn from_values(values: &[String]) -> ScopeSelection {
        ScopeSelection {
            selected: values.iter().filter_map(|v| Scope::parse(v)).collect(),
        }
    }

    pub fn is_selected(&self, scope: Scope) -> bool {
        self.selected.contains(&scope)
    }

    pub fn toggle(&mut self, scope: Scope, held: &[Scope]) {
        if !self.selected.remove(&scope) && held.contains(&scope) {
            self.selected.insert(scope);
        }
    }

    /// Ticks every scope of `group` the user holds; when all are ticked already, unticks them.
    pub fn toggle_group(&mut self, group: ScopeGroup, held: &[Scope]) {
        let available: Vec<Scope> = group.scopes().filter(|s| held.contains(s)).collect();
        if available.iter().all(|s| self.selected.contains(s)) {
            for s in &available {
                self.selected.remove(s);
            }
        } else {
            self.selected.extend(available);
        }
    }

    pub fn group_fully_selected(&self, group: ScopeGroup, held: &[Scope]) -> bool {
        let mut available = group.scopes().filter(|s| held.contains(s)).peekable();
        available.peek().is_some() && available.all(|s| self.selected.contains(&s))
    }

    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    /// API values in catalog order.
    pub fn values(&self) -> Vec<String> {
        self.selected
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_server_rules() {
        assert!(validate_name("deploy bot").is_ok());
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(100)).is_ok());
        assert!(validate_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_policy_leaves_the_presets_that_fit() {
        let allowed = |max| {
            Expiration::ALL
                .into_iter()
                .filter(|e| e.allowed(max))
                .map(Expiration::key)
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(None), ["30d", "90d", "1y", "custom", "never"]);
        assert_eq!(allowed(Some(90)), ["30d", "90d", "custom"]);
        assert_eq!(allowed(Some(365)), ["30d", "90d", "custom"]);
        assert_eq!(allowed(Some(7)), ["custom"]);
        assert!(date_within("2026-12-27", Some("2026-12-27"), Some(30)).is_ok());
        let e = date_within("2026-12-28", Some("2026-12-27"), Some(30)).unwrap_err();
        assert!(e.contains("30 days"), "{e}");
        assert!(date_within("2030-01-01", None, None).is_ok());
    }

    #[test]
    fn expiration_presets_become_relative_times() {
        assert_eq!(
            Expiration::Days30.to_request("", "2026-11-28"),
            Ok(Some("now+30d".into()))
        );
        assert_eq!(Expiration::Never.to_request("", "2026-11-28"), Ok(None));
        assert_eq!(
            Expiration::Custom.to_request("2027-01-31", "2026-11-28"),
            Ok(Some("2027-01-31T23:59:59.999Z".into()))
        );
        assert!(Expiration::Custom
            .to_request("2026-11-28", "2026-11-28")
            .is_err());
        assert!(Expiration::Custom.to_request("", "2026-11-28").is_err());
        assert!(Expiration::Custom
            .to_request("31/01/2027", "2026-11-28")
            .is_err());
    }

    #[test]
    fn only_held_scopes_can_be_selected() {
        let held = [Scope::MetricsRead, Scope::EntitiesRead];
        let mut s = ScopeSelection::default();
        s.toggle(Scope::MetricsWrite, &held);
        assert!(s.is_empty());
        s.toggle(Scope::MetricsRead, &held);
        assert_eq!(s.values(), vec!["metrics.read"]);
        s.toggle(Scope::MetricsRead, &held);
        assert!(s.is_empty());
    }

    #[test]
    fn select_all_takes_only_available_scopes_and_toggles_back() {
        let held = [Scope::MetricsRead];
        let mut s = ScopeSelection::default();
        s.toggle_group(ScopeGroup::Metrics, &held);
        assert_eq!(s.values(), vec!["metrics.read"]);
        assert!(s.group_fully_selected(ScopeGroup::Metrics, &held));
        s.toggle_group(ScopeGroup::Metrics, &held);
        assert!(s.is_empty());
        assert!(
            !s.group_fully_selected(ScopeGroup::Slo, &held),
            "nothing available"
        );
    }
}
