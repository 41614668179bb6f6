//! The SQLite store: WAL, foreign keys on, migrations at open. One node per file.
pub mod files;
mod list;
mod rows;
mod tx;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::*;

crate::store::audit_read::audit_reads!(sqlx::SqlitePool, sqlx::Sqlite, "instr");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's writers queue here, in order, rather than in SQLite's busy handler,
    /// which sleeps in steps of up to 100 ms: under 16 concurrent writers that made tails of
    /// over a second. (Another process, the CLI, still waits in the busy handler.)
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the database at `url` and runs
    /// pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<SqliteStore> {
        if let Some(file) = files::sqlite_path(url) {
            files::create_parent_dir(&file)?;
        }
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
            .await
            .with_context(|| format!("opening the database {url}"))?;
        schema::migrate(&schema::SQLITE, &pool).await?;
        Ok(SqliteStore {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// `VACUUM INTO` reads one snapshot (a read transaction), so writers carry on and the
    /// copy is a single point in time, compacted, without the WAL.
    pub async fn backup_to(&self, dest: &std::path::Path) -> StoreResult<()> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The database's clock in epoch milliseconds (leases use it, not the node's test clock).
const DB_NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
outbox::impl_outbox!(SqliteStore, sqlx::Sqlite, DB_NOW);
crate::store::meter::impl_meter!(SqliteStore, sqlx::Sqlite);
// One writer at a time: nothing to skip.
crate::store::sso::impl_sso_store!(SqliteStore, sqlx::Sqlite, "");

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn schema_version(&self) -> StoreResult<Option<i64>> {
        let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    fn known_schema(&self) -> &'static sqlx::migrate::Migrator {
        &schema::SQLITE
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(tx::SqliteTx {
            tx,
            last_change: None,
            audited: Vec::new(),
            _turn: turn,
        }))
    }

    async fn user(&self, username: &str) -> StoreResult<Option<User>> {
        rows::user(&self.pool, username).await
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        rows::users(&self.pool).await
    }

    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
        rows::token(&self.pool, id).await
    }

    async fn list_tokens(
        &self,
        owner: Option<&str>,
        query: &ListQuery,
        snapshot: Option<i64>,
        offset: u64,
        count: bool,
    ) -> StoreResult<TokenPage> {
        list::list_tokens(&self.pool, owner, query, snapshot, offset, count).await
    }

    async fn session(&self, id_digest: &[u8; 32]) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_digest = ?")
            .bind(&id_digest[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::session_from_row).transpose()
    }

    async fn pat_enabled(&self) -> StoreResult<bool> {
        rows::pat_enabled(&self.pool).await
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        rows::setting(&self.pool, key).await
    }

    async fn audit_page(
        &self,
        query: &AuditQuery,
        after: Option<(Millis, i64)>,
        count: bool,
    ) -> StoreResult<AuditPage> {
        audit::page(&self.pool, query, after, count).await
    }

    async fn audit_entry(&self, id: i64) -> StoreResult<Option<AuditRecord>> {
        audit::entry(&self.pool, id).await
    }

    async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        Ok(
            sqlx::query_as("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn snapshot(&self) -> StoreResult<Snapshot> {
        // One read transaction: WAL gives it one point in time for every statement.
        let mut tx = self.pool.begin().await?;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes")
            .fetch_one(&mut *tx)
            .await?;
        let snapshot = Snapshot {
            head,
            tokens: rows::tokens(&mut *tx).await?,
            users: rows::users(&mut *tx).await?,
            pat_enabled: rows::pat_enabled(&mut *tx).await?,
        };
        tx.commit().await?;
        Ok(snapshot)
    }

    async fn changes_since(&self, after: i64, limit: u32) -> StoreResult<ChangeBatch> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
        let mut batch = ChangeBatch {
            head: after,
            more: rows.len() as u64 == u64::from(limit),
            ..ChangeBatch::default()
        };
        let Some(first) = rows.first() else {
            tx.commit().await?;
            return Ok(batch);
        };
        // The first change kept must follow the reader's position; if it does not, the ones
        // between were pruned (numbers are never reused, but AUTOINCREMENT may skip one
        // after a rollback, so a gap is confirmed by pruned rows, not assumed).
        let first_seq = first.0;
        if first_seq > after + 1 {
            let pruned_after: Option<i64> =
                sqlx::query_scalar("SELECT value FROM feed_state WHERE key = 'pruned_through'")
                    .fetch_optional(&mut *tx)
                    .await?;
            if pruned_after.is_some_and(|p| p > after) {
                batch.gap = true;
                tx.commit().await?;
                return Ok(batch);
            }
        }
        let names = named(&rows, &mut batch);
        for (kind, key) in names {
            match kind {
                ChangeKind::Token => {
                    let row = rows::token(&mut *tx, &key).await?;
                    batch.tokens.push((key, row));
                }
                ChangeKind::User => {
                    let row = rows::user(&mut *tx, &key).await?;
                    batch.users.push((key, row));
                }
                ChangeKind::Setting => batch.pat_enabled = Some(rows::pat_enabled(&mut *tx).await?),
                // Sessions are read from the database on each request; nothing to cache.
                ChangeKind::Session => {}
            }
        }
        tx.commit().await?;
        Ok(batch)
    }

    async fn prune_changes(&self, before: Millis) -> StoreResult<u64> {
        let _turn = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let through: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(seq) FROM changes WHERE at < ? AND seq < (SELECT MAX(seq) FROM changes)",
        )
        .bind(before)
        .fetch_one(&mut *tx)
        .await?;
        let Some(through) = through else {
            tx.commit().await?;
            return Ok(0);
        };
        let removed = sqlx::query("DELETE FROM changes WHERE seq <= ?")
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO feed_state (key, value) VALUES ('pruned_through', ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(through)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(removed)
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

    async fn touch_session(&self, id_digest: &[u8; 32], at: Millis) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_digest = ?")
            .bind(at)
            .bind(&id_digest[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_sign_in_attempt(
        &self,
        username: &str,
        now: Millis,
        limit: u32,
    ) -> StoreResult<Result<(), u64>> {
        let (interval, tolerance) = sign_in_budget(limit);
        // One statement: the budget is read and spent atomically, whichever node asks.
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sign_in_limits (username, tat) VALUES (?1, ?2 + ?3) \
             ON CONFLICT(username) DO UPDATE SET tat = MAX(tat, ?2) + ?3 \
             WHERE MAX(tat, ?2) + ?3 - ?2 <= ?4 + ?3 RETURNING tat",
        )
        .bind(username)
        .bind(now)
        .bind(interval)
        .bind(tolerance)
        .fetch_optional(&self.pool)
        .await?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let tat: i64 = sqlx::query_scalar("SELECT tat FROM sign_in_limits WHERE username = ?")
            .bind(username)
            .fetch_one(&self.pool)
            .await?;
        Ok(Err(retry_after_secs(tat, now, tolerance)))
    }

    async fn prune_sign_in_limits(&self, now: Millis) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM sign_in_limits WHERE tat < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: Millis,
        started_before: Millis,
    ) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?")
            .bind(idle_before)
            .bind(started_before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
