//! A set of scopes as a bit mask, so the authorization decision is a few instructions.
use tessera_api::{Scope, SCOPES};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u32);

impl ScopeSet {
    pub const ALL: ScopeSet = ScopeSet((1 << SCOPES.len()) - 1);

    fn bit(scope: Scope) -> u32 {
        1 << SCOPES.iter().position(|s| *s == scope).unwrap_or_default()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & Self::bit(scope) != 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= Self::bit(scope);
    }

    /// The set without the scopes only administrators hold (`Scope::admin_only`).
    pub fn without_admin_only(self) -> ScopeSet {
        self.iter().filter(|s| !s.admin_only()).collect()
    }

    /// The first scope of the set that only administrators hold.
    pub fn admin_only(self) -> Option<Scope> {
        self.iter().find(|s| s.admin_only())
    }

    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        SCOPES.iter().copied().filter(move |s| self.contains(*s))
    }

    /// API values in catalog order.
    pub fn to_strings(self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }

    /// Parses stored API values, skipping any the catalog no longer has.
    pub fn from_stored<'a>(values: impl IntoIterator<Item = &'a str>) -> ScopeSet {
        values.into_iter().filter_map(Scope::parse).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::default();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_inserted() {
        let set: ScopeSet = [Scope::MetricsRead, Scope::SloWrite].into_iter().collect();
        assert!(set.contains(Scope::MetricsRead));
        assert!(set.contains(Scope::SloWrite));
        assert!(!set.contains(Scope::MetricsWrite));
        assert_eq!(set.to_strings(), vec!["metrics.read", "slo.write"]);
        assert!(set.is_subset_of(ScopeSet::ALL));
        assert!(!ScopeSet::ALL.is_subset_of(set));
        assert_eq!(ScopeSet::ALL.iter().count(), 18);
    }
}
