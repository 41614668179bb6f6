//! Storage behind a narrow trait. SQL lives only in the backends; the rest of the server sees
//! rows as the records below. `open` picks the backend from the database URL.
//!
//! Every change is made in a [`StoreTx`]: each write in it also appends a row to the change
//! feed (`changes`), so a change and its feed entry commit together or not at all. The
//! authorization index is built from [`Store::snapshot`] and advanced by
//! [`Store::changes_since`] (see `crate::feed`).
mod audit_read;
pub mod carry;
pub mod meter;
pub mod outbox;
mod outbox_sql;
mod postgres;
mod records;
mod row_reads;
pub mod schema;
mod sql;
mod sqlite;
pub mod sso;

pub use outbox::{Attempt, Candidates, DeliveryRow, Outbox, OutboxEvent, Outcome};
pub use postgres::PgStore;
pub use records::*;
pub use sqlite::SqliteStore;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{audit::AuditQuery, query::ListQuery, time::Millis};

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

/// The database schemes Tessera can open, for the message that names them.
const SUPPORTED: &str =
    "sqlite://<file> (e.g. sqlite://data/tessera.db) and postgres://<user>:<password>@<host>/<database>";

enum Backend {
    Sqlite,
    Postgres,
}

fn backend(url: &str) -> anyhow::Result<Backend> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        // The scheme only: the rest of a URL may hold a password.
        _ => anyhow::bail!("unsupported database URL scheme `{scheme}:`; supported: {SUPPORTED}"),
    }
}

/// Opens the database at `url` (creating a SQLite file and its directory if missing) and
/// runs pending migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match backend(url)? {
        Backend::Sqlite => Ok(Arc::new(SqliteStore::open(url).await?)),
        Backend::Postgres => Ok(Arc::new(PgStore::open(url).await?)),
    }
}

/// Why a command that copies a database file does not work on PostgreSQL.
const USE_PG_DUMP: &str = "on PostgreSQL, back up and restore with pg_dump and pg_restore \
     (a consistent snapshot while Tessera runs; see the README, \"Run several nodes\")";

/// Held while a server runs: on SQLite, a lock file that keeps a second server off the
/// same file (each would trust its own index).
pub struct ServeLock {
    _held: Option<std::fs::File>,
}

pub fn lock_for_serving(url: &str) -> anyhow::Result<ServeLock> {
    match backend(url)? {
        Backend::Sqlite => Ok(ServeLock {
            _held: sqlite::files::lock(url)?,
        }),
        // Any number of nodes share one PostgreSQL database.
        Backend::Postgres => Ok(ServeLock { _held: None }),
    }
}

/// `tessera-server backup FILE`: a consistent copy taken while the server runs.
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    match backend(url)? {
        Backend::Sqlite => sqlite::files::backup(url, file).await,
        Backend::Postgres => anyhow::bail!("{USE_PG_DUMP}"),
    }
}

/// `tessera-server restore FILE`: replaces the database with a backup (server stopped).
pub async fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
    match backend(url)? {
        Backend::Sqlite => sqlite::files::restore(url, file).await,
        Backend::Postgres => anyhow::bail!("{USE_PG_DUMP}"),
    }
}

/// Logs the audit rows of a committed transaction (after the commit: never under a lock,
/// never for a change that rolled back).
pub(crate) fn log_audited(events: &[AuditEvent]) {
    for e in events {
        tracing::info!(actor = %e.actor, event = %e.event, target = e.target, "audit");
    }
}

/// The ORDER BY of a listing; `name` is the backend's case-insensitive name expression.
/// `seq` breaks ties so pages never overlap; nullable columns sort their nulls last.
pub(crate) fn order_by(sort: &crate::domain::query::Sort, name: &str) -> String {
    use crate::domain::query::SortKey;
    let direction = if sort.descending { "DESC" } else { "ASC" };
    let nullable =
        |column: &str| format!("({column} IS NULL), {column} {direction}, seq {direction}");
    match sort.key {
        SortKey::Name => format!("{name} {direction}, seq {direction}"),
        SortKey::CreationDate => format!("created_at {direction}, seq {direction}"),
        SortKey::LastUsedDate => nullable("last_used_at"),
        SortKey::ExpirationDate => nullable("expires_at"),
        SortKey::ModifiedDate => nullable("modified_at"),
    }
}

