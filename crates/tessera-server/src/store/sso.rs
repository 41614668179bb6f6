//! Single sign-on identities to re-validate (`sso_identities`), with SQL shared by both
//! backends. Times are the node's clock, as for sessions.
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreResult;
use crate::domain::time::Millis;

#[async_trait::async_trait]
pub trait SsoStore {
    /// Stores (or replaces) a user's sealed refresh token, checked now.
    async fn save_sso_identity(&self, username: &str, sealed: &str, now: Millis)
        -> StoreResult<()>;
    /// Leases to this node until `lease_until` one identity last checked before `before`
    /// and not leased now; its username and sealed refresh token.
    async fn claim_sso_check(
        &self,
        before: Millis,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<(String, String)>>;
    /// Stores the refresh token the provider rotated to, if this node still holds the
    /// lease `lease` (the old one is spent: losing the new one would lose the user).
    async fn rotate_sso_refresh(
        &self,
        username: &str,
        sealed: &str,
        lease: Millis,
    ) -> StoreResult<bool>;
    /// Records a finished check, if this node still holds the lease `lease`.
    async fn finish_sso_check(&self, username: &str, lease: Millis, now: Millis)
        -> StoreResult<()>;
    /// Every identity: username and sealed refresh token (for `migrate-db`).
    async fn sso_identities(&self) -> StoreResult<Vec<(String, String)>>;
}

/// Stores (or replaces) a user's sealed refresh token, checked at `checked_at`.
pub(crate) fn save_identity<'a, DB>(
    username: &'a str,
    sealed: &'a str,
    checked_at: Millis,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO sso_identities (username, refresh_token, checked_at) VALUES (",
    );
    qb.push_bind(username)
        .push(", ")
        .push_bind(sealed)
        .push(", ")
        .push_bind(checked_at)
        .push(
            ") ON CONFLICT (username) DO UPDATE SET refresh_token = excluded.refresh_token, \
             checked_at = excluded.checked_at, checking_until = NULL",
        );
    qb
}

/// `SsoStore` for a store with a sqlx `pool` of database `$db`; `$skip_locked` ends the
/// claim's row choice (PostgreSQL: another node's locked row is passed over).
macro_rules! impl_sso_store {
    ($store:ty, $db:ty, $skip_locked:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::sso::SsoStore for $store {
            async fn save_sso_identity(
                &self,
                username: &str,
                sealed: &str,
                now: Millis,
            ) -> StoreResult<()> {
                let mut qb = $crate::store::sso::save_identity::<$db>(username, sealed, now);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn claim_sso_check(
                &self,
                before: Millis,
                now: Millis,
                lease_until: Millis,
            ) -> StoreResult<Option<(String, String)>> {
                // The outer WHERE is checked again on the locked row (PostgreSQL), so of two
                // nodes picking the same identity one gets it; SKIP LOCKED makes the other
                // pick the next one rather than none.
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new("UPDATE sso_identities SET checking_until = ");
                qb.push_bind(lease_until)
                    .push(" WHERE username = (SELECT username FROM sso_identities WHERE checked_at < ")
                    .push_bind(before)
                    .push(" AND COALESCE(checking_until, 0) < ")
                    .push_bind(now)
                    .push(" ORDER BY checked_at LIMIT 1")
                    .push($skip_locked)
                    .push(") AND checked_at < ")
                    .push_bind(before)
                    .push(" AND COALESCE(checking_until, 0) < ")
                    .push_bind(now)
                    .push(" RETURNING username, refresh_token");
                Ok(qb.build_query_as().fetch_optional(&self.pool).await?)
            }

            async fn rotate_sso_refresh(
                &self,
                username: &str,
                sealed: &str,
                lease: Millis,
            ) -> StoreResult<bool> {
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new("UPDATE sso_identities SET refresh_token = ");
                qb.push_bind(sealed)
                    .push(" WHERE username = ")
                    .push_bind(username)
                    .push(" AND checking_until = ")
                    .push_bind(lease);
                Ok(qb.build().execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn finish_sso_check(
                &self,
                username: &str,
                lease: Millis,
                now: Millis,
            ) -> StoreResult<()> {
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new("UPDATE sso_identities SET checked_at = ");
                qb.push_bind(now)
                    .push(", checking_until = NULL WHERE username = ")
                    .push_bind(username)
                    .push(" AND checking_until = ")
                    .push_bind(lease);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn sso_identities(&self) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT username, refresh_token FROM sso_identities ORDER BY username",
                )
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_sso_store;
