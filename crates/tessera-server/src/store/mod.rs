//! Storage behind a narrow trait. SQL lives only in the implementations; handlers and the
//! domain see rows as the types below. SQLite is the embedded default; a PostgreSQL
//! implementation can follow without touching handlers.
mod sqlite;

pub use sqlite::SqliteStore;

use async_trait::async_trait;

use crate::domain::{query::ListQuery, scope_set::ScopeSet, time::Millis, token::TokenDigest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

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
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub admin: Option<bool>,
    pub active: Option<bool>,
    pub permissions: Option<ScopeSet>,
    pub zones: Option<Vec<String>>,
    pub all_zones: Option<bool>,
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
}

/// A change to a token; `None` leaves a field as it is. `modified_at` is set by the store
/// when name or scopes are in the patch.
#[derive(Debug, Clone, Default)]
pub struct TokenPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub scopes: Option<ScopeSet>,
}

/// One page of a listing.
pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    pub total: u64,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Millis,
    pub actor: String,
    pub client_addr: Option<String>,
    pub event: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn ping(&self) -> StoreResult<()>;
    /// Writes a consistent copy of everything to `dest` while the store stays in use.
    async fn backup_to(&self, dest: &std::path::Path) -> StoreResult<()>;

    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn update_user(&self, username: &str, patch: &UserPatch) -> StoreResult<()>;
    async fn user(&self, username: &str) -> StoreResult<Option<User>>;
    async fn users(&self) -> StoreResult<Vec<User>>;

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// Every token, for the in-memory authorization index.
    async fn all_tokens(&self) -> StoreResult<Vec<TokenRecord>>;
    /// `owner` restricts to one owner whatever the selector says (non-admin callers).
    async fn list_tokens(
        &self,
        owner: Option<&str>,
        query: &ListQuery,
        snapshot: Option<i64>,
        offset: u64,
    ) -> StoreResult<TokenPage>;
    /// Applies the patch and returns the token as it is afterwards.
    async fn update_token(
        &self,
        id: &str,
        patch: &TokenPatch,
        now: Millis,
    ) -> StoreResult<TokenRecord>;
    /// Returns whether a token was deleted.
    async fn delete_token(&self, id: &str) -> StoreResult<bool>;
    async fn record_token_use(&self, id: &str, at: Millis, ip: &str) -> StoreResult<()>;

    async fn create_session(&self, session: &SessionRecord, keep_per_user: u32) -> StoreResult<()>;
    async fn session(&self, id_digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id_digest: &[u8; 32], at: Millis) -> StoreResult<()>;
    async fn delete_session(&self, id_digest: &[u8; 32]) -> StoreResult<()>;
    async fn delete_sessions_idle_since(&self, before: Millis) -> StoreResult<u64>;

    async fn pat_enabled(&self) -> StoreResult<bool>;
    async fn set_pat_enabled(&self, enabled: bool, by: &str, at: Millis) -> StoreResult<()>;

    async fn audit(&self, event: &AuditEvent) -> StoreResult<()>;
    async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}