/// The distinct rows a batch of feed entries `(seq, kind, key)` names, and the batch's head.
/// A kind a newer version writes is skipped, not a reason to stop following.
pub(crate) fn named(
    entries: &[(i64, String, String)],
    batch: &mut ChangeBatch,
) -> std::collections::BTreeSet<(ChangeKind, String)> {
    let mut names = std::collections::BTreeSet::new();
    for (seq, kind, key) in entries {
        batch.head = *seq;
        match ChangeKind::parse(kind) {
            Some(kind) => {
                names.insert((kind, key.clone()));
            }
            None => tracing::warn!(kind, "skipping a change of an unknown kind"),
        }
    }
    names
}

/// GCRA over a minute: `(emission interval, burst tolerance)` in ms for `limit` a minute.
pub(crate) fn sign_in_budget(limit: u32) -> (i64, i64) {
    let interval = 60_000 / i64::from(limit.max(1));
    (interval, interval * (i64::from(limit.max(1)) - 1))
}

/// Seconds until the next attempt is allowed, from the stored `tat`.
pub(crate) fn retry_after_secs(tat: i64, now: Millis, tolerance: i64) -> u64 {
    let wait_ms = (tat - now - tolerance).max(1);
    (wait_ms as u64).div_ceil(1000)
}

/// Wakes a feed reader when the database has changes (PostgreSQL's LISTEN/NOTIFY).
#[async_trait]
pub trait ChangeSignal: Send {
    /// Returns when there may be something new to read: a notification, or a reconnect
    /// after which notifications sent meanwhile are lost.
    async fn changed(&mut self) -> StoreResult<()>;
}

/// Reads, and the start of every change.
#[async_trait]
pub trait Store: outbox::Outbox + meter::Meter + sso::SsoStore + Send + Sync + 'static {
    async fn ping(&self) -> StoreResult<()>;
    /// The newest migration applied to the database.
    async fn schema_version(&self) -> StoreResult<Option<i64>>;
    /// The newest schema version this binary knows for this backend.
    fn known_schema(&self) -> &'static sqlx::migrate::Migrator;
    /// Starts a write transaction (taking the database's write lock at once on SQLite).
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;

    async fn user(&self, username: &str) -> StoreResult<Option<User>>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// `owner` restricts to one owner whatever the selector says (non-admin callers). The
    /// count costs a scan of every matching row, so it is taken only when `count` is set.
    async fn list_tokens(
        &self,
        owner: Option<&str>,
        query: &ListQuery,
        snapshot: Option<i64>,
        offset: u64,
        count: bool,
    ) -> StoreResult<TokenPage>;
    async fn session(&self, id_digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>>;
    async fn pat_enabled(&self) -> StoreResult<bool>;
    /// A setting's stored text, as committed.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEvent>>;
    /// A page of the audit log after `(timestamp, id)`; counted when `count` is set.
    async fn audit_page(
        &self,
        query: &AuditQuery,
        after: Option<(Millis, i64)>,
        count: bool,
    ) -> StoreResult<AuditPage>;
    async fn audit_entry(&self, id: i64) -> StoreResult<Option<AuditRecord>>;

    /// Everything the index needs, at one point of the feed.
    async fn snapshot(&self) -> StoreResult<Snapshot>;
    /// The feed after `after`, at most `limit` changes, with the rows they name.
    async fn changes_since(&self, after: i64, limit: u32) -> StoreResult<ChangeBatch>;
    /// Removes feed rows older than `before`, always keeping the newest.
    async fn prune_changes(&self, before: Millis) -> StoreResult<u64>;
    /// A signal of new changes where the backend has one (`None`: poll only).
    async fn change_signal(&self) -> StoreResult<Option<Box<dyn ChangeSignal>>> {
        Ok(None)
    }

    // Bookkeeping that decides nothing, so it is not in the feed: a token's last use and a
    // session's last activity (both throttled), and removing sessions already refused.
    async fn record_token_use(&self, id: &str, at: Millis, ip: &str) -> StoreResult<()>;
    async fn touch_session(&self, id_digest: &[u8; 32], at: Millis) -> StoreResult<()>;
    /// Removes sessions idle since `idle_before` or started before `started_before`.
    /// Takes one sign-in attempt for `username` from a budget every node shares: `limit`
    /// a minute (GCRA). `Err(seconds)` says when to retry.
    async fn take_sign_in_attempt(
        &self,
        username: &str,
        now: Millis,
        limit: u32,
    ) -> StoreResult<Result<(), u64>>;
    /// Forgets budgets that are full again.
    async fn prune_sign_in_limits(&self, now: Millis) -> StoreResult<u64>;
    async fn delete_expired_sessions(
        &self,
        idle_before: Millis,
        started_before: Millis,
    ) -> StoreResult<u64>;
}

