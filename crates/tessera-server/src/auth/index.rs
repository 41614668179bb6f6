//! The in-memory authorization index and the token decision (rules 1–7).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tessera_api::Scope;

use crate::domain::scope_set::ScopeSet;
use crate::domain::time::Millis;
use crate::domain::token::{Token, TokenDigest};
use crate::store::{TokenRecord, User};

/// Last-used writes happen at most once per token per this many milliseconds.
pub const LAST_USED_WRITE_INTERVAL_MS: Millis = 60_000;

/// What the index knows of a token: enough to decide, nothing to list.
#[derive(Debug)]
pub struct TokenEntry {
    pub digest: TokenDigest,
    pub owner: Arc<str>,
    pub scopes: ScopeSet,
    pub personal: bool,
    pub enabled: bool,
    pub expires_at: Option<Millis>,
    last_use_written: AtomicI64,
}

impl TokenEntry {
    fn from_record(r: &TokenRecord) -> TokenEntry {
        TokenEntry {
            digest: r.digest,
            owner: Arc::from(r.owner.as_str()),
            scopes: r.scopes,
            personal: r.personal,
            enabled: r.enabled,
            expires_at: r.expires_at,
            last_use_written: AtomicI64::new(r.last_used_at.unwrap_or(i64::MIN)),
        }
    }
}

/// What the index knows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
    pub active: bool,
    pub permissions: ScopeSet,
    pub zones: Vec<String>,
    pub all_zones: bool,
    /// `X-Tessera-Management-Zones`, computed once: the gateway check sends it every time.
    zones_header: String,
}

impl UserEntry {
    pub fn from_user(u: &User) -> UserEntry {
        UserEntry {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            admin: u.admin,
            active: u.active,
            permissions: u.permissions,
            zones: u.zones.clone(),
            all_zones: u.all_zones,
            zones_header: if u.all_zones || u.admin {
                "*".to_owned()
            } else {
                u.zones.join(",")
            },
        }
    }

    /// Admins hold every permission implicitly.
    pub fn effective_permissions(&self) -> ScopeSet {
        if self.admin {
            ScopeSet::ALL
        } else {
            self.permissions
        }
    }

    /// `X-Tessera-Management-Zones`: comma-separated names, or `*` for all zones.
    pub fn zones_header(&self) -> &str {
        &self.zones_header
    }
}

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
    tokens: RwLock<HashMap<String, Arc<TokenEntry>>>,
    users: RwLock<Users>,
    /// Counts `put_user` calls, so that a re-read of all users that started before a
    /// sign-in does not put back the older copy of that user.
    users_put: AtomicU64,
    pat_enabled: AtomicBool,
}

#[derive(Default)]
struct Users {
    entries: HashMap<String, Arc<UserEntry>>,
    /// The `users_put` count at which a sign-in last put each user.
    put_at: HashMap<String, u64>,
}

impl AuthIndex {
    pub fn new(tokens: &[TokenRecord], users: &[User], pat_enabled: bool) -> AuthIndex {
        let index = AuthIndex::default();
        index.replace_users(users);
        {
            let mut map = index.tokens.write().unwrap_or_else(|e| e.into_inner());
            for t in tokens {
                map.insert(t.id.clone(), Arc::new(TokenEntry::from_record(t)));
            }
        }
        index.set_pat_enabled(pat_enabled);
        index
    }

    pub fn pat_enabled(&self) -> bool {
        self.pat_enabled.load(Ordering::SeqCst)
    }

    pub fn set_pat_enabled(&self, enabled: bool) {
        self.pat_enabled.store(enabled, Ordering::SeqCst);
    }

    /// Writes a token's current state through; keeps its last-use throttle.
    pub fn put_token(&self, record: &TokenRecord) {
        let mut map = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        let entry = TokenEntry::from_record(record);
        if let Some(old) = map.get(&record.id) {
            let written = old.last_use_written.load(Ordering::Relaxed);
            entry.last_use_written.fetch_max(written, Ordering::Relaxed);
        }
        map.insert(record.id.clone(), Arc::new(entry));
    }

