//! The PostgreSQL store: any number of nodes on one database. Nodes learn of changes by
//! LISTEN/NOTIFY (`listen`) and read the feed by sequence, like every other reader.
mod lifecycle;
mod list;
mod rows;
mod tx;

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;

use super::*;

crate::store::audit_read::audit_reads!(sqlx::PgPool, sqlx::Postgres, "strpos");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The feed reader's own connections (snapshot, feed reads, LISTEN), so that request
    /// load cannot starve the reads that keep this node current.
    reader: PgPool,
}

impl PgStore {
    /// Connects to `url` and runs pending migrations (one node at a time: sqlx takes an
    /// advisory lock while migrating).
    pub async fn open(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        schema::migrate(&schema::POSTGRES, &pool).await?;
        let reader = PgPoolOptions::new()
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(PgStore { pool, reader })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The database's clock in epoch milliseconds (leases use it, not the nodes').
const DB_NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
outbox::impl_outbox!(PgStore, sqlx::Postgres, DB_NOW);
crate::store::meter::impl_meter!(PgStore, sqlx::Postgres);
crate::store::sso::impl_sso_store!(PgStore, sqlx::Postgres, " FOR UPDATE SKIP LOCKED");

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn schema_version(&self) -> StoreResult<Option<i64>> {
        let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    fn known_schema(&self) -> &'static sqlx::migrate::Migrator {
        &schema::POSTGRES
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(Box::new(tx::PgTx {
            tx: self.pool.begin().await?,
            pending: Vec::new(),
            audited: Vec::new(),
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
        let row = sqlx::query("SELECT * FROM sessions WHERE id_digest = $1")
            .bind(&id_digest[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::session_from_row).transpose()
    }

    async fn pat_enabled(&self) -> StoreResult<bool> {
        rows::pat_enabled(&self.pool).await
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.filter(|v| !v.is_empty()))
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
            sqlx::query_as("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn snapshot(&self) -> StoreResult<Snapshot> {
        let mut tx = self.reader.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
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
        let mut tx = self.reader.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seq, kind, key FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let pruned_through: Option<i64> =
            sqlx::query_scalar("SELECT value FROM feed_state WHERE key = 'pruned_through'")
                .fetch_optional(&mut *tx)
                .await?;
        let mut batch = ChangeBatch {
            head: after,
            more: rows.len() as u64 == u64::from(limit),
            ..ChangeBatch::default()
        };
        if pruned_through.is_some_and(|p| p > after) {
            batch.gap = true;
            tx.commit().await?;
            return Ok(batch);
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
                ChangeKind::Session => {}
            }
        }
        tx.commit().await?;
        Ok(batch)
    }

    async fn prune_changes(&self, before: Millis) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        // One pruner at a time across nodes.
        sqlx::query("LOCK TABLE feed_state IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let through: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(seq) FROM changes WHERE at < $1 AND seq < (SELECT MAX(seq) FROM changes)",
        )
        .bind(before)
        .fetch_one(&mut *tx)
        .await?;
        let Some(through) = through else {
            tx.commit().await?;
            return Ok(0);
        };
        let removed = sqlx::query("DELETE FROM changes WHERE seq <= $1")
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO feed_state (key, value) VALUES ('pruned_through', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(through)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn record_token_use(&self, id: &str, at: Millis, ip: &str) -> StoreResult<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3")
            .bind(at)
            .bind(ip)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn touch_session(&self, id_digest: &[u8; 32], at: Millis) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_digest = $2")
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
            "INSERT INTO sign_in_limits (username, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (username) DO UPDATE SET tat = GREATEST(sign_in_limits.tat, $2) + $3 \
             WHERE GREATEST(sign_in_limits.tat, $2) + $3 - $2 <= $4 + $3 RETURNING tat",
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
        let tat: i64 = sqlx::query_scalar("SELECT tat FROM sign_in_limits WHERE username = $1")
            .bind(username)
            .fetch_one(&self.pool)
            .await?;
        Ok(Err(retry_after_secs(tat, now, tolerance)))
    }

    async fn prune_sign_in_limits(&self, now: Millis) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM sign_in_limits WHERE tat < $1")
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
        let result = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(idle_before)
            .bind(started_before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn change_signal(&self) -> StoreResult<Option<Box<dyn ChangeSignal>>> {
        let mut listener = PgListener::connect_with(&self.reader).await?;
        listener.listen(tx::CHANNEL).await?;
        Ok(Some(Box::new(Notifications(listener))))
    }
}

/// LISTEN on the feed's channel. A notification, or a lost connection (notifications sent
/// meanwhile are gone), both mean: read the feed.
struct Notifications(PgListener);

#[async_trait]
impl ChangeSignal for Notifications {
    async fn changed(&mut self) -> StoreResult<()> {
        self.0.try_recv().await?;
        Ok(())
    }
}