/// One write transaction. Each write appends its change to the feed in the same
/// transaction; dropped without `commit`, nothing of it stays.
#[async_trait]
pub trait StoreTx: carry::Carry + Send {
    /// A user this change depends on (held against changes until commit on PostgreSQL).
    async fn user(&mut self, username: &str) -> StoreResult<Option<User>>;
    /// A user this change will modify (locked for update until commit on PostgreSQL).
    async fn lock_user(&mut self, username: &str) -> StoreResult<Option<User>>;
    /// The active administrators. Every change of a user calls this first: on PostgreSQL it
    /// takes a lock that serialises those changes until commit (SQLite has one writer).
    async fn lock_admins(&mut self) -> StoreResult<Vec<String>>;
    /// A token this change decides on or modifies (locked until commit on PostgreSQL).
    async fn token(&mut self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// The token a request acts with, for whether it is still usable (not locked).
    async fn peek_token(&mut self, id: &str) -> StoreResult<Option<TokenRecord>> {
        self.token(id).await
    }
    async fn pat_enabled(&mut self) -> StoreResult<bool>;
    /// `patEnabled`, to be changed by this transaction.
    async fn lock_pat_enabled(&mut self) -> StoreResult<bool> {
        self.pat_enabled().await
    }

    async fn create_user(&mut self, user: &User) -> StoreResult<()>;
    /// Applies the patch and returns the user as it is afterwards.
    async fn update_user(&mut self, username: &str, patch: &UserPatch) -> StoreResult<User>;
    async fn insert_token(&mut self, token: &TokenRecord) -> StoreResult<()>;
    /// Applies the patch and returns the token as it is afterwards.
    async fn update_token(
        &mut self,
        id: &str,
        patch: &TokenPatch,
        now: Millis,
    ) -> StoreResult<TokenRecord>;
    /// Returns whether a token was deleted.
    async fn delete_token(&mut self, id: &str) -> StoreResult<bool>;
    async fn set_pat_enabled(&mut self, enabled: bool, by: &str, at: Millis) -> StoreResult<()>;
    /// Adds a session; the user keeps at most `keep_per_user`, the oldest going first.
    async fn create_session(
        &mut self,
        session: &SessionRecord,
        keep_per_user: u32,
    ) -> StoreResult<()>;
    async fn delete_session(&mut self, id_digest: &[u8; 32], username: &str) -> StoreResult<()>;
    /// Ends every session of a user; returns how many there were.
    async fn delete_user_sessions(&mut self, username: &str) -> StoreResult<u64>;
    /// A user's enabled environment (non-personal) tokens.
    async fn enabled_environment_tokens_of(&mut self, owner: &str)
        -> StoreResult<Vec<TokenRecord>>;
    async fn audit(&mut self, event: &AuditEvent) -> StoreResult<()>;

    /// A setting's stored text (`lifecycle`: the lifecycle policy), held against changes
    /// until commit on PostgreSQL.
    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>>;
    /// A setting this transaction will change (locked until commit on PostgreSQL).
    async fn lock_setting(&mut self, key: &str) -> StoreResult<Option<String>>;
    async fn put_setting(
        &mut self,
        key: &str,
        value: &str,
        by: &str,
        at: Millis,
    ) -> StoreResult<()>;
    /// Tokens that expire after `cap`, or never (locked for update on PostgreSQL).
    async fn tokens_outliving(&mut self, cap: Millis) -> StoreResult<Vec<TokenRecord>>;
    /// A batch of tokens the lifecycle scheduler acts on (on PostgreSQL locked, skipping
    /// rows a change holds: they are taken on the next run).
    async fn candidates(&mut self, which: &Candidates) -> StoreResult<Vec<TokenRecord>>;
    /// Notes that `token.expiring` goes out for this expiration and threshold; `false`
    /// when it already had.
    async fn mark_warned(
        &mut self,
        token_id: &str,
        expires_at: Millis,
        within_days: i64,
    ) -> StoreResult<bool>;
    /// Adds an event to the webhook outbox, delivered once this transaction commits.
    async fn enqueue(&mut self, event: &OutboxEvent) -> StoreResult<()>;
    /// Makes every pending webhook event due at `now`.
    async fn retry_webhooks_now(&mut self, now: Millis) -> StoreResult<()>;

    /// Commits; returns the feed position of the last change written, if any.
    async fn commit(self: Box<Self>) -> StoreResult<Option<i64>>;
}