    pub fn remove_token(&self, id: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Replaces every user (users change only through the CLI, which the server re-reads).
    pub fn replace_users(&self, users: &[User]) {
        self.replace_users_read_since(users, self.users_mark());
    }

    fn entries(users: &[User]) -> HashMap<String, Arc<UserEntry>> {
        users
            .iter()
            .map(|u| (u.username.clone(), Arc::new(UserEntry::from_user(u))))
            .collect()
    }

    /// Puts one user just read from the store, so that a user the CLI added or changed can
    /// use the session they sign in with at once, not after the next re-read.
    pub fn put_user(&self, user: &User) {
        let mut current = self.users.write().unwrap_or_else(|e| e.into_inner());
        let at = self.users_put.fetch_add(1, Ordering::SeqCst) + 1;
        current
            .entries
            .insert(user.username.clone(), Arc::new(UserEntry::from_user(user)));
        current.put_at.insert(user.username.clone(), at);
    }

    /// Take before reading every user from the store; pass to `replace_users_read_since`.
    pub fn users_mark(&self) -> u64 {
        self.users_put.load(Ordering::SeqCst)
    }

    /// Replaces every user with a list read after `mark` was taken, except users a sign-in
    /// put in since (the list may be older than they are; the next re-read has them).
    pub fn replace_users_read_since(&self, users: &[User], mark: u64) {
        let mut fresh = Self::entries(users);
        let mut current = self.users.write().unwrap_or_else(|e| e.into_inner());
        let Users { entries, put_at } = &mut *current;
        put_at.retain(|_, at| *at > mark);
        for name in put_at.keys() {
            if let Some(entry) = entries.get(name) {
                fresh.insert(name.clone(), entry.clone());
            }
        }
        *entries = fresh;
    }

    pub fn user(&self, username: &str) -> Option<Arc<UserEntry>> {
        self.users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .get(username)
            .cloned()
    }

    /// Rules 1–5 for an `Authorization` header value.
    pub fn authenticate(&self, authorization: &str, now: Millis) -> Result<TokenPrincipal, Denied> {
        let (scheme, value) = authorization.split_once(' ').ok_or(Denied::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("Api-Token") {
            return Err(Denied::Unauthorized);
        }
        let token = Token::parse(value.trim()).map_err(|_| Denied::Unauthorized)?;
        let id = token.id();
        let entry = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id.as_str())
            .cloned()
            .ok_or(Denied::Unauthorized)?;
        if !entry.digest.matches(&token.digest()) {
            return Err(Denied::Unauthorized);
        }
        if !entry.enabled || entry.expires_at.is_some_and(|at| at <= now) {
            return Err(Denied::Unauthorized);
        }
        let owner = self
            .user(&entry.owner)
            .filter(|u| u.active)
            .ok_or(Denied::Unauthorized)?;
        if entry.personal && !self.pat_enabled() {
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
mod tests {
    use super::*;

    fn user(name: &str, permissions: &[Scope]) -> User {
        User {
            username: name.into(),
            display_name: name.into(),
            password_hash: String::new(),
            admin: false,
            active: true,
            permissions: permissions.iter().copied().collect(),
            zones: vec!["Production".into()],
            all_zones: false,
        }
    }

    fn record(token: &Token, owner: &str, scopes: &[Scope]) -> TokenRecord {
        TokenRecord {
            id: token.id().as_str().into(),
            owner: owner.into(),
            name: "t".into(),
            scopes: scopes.iter().copied().collect(),
            personal: true,
            enabled: true,
            digest: token.digest(),
            created_at: 0,
            modified_at: None,
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
        }
    }

    fn header(token: &Token) -> String {
        format!("Api-Token {}", token.expose())
    }

    #[test]
    fn the_decision_follows_the_rules_in_order() {
        let token = Token::generate();
        let alice = user("alice", &[Scope::MetricsRead]);
        let mut rec = record(&token, "alice", &[Scope::MetricsRead, Scope::SloRead]);
        let index = AuthIndex::new(
            std::slice::from_ref(&rec),
            std::slice::from_ref(&alice),
            true,
        );

        let ok = index.authenticate(&header(&token), 0).unwrap();
        assert_eq!(ok.require(Scope::MetricsRead), Ok(()));
        assert_eq!(
            ok.require(Scope::EntitiesRead),
            Err(Denied::MissingScope(Scope::EntitiesRead))
        );
        assert_eq!(
            ok.require(Scope::SloRead),
            Err(Denied::OwnerLacksPermission(Scope::SloRead))
        );
        assert_eq!(ok.owner.zones_header(), "Production");

        assert_eq!(
            index.authenticate("Bearer x", 0).unwrap_err(),
            Denied::Unauthorized
        );
        let other = Token::generate();
        assert_eq!(
            index.authenticate(&header(&other), 0).unwrap_err(),
            Denied::Unauthorized
        );

        index.set_pat_enabled(false);
        assert_eq!(
            index.authenticate(&header(&token), 0).unwrap_err(),
            Denied::PatDisabled
        );
        index.set_pat_enabled(true);

        rec.expires_at = Some(10);
        index.put_token(&rec);
        assert_eq!(
            index.authenticate(&header(&token), 10).unwrap_err(),
            Denied::Unauthorized
        );
        assert!(index.authenticate(&header(&token), 9).is_ok());

        let mut inactive = alice;
        inactive.active = false;
        index.replace_users(&[inactive]);
        assert_eq!(
            index.authenticate(&header(&token), 0).unwrap_err(),
            Denied::Unauthorized
        );

        index.remove_token(token.id().as_str());
        index.replace_users(&[user("alice", &[])]);
        assert_eq!(
            index.authenticate(&header(&token), 0).unwrap_err(),
            Denied::Unauthorized
        );
    }

    #[test]
    fn a_re_read_that_started_before_a_sign_in_does_not_undo_it() {
        let index = AuthIndex::new(&[], &[user("alice", &[])], true);
        let mark = index.users_mark();
        // The re-read's list was taken before bob was added and carol's permissions
        // changed; bob signs in meanwhile.
        index.put_user(&user("bob", &[]));
        index.replace_users_read_since(
            &[user("alice", &[]), user("carol", &[Scope::MetricsRead])],
            mark,
        );
        assert!(index.user("bob").is_some(), "the sign-in's copy is kept");
        assert!(index.user("carol").is_some(), "everyone else is replaced");
        // The next re-read, with bob in the store and alice removed, replaces everyone.
        let mark = index.users_mark();
        index.replace_users_read_since(&[user("bob", &[Scope::SloRead])], mark);
        assert!(index.user("alice").is_none());
        assert!(index.user("carol").is_none());
        assert!(index
            .user("bob")
            .unwrap()
            .effective_permissions()
            .contains(Scope::SloRead));
    }

    #[test]
    fn last_used_writes_are_throttled_to_one_a_minute() {
        let token = Token::generate();
        let index = AuthIndex::new(&[record(&token, "a", &[])], &[user("a", &[])], true);
        let p = index.authenticate(&header(&token), 0).unwrap();
        assert!(p.claim_last_used_write(1_000_000));
        assert!(!p.claim_last_used_write(1_000_001));
        assert!(!p.claim_last_used_write(1_059_999));
        assert!(p.claim_last_used_write(1_060_000));
    }
}
