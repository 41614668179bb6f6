//! What the authorization index holds of tokens and users: enough to decide, nothing to list.
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use crate::domain::names::zones_header;
use crate::domain::scope_set::ScopeSet;
use crate::domain::time::Millis;
use crate::domain::token::TokenDigest;
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
    /// Requests per minute over all nodes (`crate::meter::rate`).
    pub rate_limit: Option<u32>,
    /// The token that replaced this one by rotation: during the grace period this token
    /// counts against its successor's rate limit window.
    pub rotated_to: Option<Arc<str>>,
    pub(super) last_use_written: AtomicI64,
}

impl TokenEntry {
    /// Every field that decides, as one comparable line.
    pub fn describe(&self) -> String {
        format!(
            "digest={:?} owner={} scopes={:?} personal={} enabled={} expires={:?} limit={:?} rotated_to={:?}",
            self.digest.0,
            self.owner,
            self.scopes,
            self.personal,
            self.enabled,
            self.expires_at,
            self.rate_limit,
            self.rotated_to
        )
    }

    /// `owner` is `r.owner`, shared with the owner's other tokens.
    pub(super) fn from_record(r: &TokenRecord, owner: Arc<str>) -> TokenEntry {
        TokenEntry {
            digest: r.digest,
            owner,
            scopes: r.scopes,
            personal: r.personal,
            enabled: r.enabled,
            expires_at: r.expires_at,
            rate_limit: r.rate_limit,
            rotated_to: r.rotated_to.as_deref().map(Arc::from),
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
            zones_header: zones_header(u.all_zones || u.admin, &u.zones),
        }
    }

    /// Admins hold every permission implicitly; others never hold an admin-only one,
    /// whatever is stored (say, from before a demotion).
    pub fn effective_permissions(&self) -> ScopeSet {
        if self.admin {
            ScopeSet::ALL
        } else {
            self.permissions.without_admin_only()
        }
    }

    /// `X-Tessera-Management-Zones` (see `domain::names::zones_header`).
    pub fn zones_header(&self) -> &str {
        &self.zones_header
    }
}
