//! Settings rows and the lifecycle scheduler's statements inside a PostgreSQL transaction
//! (kept apart from `tx`, which delegates here).
use sqlx::{PgConnection, Postgres};

use super::rows::{token_from_row, TOKEN_COLUMNS};
use crate::domain::time::Millis;
use crate::store::{outbox_sql, Candidates, OutboxEvent, StoreResult, TokenRecord};

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

/// Tokens to warn or disable are locked, skipping rows a change holds: the scheduler never
/// waits on (or deadlocks with) a user's change, and takes what it skipped on its next run.
/// Expired tokens are only read: the expiry mark moves past them, so none may be skipped
/// (runs are serialised by the lock on the mark).
pub async fn candidates(
    tx: &mut PgConnection,
    which: &Candidates,
) -> StoreResult<Vec<TokenRecord>> {
    let mut qb = outbox_sql::candidates::<Postgres>(TOKEN_COLUMNS, which);
    if !matches!(which, Candidates::Expired { .. }) {
        qb.push(" FOR UPDATE OF t SKIP LOCKED");
    }
    let rows = qb.build().fetch_all(tx).await?;
    rows.iter().map(token_from_row).collect()
}

pub async fn mark_warned(
    tx: &mut PgConnection,
    token_id: &str,
    expires_at: Millis,
    within_days: i64,
) -> StoreResult<bool> {
    let mut insert = outbox_sql::mark_warned::<Postgres>(token_id, expires_at, within_days as i32);
    Ok(insert.build().execute(tx).await?.rows_affected() == 1)
}

pub async fn enqueue(tx: &mut PgConnection, event: &OutboxEvent) -> StoreResult<()> {
    outbox_sql::enqueue::<Postgres>(event)
        .build()
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn retry_webhooks_now(tx: &mut PgConnection, now: Millis) -> StoreResult<()> {
    outbox_sql::retry_now::<Postgres>(now)
        .build()
        .execute(tx)
        .await?;
    Ok(())
}
