//! The SQLite store: WAL, foreign keys on, migrations at open.
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::*;
use crate::domain::query::SortKey;
use crate::domain::token::TokenDigest;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and runs pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a token whose 201 reached the client survives a power cut too.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn parse_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    let permissions = parse_list(row.try_get("permissions")?)?;
    Ok(User {
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        admin: row.try_get("admin")?,
        active: row.try_get("active")?,
        permissions: ScopeSet::from_stored(permissions.iter().map(String::as_str)),
        zones: parse_list(row.try_get("zones")?)?,
        all_zones: row.try_get("all_zones")?,
    })
}

fn token_from_row(row: &SqliteRow) -> StoreResult<TokenRecord> {
    let scopes = parse_list(row.try_get("scopes")?)?;
    let digest: Vec<u8> = row.try_get("digest")?;
    let digest: [u8; 32] = digest
        .try_into()
        .map_err(|_| StoreError::Corrupt("token digest is not 32 bytes".into()))?;
    Ok(TokenRecord {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        scopes: ScopeSet::from_stored(scopes.iter().map(String::as_str)),
        personal: row.try_get("personal")?,
        enabled: row.try_get("enabled")?,
        digest: TokenDigest(digest),
        created_at: row.try_get("created_at")?,
        modified_at: row.try_get("modified_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_used_ip: row.try_get("last_used_ip")?,
    })
}

fn session_from_row(row: &SqliteRow) -> StoreResult<SessionRecord> {
    let digest: Vec<u8> = row.try_get("id_digest")?;
    Ok(SessionRecord {
        id_digest: digest
            .try_into()
            .map_err(|_| StoreError::Corrupt("session id is not 32 bytes".into()))?,
        username: row.try_get("username")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

const TOKEN_COLUMNS: &str = "id, owner, name, scopes, personal, enabled, digest, created_at, \
     modified_at, expires_at, last_used_at, last_used_ip";

/// Appends the WHERE clause of a listing (without paging) to `qb`.
fn push_filters<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
    owner: Option<&'a str>,
    query: &'a ListQuery,
    snapshot: i64,
) {
    qb.push(" WHERE seq <= ").push_bind(snapshot);
    if let Some(owner) = owner {
        qb.push(" AND owner = ").push_bind(owner);
    }
    let selector = &query.selector;
    if !selector.owners.is_empty() {
        qb.push(" AND owner IN (");
        let mut list = qb.separated(", ");
        for o in &selector.owners {
            list.push_bind(o.as_str());
        }
        qb.push(")");
    }
    if let Some(personal) = selector.personal {
        qb.push(" AND personal = ").push_bind(personal);
    }
    if !selector.scopes.is_empty() {
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(tokens.scopes) WHERE json_each.value IN (");
        let mut list = qb.separated(", ");
        for s in &selector.scopes {
            list.push_bind(s.as_str());
        }
        qb.push("))");
    }
    if !selector.names.is_empty() {
        qb.push(" AND (");
        for (i, name) in selector.names.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("instr(lower(name), lower(")
                .push_bind(name.as_str())
                .push(")) > 0");
        }
        qb.push(")");
    }
    if let Some(from) = query.from {
        qb.push(" AND last_used_at >= ").push_bind(from);
    }
    if let Some(to) = query.to {
        qb.push(" AND last_used_at <= ").push_bind(to);
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// `VACUUM INTO` reads one snapshot (a read transaction), so writers carry on and the
    /// copy is a single point in time, compacted, without the WAL.
    async fn backup_to(&self, dest: &std::path::Path) -> StoreResult<()> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, admin, active, permissions, zones, all_zones, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(user.admin)
        .bind(user.active)
        .bind(json_list(&user.permissions.to_strings()))
        .bind(json_list(&user.zones))
        .bind(user.all_zones)
        .bind(crate::domain::time::now())
        .execute(&self.pool)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
        Ok(())
    }

    async fn update_user(&self, username: &str, patch: &UserPatch) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE users SET display_name = COALESCE(?, display_name), password_hash = COALESCE(?, password_hash), \
             admin = COALESCE(?, admin), active = COALESCE(?, active), permissions = COALESCE(?, permissions), \
             zones = COALESCE(?, zones), all_zones = COALESCE(?, all_zones) WHERE username = ?",
        )
        .bind(&patch.display_name)
        .bind(&patch.password_hash)
        .bind(patch.admin)
        .bind(patch.active)
        .bind(patch.permissions.map(|p| json_list(&p.to_strings())))
        .bind(patch.zones.as_deref().map(json_list))
        .bind(patch.all_zones)
        .bind(username)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn user(&self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn insert_token(&self, t: &TokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tokens (id, owner, name, scopes, personal, enabled, digest, created_at, modified_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.id)
        .bind(&t.owner)
        .bind(&t.name)
        .bind(json_list(&t.scopes.to_strings()))
        .bind(t.personal)
        .bind(t.enabled)
        .bind(&t.digest.0[..])
        .bind(t.created_at)
        .bind(t.modified_at)
        .bind(t.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict } else { e.into() })?;
        Ok(())
    }

    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn all_tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn list_tokens(
        &self,
        owner: Option<&str>,
        query: &ListQuery,
        snapshot: Option<i64>,
        offset: u64,
    ) -> StoreResult<TokenPage> {
        // One read transaction, so the count and the page agree.
        let mut tx = self.pool.begin().await?;
        let snapshot = match snapshot {
            Some(s) => s,
            None => {
                sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM tokens")
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM tokens");
        push_filters(&mut count, owner, query, snapshot);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;

        let mut page = QueryBuilder::new(format!("SELECT {TOKEN_COLUMNS} FROM tokens"));
        push_filters(&mut page, owner, query, snapshot);
        let direction = if query.sort.descending { "DESC" } else { "ASC" };
        // seq breaks ties so pages never overlap. Name and creation date are never null, so
        // their order is an index's (tokens_created, tokens_name) and a page reads only its
        // own rows; nullable columns sort their nulls last either way, which takes a sort.
        let order = match query.sort.key {
            SortKey::Name => format!("name COLLATE NOCASE {direction}, seq {direction}"),
            SortKey::CreationDate => format!("created_at {direction}, seq {direction}"),
            SortKey::LastUsedDate | SortKey::ExpirationDate | SortKey::ModifiedDate => {
                let column = match query.sort.key {
                    SortKey::LastUsedDate => "last_used_at",
                    SortKey::ExpirationDate => "expires_at",
                    _ => "modified_at",
                };
                format!("({column} IS NULL), {column} {direction}, seq {direction}")
            }
        };
        page.push(format!(" ORDER BY {order} LIMIT "));
        page.push_bind(i64::from(query.page_size))
            .push(" OFFSET ")
            .push_bind(offset as i64);
        let rows = page.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(TokenPage {
            tokens: rows
                .iter()
                .map(token_from_row)
                .collect::<StoreResult<_>>()?,
            total: total as u64,
            snapshot,
        })
    }

    async fn update_token(
        &self,
        id: &str,
        patch: &TokenPatch,
        now: Millis,
    ) -> StoreResult<TokenRecord> {
        let renames = patch.name.is_some() || patch.scopes.is_some();
        let sql = format!(
            "UPDATE tokens SET name = COALESCE(?, name), enabled = COALESCE(?, enabled), \
             scopes = COALESCE(?, scopes), modified_at = CASE WHEN ? THEN ? ELSE modified_at END \
             WHERE id = ? RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&patch.name)
            .bind(patch.enabled)
            .bind(patch.scopes.map(|s| json_list(&s.to_strings())))
            .bind(renames)
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(token_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn delete_token(&self, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM tokens WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn record_token_use(&self, id: &str, at: Millis, ip: &str) -> StoreResult<()> {
        sqlx::query("UPDATE tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?")
            .bind(at)
            .bind(ip)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_session(&self, s: &SessionRecord, keep_per_user: u32) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO sessions (id_digest, username, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&s.id_digest[..])
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .execute(&mut *tx)
            .await?;
        // A user keeps at most `keep_per_user` sessions: the oldest go first.
        sqlx::query(
            "DELETE FROM sessions WHERE username = ? AND id_digest NOT IN \
             (SELECT id_digest FROM sessions WHERE username = ? ORDER BY last_seen_at DESC, created_at DESC LIMIT ?)",
        )
        .bind(&s.username)
        .bind(&s.username)
        .bind(i64::from(keep_per_user))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, id_digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_digest = ?")
            .bind(&id_digest[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn touch_session(&self, id_digest: &[u8; 32], at: Millis) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_digest = ?")
            .bind(at)
            .bind(&id_digest[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_digest: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_digest = ?")
            .bind(&id_digest[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_sessions_idle_since(&self, before: Millis) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn pat_enabled(&self) -> StoreResult<bool> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'patEnabled'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.as_deref() == Some("true"))
    }

    async fn set_pat_enabled(&self, enabled: bool, by: &str, at: Millis) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, modified_at, modified_by) VALUES ('patEnabled', ?, ?, ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at, \
             modified_by = excluded.modified_by",
        )
        .bind(if enabled { "true" } else { "false" })
        .bind(at)
        .bind(by)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit(&self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, client_addr, event, target, detail) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.client_addr)
            .bind(&e.event)
            .bind(&e.target)
            .bind(&e.detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    client_addr: row.try_get("client_addr")?,
                    event: row.try_get("event")?,
                    target: row.try_get("target")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
