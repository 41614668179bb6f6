//! What the store holds, as the rest of the server sees it.
use crate::domain::{scope_set::ScopeSet, time::Millis, token::TokenDigest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub admin: bool,
    pub active: bool,
    pub permissions: ScopeSet,
    pub zones: Vec<String>,
    pub all_zones: bool,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub admin: Option<bool>,
    pub active: Option<bool>,
    pub permissions: Option<ScopeSet>,
    pub zones: Option<Vec<String>>,
    pub all_zones: Option<bool>,
}

impl UserPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == UserPatch::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub scopes: ScopeSet,
    pub personal: bool,
    pub enabled: bool,
    pub digest: TokenDigest,
    pub created_at: Millis,
    pub modified_at: Option<Millis>,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub last_used_ip: Option<String>,
    /// The token this one replaced by rotation, and the one that replaced it.
    pub rotated_from: Option<String>,
    pub rotated_to: Option<String>,
    /// When the lifecycle policy last shortened this token's life.
    pub capped_at: Option<Millis>,
    /// Requests per minute over all nodes, if limited.
    pub rate_limit: Option<u32>,
}

/// A change to a token; `None` leaves a field as it is. `modified_at` is set by the store
/// when name or scopes are in the patch.
#[derive(Debug, Clone, Default)]
pub struct TokenPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub scopes: Option<ScopeSet>,
    /// A new expiration (rotation ends the old token's life after the grace period).
    pub expires_at: Option<Millis>,
    pub rotated_to: Option<String>,
    pub capped_at: Option<Millis>,
    /// `Some(None)` removes the limit.
    pub rate_limit: Option<Option<u32>>,
}

/// One page of a listing.
pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    /// Whether rows follow this page (one more than a page is read to tell).
    pub more: bool,
    /// The number of matching rows, when asked for.
    pub total: Option<u64>,
    /// The snapshot the page was read at (see `PageKey`).
    pub snapshot: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_digest: [u8; 32],
    pub username: String,
    pub csrf_token: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

/// An audit row; both stores read it by column name (`FromRow`), as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub at: Millis,
    pub actor: String,
    pub client_addr: Option<String>,
    pub event: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    /// Before → after of a change, as JSON Patch text (see migrations/sqlite/0005).
    pub patch: Option<String>,
}

impl AuditEvent {
    /// The event with what the change did, before → after.
    pub fn with_patch(mut self, patch: &crate::domain::patch::Patch) -> AuditEvent {
        self.patch = patch.text();
        self
    }
}

/// A page of the audit log.
pub struct AuditPage {
    pub entries: Vec<AuditRecord>,
    pub more: bool,
    pub total: Option<u64>,
}

/// An audit row with its id, as the Audit logs API reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    #[sqlx(flatten)]
    pub event: AuditEvent,
}

/// What a row of the change feed names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Token,
    User,
    Session,
    Setting,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Token => "token",
            ChangeKind::User => "user",
            ChangeKind::Session => "session",
            ChangeKind::Setting => "setting",
        }
    }

    pub fn parse(value: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Token,
            ChangeKind::User,
            ChangeKind::Session,
            ChangeKind::Setting,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// Everything the authorization index is built from, read at one point of the feed.
pub struct Snapshot {
    /// The last change this snapshot includes.
    pub head: i64,
    pub tokens: Vec<TokenRecord>,
    pub users: Vec<User>,
    pub pat_enabled: bool,
}

/// The feed after a sequence number: the current state of everything it names, read in
/// one snapshot, so applying it brings an index to exactly `head`.
#[derive(Debug, Default)]
pub struct ChangeBatch {
    /// The last change read (the reader's own position when nothing is new).
    pub head: i64,
    /// Changes after the reader's position were pruned: it must rebuild from a snapshot.
    pub gap: bool,
    /// Each token named, with its row (`None`: deleted).
    pub tokens: Vec<(String, Option<TokenRecord>)>,
    /// Each user named, with its row (`None`: deleted).
    pub users: Vec<(String, Option<User>)>,
    /// `patEnabled`, when the settings changed.
    pub pat_enabled: Option<bool>,
    /// More changes follow (the batch was cut at its limit).
    pub more: bool,
}
