//! Single sign-on identities to re-validate (`sso_identities`), with SQL shared by both
//! backends. Times are the node's clock, as for sessions.
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
    /// Records a finished check (and the rotated refresh token, if any).
    async fn finish_sso_check(
        &self,
        username: &str,
        sealed: Option<&str>,
        now: Millis,
    ) -> StoreResult<()>;
    /// Forgets a user's identity (the provider refused them).
    async fn forget_sso_identity(&self, username: &str) -> StoreResult<()>;
}

/// `SsoStore` for a store with a sqlx `pool` of database `$db`.
macro_rules! impl_sso_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::sso::SsoStore for $store {
            async fn save_sso_identity(&self, username: &str, sealed: &str, now: Millis) -> StoreResult<()> {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO sso_identities (username, refresh_token, checked_at) VALUES (",
                );
                qb.push_bind(username)
                    .push(", ")
                    .push_bind(sealed)
                    .push(", ")
                    .push_bind(now)
                    .push(
                        ") ON CONFLICT (username) DO UPDATE SET refresh_token = excluded.refresh_token, \
                         checked_at = excluded.checked_at, checking_until = NULL",
                    );
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
                // nodes picking the same identity one gets it.
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE sso_identities SET checking_until = ");
                qb.push_bind(lease_until)
                    .push(
                        " WHERE username = (SELECT username FROM sso_identities WHERE checked_at < ",
                    )
                    .push_bind(before)
                    .push(" AND COALESCE(checking_until, 0) < ")
                    .push_bind(now)
                    .push(" ORDER BY checked_at LIMIT 1) AND COALESCE(checking_until, 0) < ")
                    .push_bind(now)
                    .push(" RETURNING username, refresh_token");
                Ok(qb.build_query_as().fetch_optional(&self.pool).await?)
            }

            async fn finish_sso_check(&self, username: &str, sealed: Option<&str>, now: Millis) -> StoreResult<()> {
                let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE sso_identities SET checked_at = ");
                qb.push_bind(now)
                    .push(", checking_until = NULL, refresh_token = COALESCE(")
                    .push_bind(sealed)
                    .push(", refresh_token) WHERE username = ")
                    .push_bind(username);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn forget_sso_identity(&self, username: &str) -> StoreResult<()> {
                let mut qb = sqlx::QueryBuilder::<$db>::new("DELETE FROM sso_identities WHERE username = ");
                qb.push_bind(username);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_sso_store;
