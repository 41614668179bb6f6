//! Rows to records, and the reads that a write transaction and the pool share, alike on
//! both backends but for the row and executor types, how a list column is stored
//! (PostgreSQL `text[]`, SQLite JSON text) and the placeholder (`$1`, `?`).
use super::{StoreError, StoreResult};

pub const TOKEN_COLUMNS: &str = "id, owner, name, scopes, personal, enabled, digest, \
     created_at, modified_at, expires_at, last_used_at, last_used_ip, rotated_from, rotated_to, capped_at, rate_limit";

pub fn digest_32(bytes: Vec<u8>, what: &str) -> StoreResult<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The decoders and reads for rows `$row` and executors `$executor`; `$list` reads a list
/// column (`fn(&$row, &str) -> StoreResult<Vec<String>>`); `$p` is the first placeholder.
macro_rules! row_reads {
    ($row:ty, $executor:ident, $list:path, $p:literal) => {
        use $crate::store::row_reads::digest_32;
        pub use $crate::store::row_reads::{is_unique_violation, TOKEN_COLUMNS};

        pub fn user_from_row(row: &$row) -> StoreResult<User> {
            let permissions = $list(row, "permissions")?;
            Ok(User {
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                password_hash: row.try_get("password_hash")?,
                admin: row.try_get("admin")?,
                active: row.try_get("active")?,
                permissions: ScopeSet::from_stored(permissions.iter().map(String::as_str)),
                zones: $list(row, "zones")?,
                all_zones: row.try_get("all_zones")?,
            })
        }

        pub fn token_from_row(row: &$row) -> StoreResult<TokenRecord> {
            let scopes = $list(row, "scopes")?;
            Ok(TokenRecord {
                id: row.try_get("id")?,
                owner: row.try_get("owner")?,
                name: row.try_get("name")?,
                scopes: ScopeSet::from_stored(scopes.iter().map(String::as_str)),
                personal: row.try_get("personal")?,
                enabled: row.try_get("enabled")?,
                digest: TokenDigest(digest_32(row.try_get("digest")?, "token digest")?),
                created_at: row.try_get("created_at")?,
                modified_at: row.try_get("modified_at")?,
                expires_at: row.try_get("expires_at")?,
                last_used_at: row.try_get("last_used_at")?,
                last_used_ip: row.try_get("last_used_ip")?,
                rotated_from: row.try_get("rotated_from")?,
                capped_at: row.try_get("capped_at")?,
                rate_limit: row
                    .try_get::<Option<i64>, _>("rate_limit")?
                    .map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt("rate_limit".into())))
                    .transpose()?,
                rotated_to: row.try_get("rotated_to")?,
            })
        }

        pub fn session_from_row(row: &$row) -> StoreResult<SessionRecord> {
            Ok(SessionRecord {
                id_digest: digest_32(row.try_get("id_digest")?, "session id")?,
                username: row.try_get("username")?,
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
            })
        }

        pub async fn user<'e>(db: impl $executor<'e>, username: &str) -> StoreResult<Option<User>> {
            let row = sqlx::query(concat!("SELECT * FROM users WHERE username = ", $p))
                .bind(username)
                .fetch_optional(db)
                .await?;
            row.as_ref().map(user_from_row).transpose()
        }

        pub async fn users<'e>(db: impl $executor<'e>) -> StoreResult<Vec<User>> {
            let rows = sqlx::query("SELECT * FROM users ORDER BY username")
                .fetch_all(db)
                .await?;
            rows.iter().map(user_from_row).collect()
        }

        pub async fn token<'e>(
            db: impl $executor<'e>,
            id: &str,
        ) -> StoreResult<Option<TokenRecord>> {
            let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = {}", $p);
            let row = sqlx::query(&sql).bind(id).fetch_optional(db).await?;
            row.as_ref().map(token_from_row).transpose()
        }

        pub async fn tokens<'e>(db: impl $executor<'e>) -> StoreResult<Vec<TokenRecord>> {
            // Row by row: a million rows buffered at once would double a node's peak memory.
            use futures_util::TryStreamExt;
            let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens");
            let mut rows = sqlx::query(&sql).fetch(db);
            let mut tokens = Vec::new();
            while let Some(row) = rows.try_next().await? {
                tokens.push(token_from_row(&row)?);
            }
            Ok(tokens)
        }

        pub async fn pat_enabled<'e>(db: impl $executor<'e>) -> StoreResult<bool> {
            let value: Option<String> =
                sqlx::query_scalar("SELECT value FROM settings WHERE key = 'patEnabled'")
                    .fetch_optional(db)
                    .await?;
            Ok(value.as_deref() == Some("true"))
        }
    };
}
pub(crate) use row_reads;
