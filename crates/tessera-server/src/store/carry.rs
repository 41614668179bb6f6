//! What `migrate-db` copies beside the records that changes write: usage counts and SSO
//! identities, written in the copy's one transaction so that a failed copy leaves nothing.
use super::meter::UsageRow;
use super::StoreResult;
use crate::domain::time::Millis;

/// Rows per statement: under SQLite's 32,766 bound parameters at six a row.
pub const USAGE_BATCH: usize = 1_000;

#[async_trait::async_trait]
pub trait Carry {
    /// Adds usage counts (at most `USAGE_BATCH` rows).
    async fn carry_usage(&mut self, rows: &[UsageRow]) -> StoreResult<()>;
    /// Stores a user's sealed refresh token, last checked at `checked_at`.
    async fn carry_sso_identity(
        &mut self,
        username: &str,
        sealed: &str,
        checked_at: Millis,
    ) -> StoreResult<()>;
}

/// `Carry` for a transaction type with a sqlx transaction `tx` of database `$db`.
macro_rules! impl_carry {
    ($tx:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::carry::Carry for $tx {
            async fn carry_usage(
                &mut self,
                rows: &[$crate::store::meter::UsageRow],
            ) -> $crate::store::StoreResult<()> {
                if !rows.is_empty() {
                    $crate::store::meter::add_usage::<$db>(rows)
                        .build()
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(())
            }

            async fn carry_sso_identity(
                &mut self,
                username: &str,
                sealed: &str,
                checked_at: $crate::domain::time::Millis,
            ) -> $crate::store::StoreResult<()> {
                $crate::store::sso::save_identity::<$db>(username, sealed, checked_at)
                    .build()
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_carry;
