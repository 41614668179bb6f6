//! The webhook outbox, the lifecycle scheduler's queries and its leases: records, the
//! `Outbox` part of every store, and its one implementation for both backends (the SQL is
//! in `outbox_sql`).
use crate::domain::time::Millis;
use crate::store::StoreResult;

/// An event waiting in (or delivered from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEvent {
    /// The `webhook-id`: the same on every attempt, so receivers can drop repeats.
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub token_id: Option<String>,
    /// The JSON body, fixed when the event is made.
    pub payload: String,
    pub created_at: Millis,
    pub attempts: i32,
}

/// One delivery attempt as it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Millis,
    /// The receiver's status; `None` when no answer came (refused, timed out).
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What becomes of an event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    RetryAt(Millis),
    /// Tried for the whole retry window without a 2xx.
    GaveUp,
    /// No webhook URL any more: the administrator turned delivery off.
    Cancelled,
}

impl Outcome {
    pub(crate) fn state(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::RetryAt(_) => "pending",
            Outcome::GaveUp => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// An event and its latest attempts, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub token_id: Option<String>,
    pub created_at: Millis,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Millis,
    pub attempt_at: Option<Millis>,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

/// Tokens the scheduler acts on, a batch at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// Enabled, not rotated, expiring in `(after, upto]` with no warning of `within_days`
    /// or fewer sent for that expiration.
    Expiring {
        after: Millis,
        upto: Millis,
        within_days: i64,
    },
    /// Enabled tokens whose expiration passed after the keyset `(at, id)` and by `upto`.
    Expired {
        after: (Millis, String),
        upto: Millis,
    },
    /// Enabled, not rotated, unexpired at `now`, and unused (since creation when never
    /// used) since before `before`.
    Unused { before: Millis, now: Millis },
}

pub const BATCH: i64 = 500;

/// The outbox and leases of a store (part of every `Store`); events are added by changes
/// (`StoreTx::enqueue`).
#[async_trait::async_trait]
pub trait Outbox {
    /// Leases to `holder` for `lease_ms` (the database's clock) an event that is due at
    /// `now`, free, and first of its token's pending events.
    async fn claim_webhook(
        &self,
        holder: &str,
        now: Millis,
        lease_ms: Millis,
    ) -> StoreResult<Option<OutboxEvent>>;
    /// Records an attempt and what follows from it, ending `holder`'s lease.
    async fn finish_webhook(
        &self,
        id: &str,
        holder: &str,
        attempt: &Attempt,
        outcome: Outcome,
    ) -> StoreResult<()>;
    /// When the next pending event is due (`None`: nothing pending).
    async fn next_webhook_due(&self) -> StoreResult<Option<Millis>>;
    /// Every event not yet delivered, oldest first (`migrate-db` copies them).
    async fn pending_webhooks(&self) -> StoreResult<Vec<OutboxEvent>>;
    async fn webhook_deliveries(&self, limit: i64) -> StoreResult<Vec<DeliveryRow>>;
    /// Gives up events pending since before `window_start`, removes events finished before
    /// `finished_before` and warnings of expirations before it.
    async fn prune_webhooks(
        &self,
        window_start: Millis,
        finished_before: Millis,
        now: Millis,
    ) -> StoreResult<()>;
    /// Takes or renews lease `name` for `lease_ms` of the database's clock (one node at a
    /// time runs what it guards).
    async fn take_lease(&self, name: &str, holder: &str, lease_ms: Millis) -> StoreResult<bool>;
}

/// `Outbox` for a store with a `pool` of sqlx's database `$db`, whose clock in epoch
/// milliseconds is the SQL expression `$db_now`: the same for both backends.
macro_rules! impl_outbox {
    ($store:ty, $db:ty, $db_now:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Outbox for $store {
            async fn claim_webhook(
                &self,
                holder: &str,
                now: Millis,
                lease_ms: Millis,
            ) -> StoreResult<Option<OutboxEvent>> {
                Ok(outbox_sql::claim::<$db>(holder, now, lease_ms, $db_now)
                    .build_query_as()
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn finish_webhook(
                &self,
                id: &str,
                holder: &str,
                attempt: &Attempt,
                outcome: Outcome,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                outbox_sql::record_attempt::<$db>(id, attempt)
                    .build()
                    .execute(&mut *tx)
                    .await?;
                outbox_sql::finish::<$db>(id, holder, outcome, attempt.at)
                    .build()
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn next_webhook_due(&self) -> StoreResult<Option<Millis>> {
                Ok(sqlx::query_scalar(
                    "SELECT MIN(next_attempt_at) FROM webhook_events WHERE state = 'pending'",
                )
                .fetch_one(&self.pool)
                .await?)
            }

            async fn pending_webhooks(&self) -> StoreResult<Vec<OutboxEvent>> {
                Ok(sqlx::query_as(
                    "SELECT id, type, token_id, payload, created_at, attempts FROM webhook_events \
                     WHERE state = 'pending' ORDER BY seq",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn webhook_deliveries(&self, limit: i64) -> StoreResult<Vec<DeliveryRow>> {
                Ok(outbox_sql::deliveries::<$db>(limit)
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn prune_webhooks(
                &self,
                window_start: Millis,
                finished_before: Millis,
                now: Millis,
            ) -> StoreResult<()> {
                let mut give_up = outbox_sql::give_up_stale::<$db>(window_start, now);
                give_up.build().execute(&self.pool).await?;
                let mut prune = outbox_sql::prune::<$db>(finished_before);
                prune.build().execute(&self.pool).await?;
                let mut notices = outbox_sql::prune_notices::<$db>(finished_before);
                notices.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn take_lease(
                &self,
                name: &str,
                holder: &str,
                lease_ms: Millis,
            ) -> StoreResult<bool> {
                let taken: Option<(String,)> =
                    outbox_sql::take_lease::<$db>(name, holder, lease_ms, $db_now)
                        .build_query_as()
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(taken.is_some())
            }
        }
    };
}
pub(crate) use impl_outbox;
