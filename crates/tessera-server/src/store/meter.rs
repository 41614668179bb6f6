//! What the rate limiter and the usage counts keep in the database, with SQL shared by both
//! backends: `rate_windows` (how much of a token's minute the nodes have reserved) and
//! `token_usage` (requests per token, hour and scope).
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreResult;
use crate::domain::time::Millis;

/// Counts for one token, hour and scope, to add (a batch) or as stored (a read).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageRow {
    pub token_id: String,
    /// The hour's start, epoch milliseconds.
    pub hour: Millis,
    /// The scope asked for; `*` for a request refused before its scope was known.
    pub scope: String,
    pub allowed: i64,
    pub refused: i64,
    pub limited: i64,
}

/// A reservation's answer: how many requests this node got, and the window's total after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub granted: u32,
    pub used: u32,
}

#[async_trait::async_trait]
pub trait Meter {
    /// Reserves up to `want` of token `token_id`'s `limit` in the window starting at
    /// `window` — atomically, so all nodes together never reserve more than `limit`.
    async fn reserve_rate(
        &self,
        token_id: &str,
        window: Millis,
        want: u32,
        limit: u32,
    ) -> StoreResult<Grant>;
    /// Adds the counts of a batch (one statement).
    async fn add_usage(&self, rows: &[UsageRow]) -> StoreResult<()>;
    /// A token's counts from the hour `from` on, oldest first.
    async fn usage(&self, token_id: &str, from: Millis) -> StoreResult<Vec<UsageRow>>;
    /// Every row (for `migrate-db`), in the database's collation of the key.
    async fn all_usage(&self) -> StoreResult<Vec<UsageRow>>;
    /// Forgets rate windows that started before `windows_before` and usage before
    /// `usage_before`.
    async fn prune_meter(&self, windows_before: Millis, usage_before: Millis) -> StoreResult<()>;
}

/// Makes sure the window's row exists (a no-op when it does).
pub(crate) fn open_window<'a, DB>(token_id: &'a str, window: Millis) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO rate_windows (token_id, window_start, used, last_grant) VALUES (",
    );
    qb.push_bind(token_id)
        .push(", ")
        .push_bind(window)
        .push(", 0, 0) ON CONFLICT (token_id, window_start) DO NOTHING");
    qb
}

/// Takes up to `want` of what is left of `limit` in one atomic update of the row: every
/// right-hand side sees the row's old values, so `last_grant` is what this update took. A
/// limit lowered mid-window never lowers `used` (what was reserved stays reserved).
pub(crate) fn reserve<'a, DB>(
    token_id: &'a str,
    window: Millis,
    want: u32,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("UPDATE rate_windows SET ");
    for (i, column) in ["used = ", ", last_grant = "].into_iter().enumerate() {
        qb.push(column)
            .push("CASE WHEN used + ")
            .push_bind(i64::from(want))
            .push(" <= ")
            .push_bind(i64::from(limit))
            .push(" THEN used + ")
            .push_bind(i64::from(want))
            .push(" WHEN used >= ")
            .push_bind(i64::from(limit))
            .push(" THEN used ELSE ")
            .push_bind(i64::from(limit))
            .push(" END");
        if i == 1 {
            qb.push(" - used");
        }
    }
    qb.push(" WHERE token_id = ")
        .push_bind(token_id)
        .push(" AND window_start = ")
        .push_bind(window)
        .push(" RETURNING last_grant, used");
    qb
}

pub(crate) fn add_usage<'a, DB>(rows: &'a [UsageRow]) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO token_usage (token_id, hour, scope, allowed, refused, limited) ",
    );
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.token_id.as_str())
            .push_bind(r.hour)
            .push_bind(r.scope.as_str())
            .push_bind(r.allowed)
            .push_bind(r.refused)
            .push_bind(r.limited);
    });
    qb.push(
        " ON CONFLICT (token_id, hour, scope) DO UPDATE SET \
         allowed = token_usage.allowed + excluded.allowed, \
         refused = token_usage.refused + excluded.refused, \
         limited = token_usage.limited + excluded.limited",
    );
    qb
}

/// `Meter` for a store with a sqlx `pool` of database `$db`.
macro_rules! impl_meter {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::meter::Meter for $store {
            async fn reserve_rate(
                &self,
                token_id: &str,
                window: Millis,
                want: u32,
                limit: u32,
            ) -> StoreResult<$crate::store::meter::Grant> {
                $crate::store::meter::open_window::<$db>(token_id, window)
                    .build()
                    .execute(&self.pool)
                    .await?;
                let (granted, used): (i64, i64) =
                    $crate::store::meter::reserve::<$db>(token_id, window, want, limit)
                        .build_query_as()
                        .fetch_one(&self.pool)
                        .await?;
                let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                Ok($crate::store::meter::Grant {
                    granted: clamp(granted),
                    used: clamp(used),
                })
            }

            async fn add_usage(&self, rows: &[$crate::store::meter::UsageRow]) -> StoreResult<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                $crate::store::meter::add_usage::<$db>(rows)
                    .build()
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn usage(
                &self,
                token_id: &str,
                from: Millis,
            ) -> StoreResult<Vec<$crate::store::meter::UsageRow>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "SELECT token_id, hour, scope, allowed, refused, limited FROM token_usage \
                     WHERE token_id = ",
                );
                qb.push_bind(token_id)
                    .push(" AND hour >= ")
                    .push_bind(from)
                    .push(" ORDER BY hour, scope");
                Ok(qb.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn all_usage(&self) -> StoreResult<Vec<$crate::store::meter::UsageRow>> {
                Ok(sqlx::query_as(
                    "SELECT token_id, hour, scope, allowed, refused, limited FROM token_usage \
                     ORDER BY token_id, hour, scope",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn prune_meter(
                &self,
                windows_before: Millis,
                usage_before: Millis,
            ) -> StoreResult<()> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "DELETE FROM rate_windows WHERE window_start < ",
                );
                qb.push_bind(windows_before);
                qb.build().execute(&self.pool).await?;
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new("DELETE FROM token_usage WHERE hour < ");
                qb.push_bind(usage_before);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_meter;
