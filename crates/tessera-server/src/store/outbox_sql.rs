//! The SQL of the outbox, the scheduler's candidates and the leases, built alike for both
//! backends (sqlx's `QueryBuilder` numbers PostgreSQL's parameters). Lease times are the
//! database's clock (`db_now`, an SQL expression of the backend), never a node's: nodes'
//! clocks may differ, and the tests move theirs.
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::outbox::{Attempt, Candidates, OutboxEvent, Outcome, BATCH};
use crate::domain::time::Millis;

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

/// Notes that `token.expiring` goes out for this expiration and threshold (no row when it
/// already had: the caller then sends nothing).
pub(crate) fn mark_warned<'a, DB>(
    token_id: &'a str,
    expires_at: Millis,
    within_days: i32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb =
        QueryBuilder::new("INSERT INTO token_notices (token_id, expires_at, within_days) VALUES (");
    qb.separated(", ")
        .push_bind(token_id)
        .push_bind(expires_at)
        .push_bind(within_days);
    qb.push(") ON CONFLICT DO NOTHING");
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

/// Leases to `holder` for `lease_ms` the oldest due event that nobody else holds and that
/// has no older pending event of the same token (a restarted node takes its own lease
/// back): each token's events go out in order, and one failing event holds up only its
/// token's. Events without a token have no order among themselves. The outer conditions
/// are checked again on the row as it is when two nodes race for it.
pub(crate) fn claim<'a, DB>(
    holder: &'a str,
    now: Millis,
    lease_ms: Millis,
    db_now: &str,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let free = |qb: &mut QueryBuilder<'a, DB>, table: &str| {
        qb.push(format!(
            " AND {table}state = 'pending' AND ({table}lease_until IS NULL OR {table}lease_until <= {db_now} OR {table}lease_holder = "
        ))
        .push_bind(holder)
        .push(")");
    };
    let mut qb = QueryBuilder::new("UPDATE webhook_events SET lease_holder = ");
    qb.push_bind(holder)
        .push(format!(", lease_until = {db_now} + "))
        .push_bind(lease_ms)
        .push(" WHERE seq = (SELECT e.seq FROM webhook_events e WHERE e.next_attempt_at <= ")
        .push_bind(now);
    free(&mut qb, "e.");
    qb.push(
        " AND NOT EXISTS (SELECT 1 FROM webhook_events p WHERE p.state = 'pending' \
         AND p.token_id = e.token_id AND p.seq < e.seq) ORDER BY e.seq LIMIT 1)",
    );
    free(&mut qb, "");
    qb.push(" RETURNING id, type, token_id, payload, created_at, attempts");
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
        .push(" AND state = 'pending' AND lease_holder = ")
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

/// Takes (or renews) lease `name` for `holder` for `lease_ms`, unless another holds it.
pub(crate) fn take_lease<'a, DB>(
    name: &'a str,
    holder: &'a str,
    lease_ms: Millis,
    db_now: &str,
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
        .push(format!(", {db_now} + "))
        .push_bind(lease_ms)
        .push(format!(
            ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until \
             WHERE leases.holder = excluded.holder OR leases.held_until <= {db_now} RETURNING holder"
        ));
    qb
}

/// Gives up events still pending after the 24 h retry window (`window_start` is `now`
/// less it) without sending them again: a receiver that times out would otherwise take
/// 10 s per event only to fail it.
pub(crate) fn give_up_stale<'a, DB>(window_start: Millis, now: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("UPDATE webhook_events SET state = 'failed', finished_at = ");
    qb.push_bind(now)
        .push(", lease_holder = NULL, lease_until = NULL WHERE state = 'pending' AND created_at < ")
        .push_bind(window_start);
    qb
}

/// Forgets warnings sent for expirations that passed before `before`.
pub(crate) fn prune_notices<'a, DB>(before: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("DELETE FROM token_notices WHERE expires_at < ");
    qb.push_bind(before);
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
