//! The change feed's reader: keeps this node's authorization index equal to the database.
//!
//! Built from a snapshot at start, then advanced by reading the feed in sequence order —
//! right after this node's own changes (read-your-writes, see `crate::service`), and by
//! polling for everyone else's (the CLI's, and on a shared database other nodes'). Applying
//! is idempotent (each change re-reads the row it names), and one batch is read in one
//! snapshot, so the index always equals the database as of some feed position.
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::AuthIndex;
use crate::store::{Store, StoreError, StoreResult};

/// Changes read per batch; a longer feed is read in several.
const BATCH: u32 = 10_000;
/// The longest one read of the feed may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Follower {
    store: Arc<dyn Store>,
    index: AuthIndex,
    applied: AtomicI64,
    /// One reader at a time, so batches are applied in feed order.
    reading: tokio::sync::Mutex<()>,
    /// When the feed was last read to its end, in ms since `started`.
    confirmed_ms: AtomicU64,
    started: Instant,
    max_staleness: Duration,
}

impl Follower {
    /// Builds the index from a snapshot of the database. The node counts as up to date for
    /// `max_staleness` after each complete read of the feed.
    pub async fn start(store: Arc<dyn Store>, max_staleness: Duration) -> StoreResult<Follower> {
        let snapshot = store.snapshot().await?;
        Ok(Follower {
            index: AuthIndex::new(snapshot.tokens, &snapshot.users, snapshot.pat_enabled),
            applied: AtomicI64::new(snapshot.head),
            store,
            reading: tokio::sync::Mutex::new(()),
            confirmed_ms: AtomicU64::new(0),
            started: Instant::now(),
            max_staleness,
        })
    }

    /// Whether this node has confirmed within `max_staleness` that its index holds every
    /// committed change. When it has not (the database unreachable, say), token requests
    /// and checks are refused with 503: a revoked token is never accepted past the bound.
    pub fn is_current(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let confirmed = self.confirmed_ms.load(Ordering::SeqCst);
        now.saturating_sub(confirmed) <= self.max_staleness.as_millis() as u64
    }

    fn confirm(&self, read_started: Instant) {
        let at = read_started.duration_since(self.started).as_millis() as u64;
        self.confirmed_ms.fetch_max(at, Ordering::SeqCst);
    }

    pub fn index(&self) -> &AuthIndex {
        &self.index
    }

    /// The last feed position applied to the index.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// Applies the feed at least up to `seq` (a change this node just committed).
    pub async fn catch_up_to(&self, seq: i64) -> StoreResult<()> {
        if self.applied() >= seq {
            return Ok(());
        }
        self.catch_up_past(Some(seq)).await
    }

    /// Applies everything committed so far.
    pub async fn catch_up(&self) -> StoreResult<()> {
        self.catch_up_past(None).await
    }

    /// Reads the feed unless, once it is this reader's turn, `seq` is already applied (a
    /// burst of writes then costs one read, not one each).
    async fn catch_up_past(&self, seq: Option<i64>) -> StoreResult<()> {
        let _reading = self.reading.lock().await;
        if seq.is_some_and(|seq| self.applied() >= seq) {
            return Ok(());
        }
        // Current as of when this read began, once it reaches the end of the feed.
        let read_started = Instant::now();
        loop {
            // Bounded: a read stuck on a half-open connection must not hold `reading` (and
            // so every write's read-your-writes) until TCP gives up.
            let batch = tokio::time::timeout(
                READ_TIMEOUT,
                self.store.changes_since(self.applied(), BATCH),
            )
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
            if batch.gap {
                tracing::warn!(
                    applied = self.applied(),
                    "the feed was pruned past this node's position; rebuilding the index"
                );
                let snapshot = self.store.snapshot().await?;
                self.index
                    .replace_all(snapshot.tokens, &snapshot.users, snapshot.pat_enabled);
                self.applied.store(snapshot.head, Ordering::SeqCst);
                continue;
            }
            self.index.apply(&batch);
            self.applied.store(batch.head, Ordering::SeqCst);
            if !batch.more {
                self.confirm(read_started);
                return Ok(());
            }
        }
    }

    /// Reads the feed whenever the database signals a change (PostgreSQL's NOTIFY), and
    /// after every reconnect, since notifications sent meanwhile are lost. Polling
    /// (`spawn_polling`) runs beside it, for engines without NOTIFY and as the heartbeat
    /// that keeps `is_current` true.
    pub fn spawn_listening(self: &Arc<Self>) {
        let follower = self.clone();
        tokio::spawn(async move {
            loop {
                match follower.store.change_signal().await {
                    Ok(None) => return,
                    Ok(Some(mut signal)) => loop {
                        if let Err(e) = follower.catch_up().await {
                            tracing::warn!(error = %e, "reading the change feed failed");
                        }
                        if let Err(e) = signal.changed().await {
                            tracing::warn!(error = %e, "listening for changes failed");
                            break;
                        }
                    },
                    Err(e) => tracing::warn!(error = %e, "listening for changes failed"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Reads the feed every `every` for changes made elsewhere (the CLI, other nodes).
    pub fn spawn_polling(self: &Arc<Self>, every: Duration) {
        let follower = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = follower.catch_up().await {
                    tracing::warn!(error = %e, "reading the change feed failed");
                }
            }
        });
    }
}
