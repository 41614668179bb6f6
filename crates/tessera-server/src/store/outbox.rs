//! The webhook outbox, the lifecycle scheduler's queries and its leases, as records and as
//! SQL both backends build alike (sqlx's `QueryBuilder` numbers PostgreSQL's parameters).
use sqlx::{Database, Encode, QueryBuilder, Type};

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
    fn state(self) -> &'static str {
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

/// `SELECT <columns> FROM tokens t WHERE …` for `c`, in a stable order, `BATCH` at most.
pub(crate) fn candidates<'a, DB>(columns: &str, c: &'a Candidates) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("SELECT {columns} FROM tokens t WHERE t.enabled"));
    match c {
        Candidates::Expiring {
            after,
            upto,
            within_days,
        } => {
            qb.push(" AND t.rotated_to IS NULL AND t.expires_at > ")
                .push_bind(*after)
                .push(" AND t.expires_at <= ")
                .push_bind(*upto)
                .push(
                    " AND NOT EXISTS (SELECT 1 FROM token_notices n WHERE n.token_id = t.id \
                     AND n.expires_at = t.expires_at AND n.within_days <= ",
                )
                .push_bind(*within_days)
                .push(") ORDER BY t.expires_at, t.id");
        }
        Candidates::Expired {
            after: (at, id),
            upto,
        } => {
            qb.push(" AND t.expires_at <= ")
                .push_bind(*upto)
                .push(" AND (t.expires_at > ")
                .push_bind(*at)
                .push(" OR (t.expires_at = ")
                .push_bind(*at)
                .push(" AND t.id > ")
                .push_bind(id.as_str())
                .push(")) ORDER BY t.expires_at, t.id");
        }
        Candidates::Unused { before, now } => {
            qb.push(" AND t.rotated_to IS NULL AND COALESCE(t.last_used_at, t.created_at) < ")
                .push_bind(*before)
                .push(" AND (t.expires_at IS NULL OR t.expires_at > ")
                .push_bind(*now)
                .push(") ORDER BY COALESCE(t.last_used_at, t.created_at), t.id");
        }
    }
    qb.push(" LIMIT ").push_bind(BATCH);
    qb
}

pub(crate) fn enqueue<'a, DB>(e: &'a OutboxEvent) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO webhook_events (id, type, token_id, payload, created_at, next_attempt_at) VALUES (",
    );
    let mut values = qb.separated(", ");
    values
        .push_bind(e.id.as_str())
        .push_bind(e.kind.as_str())
        .push_bind(e.token_id.as_deref())
        .push_bind(e.payload.as_str())
        .push_bind(e.created_at)
        .push_bind(e.created_at);
    qb.push(")");
    qb
}

/// Makes every pending event due at `now` (the receiver's URL or secret changed: what
/// failed against the old one is tried against the new one at once).
pub(crate) fn retry_now<'a, DB>(now: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("UPDATE webhook_events SET next_attempt_at = ");
    qb.push_bind(now).push(" WHERE state = 'pending'");
    qb
}

/// Leases the oldest pending event to `holder` until `until`, if it is due and nobody else
/// holds it (a node restarted under the same name takes its own lease back). Only the head
/// of the queue: events go out one at a time, in order.
pub(crate) fn claim<'a, DB>(holder: &'a str, now: Millis, until: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("UPDATE webhook_events SET lease_holder = ");
    qb.push_bind(holder)
        .push(", lease_until = ")
        .push_bind(until)
        .push(
            " WHERE seq = (SELECT MIN(seq) FROM webhook_events WHERE state = 'pending') \
             AND next_attempt_at <= ",
        )
        .push_bind(now)
        .push(" AND (lease_until IS NULL OR lease_until <= ")
        .push_bind(now)
        .push(" OR lease_holder = ")
        .push_bind(holder)
        .push(") RETURNING id, type, token_id, payload, created_at, attempts");
    qb
}

pub(crate) fn record_attempt<'a, DB>(id: &'a str, a: &'a Attempt) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<i32>: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO webhook_attempts (event_id, at, status, error, duration_ms) VALUES (",
    );
    let mut values = qb.separated(", ");
    values
        .push_bind(id)
        .push_bind(a.at)
        .push_bind(a.status.map(i32::from))
        .push_bind(a.error.as_deref())
        .push_bind(a.duration_ms);
    qb.push(")");
    qb
}

