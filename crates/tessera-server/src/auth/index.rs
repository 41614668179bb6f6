//! The in-memory authorization index and the token decision (rules 1–7).
//!
//! The index is a projection of the database's change feed: `crate::feed::Follower` builds
//! it from a snapshot and applies each change in feed order. Nothing else writes to it, so
//! no request path can leave it behind the database.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use tessera_api::Scope;

pub use super::entries::{TokenEntry, UserEntry, LAST_USED_WRITE_INTERVAL_MS};
use super::state::State;
use crate::domain::time::Millis;
use crate::domain::token::Token;
use crate::store::{ChangeBatch, TokenRecord, User};

/// Why a token request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Rules 1–4; which one is never said.
    Unauthorized,
    /// Rule 5.
    PatDisabled,
    /// Rule 6.
    MissingScope(Scope),
    /// Rule 7.
    OwnerLacksPermission(Scope),
}

impl Denied {
    /// A label for metrics and logs.
    pub fn outcome(self) -> &'static str {
        match self {
            Denied::Unauthorized => "unauthorized",
            Denied::PatDisabled => "pat_disabled",
            Denied::MissingScope(_) => "missing_scope",
            Denied::OwnerLacksPermission(_) => "owner_lacks_permission",
        }
    }
}

/// A token that passed rules 1–5.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token_id: String,
    pub token: Arc<TokenEntry>,
    pub owner: Arc<UserEntry>,
}

impl TokenPrincipal {
    /// Rules 6 and 7.
    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        if !self.token.scopes.contains(scope) {
            return Err(Denied::MissingScope(scope));
        }
        if self.token.personal && !self.owner.effective_permissions().contains(scope) {
            return Err(Denied::OwnerLacksPermission(scope));
        }
        Ok(())
    }

    /// Whether this use should be written as the token's last use (at most once a minute).
    pub fn claim_last_used_write(&self, now: Millis) -> bool {
        let last = self.token.last_use_written.load(Ordering::Relaxed);
        now.saturating_sub(last) >= LAST_USED_WRITE_INTERVAL_MS
            && self
                .token
                .last_use_written
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[derive(Default)]
pub struct AuthIndex {
    state: RwLock<State>,
}

/// The index's content in a comparable form (tests compare it with a fresh rebuild).
#[derive(Debug, PartialEq, Eq)]
pub struct IndexView {
    pub tokens: BTreeMap<String, String>,
    pub users: BTreeMap<String, UserEntry>,
    pub pat_enabled: bool,
    pub counts: BTreeMap<String, [u64; 2]>,
}

impl AuthIndex {
    pub fn new(tokens: Vec<TokenRecord>, users: &[User], pat_enabled: bool) -> AuthIndex {
        let index = AuthIndex::default();
        index.replace_all(tokens, users, pat_enabled);
        index
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn pat_enabled(&self) -> bool {
        self.read().pat_enabled
    }

    pub fn user(&self, username: &str) -> Option<Arc<UserEntry>> {
        self.read().users.get(username).cloned()
    }

    // The writers below are for the feed follower (crate::feed) only.

    /// Replaces everything, keeping the last-use throttle of tokens that stay. Takes the
    /// records by value: each is dropped once indexed, so a million of them are never held
    /// twice over.
    pub(crate) fn replace_all(&self, tokens: Vec<TokenRecord>, users: &[User], pat_enabled: bool) {
        let mut state = self.write();
        let old = std::mem::take(&mut *state);
        state.tokens.reserve(tokens.len());
        for t in tokens {
            state.put_token_with(&t, old.last_use_written(&t.id));
        }
        state.users = users
            .iter()
            .map(|u| (u.username.clone(), Arc::new(UserEntry::from_user(u))))
            .collect();
        state.pat_enabled = pat_enabled;
    }

    /// Applies one batch of the feed at once: each row named, in its current state
    /// (`None`: gone). Tokens keep their last-use throttle.
    pub(crate) fn apply(&self, batch: &ChangeBatch) {
        let mut state = self.write();
        for (name, user) in &batch.users {
            match user {
                Some(user) => {
                    state
                        .users
                        .insert(name.clone(), Arc::new(UserEntry::from_user(user)));
                }
                None => {
                    state.users.remove(name);
                }
            }
        }
        for (id, token) in &batch.tokens {
            match token {
                Some(record) => state.put_token(record),
                None => state.remove_token(id),
            }
        }
        if let Some(enabled) = batch.pat_enabled {
            state.pat_enabled = enabled;
        }
    }

    pub fn view(&self) -> IndexView {
        let state = self.read();
        IndexView {
            tokens: state
                .tokens
                .iter()
                .map(|(id, t)| (String::from_utf8_lossy(id).into_owned(), t.describe()))
                .collect(),
            users: state
                .users
                .iter()
                .map(|(name, u)| (name.clone(), (**u).clone()))
                .collect(),
            pat_enabled: state.pat_enabled,
            counts: state
                .counts
                .iter()
                .map(|(owner, c)| (owner.to_string(), *c))
                .collect(),
        }
    }

    /// How many tokens the owners (all when `None`) hold, of one type or both.
    pub fn count_tokens(&self, owners: Option<&BTreeSet<&str>>, personal: Option<bool>) -> u64 {
        let pick = |c: &[u64; 2]| match personal {
            None => c[0] + c[1],
            Some(p) => c[usize::from(p)],
        };
        let state = self.read();
        match owners {
            None => state.counts.values().map(pick).sum(),
            Some(owners) => owners
                .iter()
                .filter_map(|o| state.counts.get(*o))
                .map(pick)
                .sum(),
        }
    }

    /// Enabled tokens expiring in `(now, until]` (the `tessera_tokens_expiring` gauge; a
    /// scan, done per scrape: a few milliseconds at a million tokens).
    pub fn count_expiring(&self, now: Millis, until: Millis) -> u64 {
        let state = self.read();
        let soon = |t: &&Arc<TokenEntry>| {
            t.enabled && t.expires_at.is_some_and(|at| at > now && at <= until)
        };
        state.tokens.values().filter(soon).count() as u64
    }

    /// Rules 1–5 for an `Authorization` header value.
    pub fn authenticate(&self, authorization: &str, now: Millis) -> Result<TokenPrincipal, Denied> {
        let (scheme, value) = authorization.split_once(' ').ok_or(Denied::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("Api-Token") {
            return Err(Denied::Unauthorized);
        }
        let token = Token::parse(value.trim()).map_err(|_| Denied::Unauthorized)?;
        let id = token.id();
        let digest = token.digest();
        // One read of one state for the whole decision.
        let (entry, owner, pat_enabled) = {
            let state = self.read();
            let entry = state
                .token(id.as_str())
                .cloned()
                .ok_or(Denied::Unauthorized)?;
            let owner = state.users.get(entry.owner.as_ref()).cloned();
            (entry, owner, state.pat_enabled)
        };
        if !entry.digest.matches(&digest) {
            return Err(Denied::Unauthorized);
        }
        if !entry.enabled || entry.expires_at.is_some_and(|at| at <= now) {
            return Err(Denied::Unauthorized);
        }
        let owner = owner.filter(|u| u.active).ok_or(Denied::Unauthorized)?;
        if entry.personal && !pat_enabled {
            return Err(Denied::PatDisabled);
        }
        Ok(TokenPrincipal {
            token_id: id.as_str().to_owned(),
            token: entry,
            owner,
        })
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
