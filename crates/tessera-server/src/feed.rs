//! The change feed's reader: keeps this node's authorization index equal to the database.
//!
//! Built from a snapshot at start, then advanced by reading the feed in sequence order —
//! right after this node's own changes (read-your-writes, see `crate::service`), and by
//! polling for everyone else's (the CLI's, and on a shared database other nodes'). Applying
//! is idempotent (each change re-reads the row it names), and one batch is read in one
//! snapshot, so the index always equals the database as of some feed position.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthIndex;
use crate::store::{Store, StoreResult};

/// Changes read per batch; a longer feed is read in several.
const BATCH: u32 = 10_000;

pub struct Follower {
    store: Arc<dyn Store>,
    index: AuthIndex,
    applied: AtomicI64,
    /// One reader at a time, so batches are applied in feed order.
    reading: tokio::sync::Mutex<()>,
}

impl Follower {
    /// Builds the index from a snapshot of the database.
    pub async fn start(store: Arc<dyn Store>) -> StoreResult<Follower> {
        let snapshot = store.snapshot().await?;
        Ok(Follower {
            index: AuthIndex::new(&snapshot.tokens, &snapshot.users, snapshot.pat_enabled),
            applied: AtomicI64::new(snapshot.head),
            store,
            reading: tokio::sync::Mutex::new(()),
        })
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
        loop {
            let batch = self.store.changes_since(self.applied(), BATCH).await?;
            if batch.gap {
                tracing::warn!(
                    applied = self.applied(),
                    "the feed was pruned past this node's position; rebuilding the index"
                );
                let snapshot = self.store.snapshot().await?;
                self.index
                    .replace_all(&snapshot.tokens, &snapshot.users, snapshot.pat_enabled);
                self.applied.store(snapshot.head, Ordering::SeqCst);
                continue;
            }
            self.index.apply(&batch);
            self.applied.store(batch.head, Ordering::SeqCst);
            if !batch.more {
                return Ok(());
            }
        }
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