/// Ends `holder`'s lease on event `id` with `outcome` (a lease taken over meanwhile, after
/// it ran out, is left alone).
pub(crate) fn finish<'a, DB>(
    id: &'a str,
    holder: &'a str,
    outcome: Outcome,
    now: Millis,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let next = match outcome {
        Outcome::RetryAt(at) => at,
        _ => now,
    };
    let finished = (!matches!(outcome, Outcome::RetryAt(_))).then_some(now);
    let mut qb = QueryBuilder::new("UPDATE webhook_events SET state = ");
    qb.push_bind(outcome.state())
        .push(", attempts = attempts + 1, next_attempt_at = ")
        .push_bind(next)
        .push(", finished_at = ")
        .push_bind(finished)
        .push(", lease_holder = NULL, lease_until = NULL WHERE id = ")
        .push_bind(id)
        .push(" AND lease_holder = ")
        .push_bind(holder);
    qb
}

/// The newest `limit` events, each with its latest attempt.
pub(crate) fn deliveries<'a, DB>(limit: i64) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "SELECT e.id, e.type, e.token_id, e.created_at, e.state, e.attempts, \
         e.next_attempt_at, a.at AS attempt_at, a.status, a.error, a.duration_ms \
         FROM webhook_events e LEFT JOIN webhook_attempts a ON a.id = \
         (SELECT MAX(id) FROM webhook_attempts WHERE event_id = e.id) \
         ORDER BY e.seq DESC LIMIT ",
    );
    qb.push_bind(limit);
    qb
}

/// Takes (or renews) lease `name` for `holder` until `until`, unless another holds it.
pub(crate) fn take_lease<'a, DB>(
    name: &'a str,
    holder: &'a str,
    now: Millis,
    until: Millis,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("INSERT INTO leases (name, holder, held_until) VALUES (");
    qb.push_bind(name)
        .push(", ")
        .push_bind(holder)
        .push(", ")
        .push_bind(until)
        .push(
            ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until \
             WHERE leases.holder = excluded.holder OR leases.held_until <= ",
        )
        .push_bind(now)
        .push(" RETURNING holder");
    qb
}

/// Removes finished events (and their attempts) finished before `before`.
pub(crate) fn prune<'a, DB>(before: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb =
        QueryBuilder::new("DELETE FROM webhook_events WHERE state <> 'pending' AND finished_at < ");
    qb.push_bind(before);
    qb
}

/// The outbox and leases of a store (part of every `Store`); events are added by changes
/// (`StoreTx::enqueue`).
#[async_trait::async_trait]
pub trait Outbox {
    /// Leases the head of the queue to `holder` until `until` when it is due and free.
    async fn claim_webhook(
        &self,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<OutboxEvent>>;
    /// Records an attempt and what follows from it, ending `holder`'s lease.
    async fn finish_webhook(
        &self,
        id: &str,
        holder: &str,
        attempt: &Attempt,
        outcome: Outcome,
    ) -> StoreResult<()>;
    /// When the head of the queue is next due (`None`: nothing pending).
    async fn next_webhook_due(&self) -> StoreResult<Option<Millis>>;
    /// Every event not yet delivered, oldest first (`migrate-db` copies them).
    async fn pending_webhooks(&self) -> StoreResult<Vec<OutboxEvent>>;
    async fn webhook_deliveries(&self, limit: i64) -> StoreResult<Vec<DeliveryRow>>;
    /// Removes events finished before `before`.
    async fn prune_webhooks(&self, before: Millis) -> StoreResult<u64>;
    /// Takes or renews lease `name` (one node at a time runs what it guards).
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<bool>;
}

/// `Outbox` for a store with a `pool` of sqlx's database `$db`: the same for both backends.
macro_rules! impl_outbox {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Outbox for $store {
            async fn claim_webhook(
                &self,
                holder: &str,
                now: Millis,
                until: Millis,
            ) -> StoreResult<Option<OutboxEvent>> {
                Ok(outbox::claim::<$db>(holder, now, until)
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
                outbox::record_attempt::<$db>(id, attempt)
                    .build()
                    .execute(&mut *tx)
                    .await?;
                outbox::finish::<$db>(id, holder, outcome, attempt.at)
                    .build()
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn next_webhook_due(&self) -> StoreResult<Option<Millis>> {
                let head: Option<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT next_attempt_at, lease_until FROM webhook_events \
                 WHERE state = 'pending' ORDER BY seq LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                Ok(head.map(|(next, lease)| next.max(lease.unwrap_or(0))))
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
                Ok(outbox::deliveries::<$db>(limit)
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn prune_webhooks(&self, before: Millis) -> StoreResult<u64> {
                let done = outbox::prune::<$db>(before)
                    .build()
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn take_lease(
                &self,
                name: &str,
                holder: &str,
                now: Millis,
                until: Millis,
            ) -> StoreResult<bool> {
                let taken: Option<(String,)> = outbox::take_lease::<$db>(name, holder, now, until)
                    .build_query_as()
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(taken.is_some())
            }
        }
    };
}
pub(crate) use impl_outbox;
