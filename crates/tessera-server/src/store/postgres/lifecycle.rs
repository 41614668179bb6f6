//! Settings rows and the lifecycle scheduler's statements inside a PostgreSQL transaction
//! (kept apart from `tx`, which delegates here).
use sqlx::{PgConnection, Postgres};

use super::rows::{token_from_row, TOKEN_COLUMNS};
use crate::domain::time::Millis;
use crate::store::{outbox, Candidates, OutboxEvent, StoreResult, TokenRecord};

pub async fn setting(tx: &mut PgConnection, key: &str) -> StoreResult<Option<String>> {
    // FOR SHARE: a policy change waits for the generations that read the old one.
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1 FOR SHARE")
            .bind(key)
            .fetch_optional(tx)
            .await?,
    )
}

pub async fn lock_setting(tx: &mut PgConnection, key: &str) -> StoreResult<Option<String>> {
    // A row to lock even before the first write: two first writes then serialise too.
    sqlx::query(
        "INSERT INTO settings (key, value, modified_at) VALUES ($1, '', 0) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    let value: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1 FOR UPDATE")
            .bind(key)
            .fetch_optional(tx)
            .await?;
    Ok(value.filter(|v| !v.is_empty()))
}

pub async fn put_setting(
    tx: &mut PgConnection,
    key: &str,
    value: &str,
    by: &str,
    at: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO settings (key, value, modified_at, modified_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at, \
         modified_by = excluded.modified_by",
    )
    .bind(key)
    .bind(value)
    .bind(at)
    .bind(by)
    .execute(tx)
    .await?;
    Ok(())
}

/// Locked, skipping rows a change holds: the scheduler never waits on (or deadlocks with)
/// a user's change; what it skips it takes on its next run.
pub async fn candidates(
    tx: &mut PgConnection,
    which: &Candidates,
) -> StoreResult<Vec<TokenRecord>> {
    let mut qb = outbox::candidates::<Postgres>(TOKEN_COLUMNS, which);
    qb.push(" FOR UPDATE OF t SKIP LOCKED");
    let rows = qb.build().fetch_all(tx).await?;
    rows.iter().map(token_from_row).collect()
}

pub async fn mark_warned(
    tx: &mut PgConnection,
    token_id: &str,
    expires_at: Millis,
    within_days: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO token_notices (token_id, expires_at, within_days) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(token_id)
    .bind(expires_at)
    .bind(within_days as i32)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn enqueue(tx: &mut PgConnection, event: &OutboxEvent) -> StoreResult<()> {
    outbox::enqueue::<Postgres>(event)
        .build()
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn retry_webhooks_now(tx: &mut PgConnection, now: Millis) -> StoreResult<()> {
    outbox::retry_now::<Postgres>(now)
        .build()
        .execute(tx)
        .await?;
    Ok(())
}
