//! A write transaction on PostgreSQL (READ COMMITTED): rows a change decides on are read
//! `FOR UPDATE` (or `FOR SHARE` where only their existence matters), so two racing changes
//! of one row see each other's result, as on SQLite's single writer.
use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use super::lifecycle;
use super::rows::{self, is_unique_violation, token_from_row, user_from_row, TOKEN_COLUMNS};
use crate::domain::time::{self, Millis};
use crate::store::{
    AuditEvent, Candidates, ChangeKind, OutboxEvent, SessionRecord, StoreError, StoreResult,
    StoreTx, TokenPatch, TokenRecord, User, UserPatch,
};

/// The channel nodes LISTEN on; the payload is empty (a node reads the feed by sequence).
pub const CHANNEL: &str = "tessera_changes";

pub struct PgTx {
    pub(super) tx: Transaction<'static, Postgres>,
    /// Changes made, appended to the feed at commit (see `commit`).
    pub(super) pending: Vec<(ChangeKind, String)>,
    pub(super) audited: Vec<AuditEvent>,
}

/// The advisory lock that orders feed appends: held from the append to the commit.
const FEED_LOCK: i64 = 0x0074_6573_7365_7261; // "tessera"
/// Serialises changes of users (the last-admin rule; a row read, then locked).
const ADMINS_LOCK: i64 = 0x0061_646d_696e_7321; // "admins!"

impl PgTx {
    async fn changed(&mut self, kind: ChangeKind, key: &str) -> StoreResult<()> {
        self.pending.push((kind, key.to_owned()));
        Ok(())
    }
}

crate::store::carry::impl_carry!(PgTx, sqlx::Postgres);

fn conflict_or(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict
    } else {
        e.into()
    }
}

#[async_trait]
impl StoreTx for PgTx {
    async fn user(&mut self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = $1 FOR SHARE")
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn lock_user(&mut self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = $1 FOR UPDATE")
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn lock_admins(&mut self) -> StoreResult<Vec<String>> {
        // An advisory lock, not row locks, taken first in its transaction: user changes
        // queue on it before any row lock of theirs, and the read after it (a new snapshot
        // under READ COMMITTED) sees every demotion committed before.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ADMINS_LOCK)
            .execute(&mut *self.tx)
            .await?;
        let sql = "SELECT username FROM users WHERE admin AND active ORDER BY username";
        Ok(sqlx::query_scalar(sql).fetch_all(&mut *self.tx).await?)
    }

    async fn token(&mut self, id: &str) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 FOR UPDATE");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Not locked: whether the token acting is still usable is a snapshot read, so two
    /// tokens acting on each other cannot deadlock on their own rows.
    async fn peek_token(&mut self, id: &str) -> StoreResult<Option<TokenRecord>> {
        rows::token(&mut *self.tx, id).await
    }

    /// FOR UPDATE: two switches at once must not both hold a share and then upgrade.
    async fn lock_pat_enabled(&mut self) -> StoreResult<bool> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'patEnabled' FOR UPDATE")
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(value.as_deref() == Some("true"))
    }

    async fn pat_enabled(&mut self) -> StoreResult<bool> {
        // FOR SHARE: a switch turned off waits for generations that read it on.
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'patEnabled' FOR SHARE")
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(value.as_deref() == Some("true"))
    }

    async fn create_user(&mut self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, admin, active, permissions, zones, all_zones, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(user.admin)
        .bind(user.active)
        .bind(user.permissions.to_strings())
        .bind(&user.zones)
        .bind(user.all_zones)
        .bind(time::now())
        .execute(&mut *self.tx)
        .await
        .map_err(conflict_or)?;
        self.changed(ChangeKind::User, &user.username).await
    }

    async fn update_user(&mut self, username: &str, patch: &UserPatch) -> StoreResult<User> {
        let row = sqlx::query(
            "UPDATE users SET display_name = COALESCE($1, display_name), password_hash = COALESCE($2, password_hash), \
             admin = COALESCE($3, admin), active = COALESCE($4, active), permissions = COALESCE($5, permissions), \
             zones = COALESCE($6, zones), all_zones = COALESCE($7, all_zones) WHERE username = $8 RETURNING *",
        )
        .bind(&patch.display_name)
        .bind(&patch.password_hash)
        .bind(patch.admin)
        .bind(patch.active)
        .bind(patch.permissions.map(|p| p.to_strings()))
        .bind(&patch.zones)
        .bind(patch.all_zones)
        .bind(username)
        .fetch_optional(&mut *self.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let user = user_from_row(&row)?;
        self.changed(ChangeKind::User, username).await?;
        Ok(user)
    }

    async fn insert_token(&mut self, t: &TokenRecord) -> StoreResult<()> {
        // tokens.seq orders pages (`seq <= snapshot`); taken under the feed lock, held to
        // commit, it is commit order, so a page never gains a token committed after it.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FEED_LOCK)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO tokens (id, owner, name, scopes, personal, enabled, digest, created_at, modified_at, expires_at, \
             last_used_at, last_used_ip, rotated_from, rotated_to, capped_at, rate_limit) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&t.id)
        .bind(&t.owner)
        .bind(&t.name)
        .bind(t.scopes.to_strings())
        .bind(t.personal)
        .bind(t.enabled)
        .bind(&t.digest.0[..])
        .bind(t.created_at)
        .bind(t.modified_at)
        .bind(t.expires_at)
        .bind(t.last_used_at)
        .bind(&t.last_used_ip)
        .bind(&t.rotated_from)
        .bind(&t.rotated_to)
        .bind(t.capped_at)
        .bind(t.rate_limit.map(i64::from))
        .execute(&mut *self.tx)
        .await
        .map_err(conflict_or)?;
        self.changed(ChangeKind::Token, &t.id).await
    }

    async fn update_token(
        &mut self,
        id: &str,
        patch: &TokenPatch,
        now: Millis,
    ) -> StoreResult<TokenRecord> {
        let renames = patch.name.is_some() || patch.scopes.is_some();
        let sql = format!(
            "UPDATE tokens SET name = COALESCE($1, name), enabled = COALESCE($2, enabled), \
             scopes = COALESCE($3, scopes), modified_at = CASE WHEN $4 THEN $5 ELSE modified_at END, \
             expires_at = COALESCE($6, expires_at), rotated_to = COALESCE($7, rotated_to), \
             capped_at = COALESCE($8, capped_at), \
             rate_limit = CASE WHEN $10 THEN $11 ELSE rate_limit END WHERE id = $9 RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&patch.name)
            .bind(patch.enabled)
            .bind(patch.scopes.map(|s| s.to_strings()))
            .bind(renames)
            .bind(now)
            .bind(patch.expires_at)
            .bind(&patch.rotated_to)
            .bind(patch.capped_at)
            .bind(id)
            .bind(patch.rate_limit.is_some())
            .bind(patch.rate_limit.flatten().map(i64::from))
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let token = token_from_row(&row)?;
        self.changed(ChangeKind::Token, id).await?;
        Ok(token)
    }

    async fn delete_token(&mut self, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let deleted = result.rows_affected() > 0;
        if deleted {
            self.changed(ChangeKind::Token, id).await?;
        }
        Ok(deleted)
    }

    async fn set_pat_enabled(&mut self, enabled: bool, by: &str, at: Millis) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, modified_at, modified_by) VALUES ('patEnabled', $1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at, \
             modified_by = excluded.modified_by",
        )
        .bind(if enabled { "true" } else { "false" })
        .bind(at)
        .bind(by)
        .execute(&mut *self.tx)
        .await?;
        self.changed(ChangeKind::Setting, "patEnabled").await
    }

    async fn create_session(&mut self, s: &SessionRecord, keep_per_user: u32) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id_digest, username, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.id_digest[..])
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE username = $1 AND id_digest NOT IN \
             (SELECT id_digest FROM sessions WHERE username = $1 ORDER BY last_seen_at DESC, created_at DESC LIMIT $2)",
        )
        .bind(&s.username)
        .bind(i64::from(keep_per_user))
        .execute(&mut *self.tx)
        .await?;
        self.changed(ChangeKind::Session, &s.username).await
    }

    async fn delete_session(&mut self, id_digest: &[u8; 32], username: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_digest = $1")
            .bind(&id_digest[..])
            .execute(&mut *self.tx)
            .await?;
        self.changed(ChangeKind::Session, username).await
    }

    async fn delete_user_sessions(&mut self, username: &str) -> StoreResult<u64> {
        let ended = sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        self.changed(ChangeKind::Session, username).await?;
        Ok(ended)
    }

    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        lifecycle::setting(&mut self.tx, key).await
    }

    async fn lock_setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        lifecycle::lock_setting(&mut self.tx, key).await
    }

    async fn put_setting(
        &mut self,
        key: &str,
        value: &str,
        by: &str,
        at: Millis,
    ) -> StoreResult<()> {
        lifecycle::put_setting(&mut self.tx, key, value, by, at).await
    }

    async fn candidates(&mut self, which: &Candidates) -> StoreResult<Vec<TokenRecord>> {
        lifecycle::candidates(&mut self.tx, which).await
    }

    async fn mark_warned(&mut self, id: &str, expires_at: Millis, days: i64) -> StoreResult<bool> {
        lifecycle::mark_warned(&mut self.tx, id, expires_at, days).await
    }

    async fn enqueue(&mut self, event: &OutboxEvent) -> StoreResult<()> {
        lifecycle::enqueue(&mut self.tx, event).await
    }

    async fn retry_webhooks_now(&mut self, now: Millis) -> StoreResult<()> {
        lifecycle::retry_webhooks_now(&mut self.tx, now).await
    }

    async fn tokens_outliving(&mut self, cap: Millis) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE expires_at IS NULL OR expires_at > $1 ORDER BY id FOR UPDATE"
        );
        let rows = sqlx::query(&sql).bind(cap).fetch_all(&mut *self.tx).await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn enabled_environment_tokens_of(
        &mut self,
        owner: &str,
    ) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE owner = $1 AND NOT personal AND enabled FOR UPDATE"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn audit(&mut self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, client_addr, event, target, detail, patch) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.client_addr)
            .bind(&e.event)
            .bind(&e.target)
            .bind(&e.detail)
            .bind(&e.patch)
            .execute(&mut *self.tx)
            .await?;
        self.audited.push(e.clone());
        Ok(())
    }

    /// A sequence number is taken at insert but becomes visible at commit, so on their own
    /// two transactions could commit in the other order and a reader that saw the later
    /// one would skip the earlier forever. The feed rows are therefore appended last, under
    /// a transaction-level advisory lock that is released only when the commit is visible:
    /// sequence order is commit order, as on SQLite. Only the append and the commit are
    /// serialised; the rest of each change runs concurrently.
    async fn commit(self: Box<Self>) -> StoreResult<Option<i64>> {
        let PgTx {
            mut tx,
            pending,
            audited,
        } = *self;
        let mut last = None;
        if !pending.is_empty() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FEED_LOCK)
                .execute(&mut *tx)
                .await?;
            let (kinds, keys): (Vec<&str>, Vec<&str>) = pending
                .iter()
                .map(|(kind, key)| (kind.as_str(), key.as_str()))
                .unzip();
            last = sqlx::query_scalar(
                "WITH appended AS (INSERT INTO changes (at, kind, key) \
                 SELECT $1, kind, key FROM UNNEST($2::text[], $3::text[]) AS c(kind, key) \
                 RETURNING seq) SELECT MAX(seq) FROM appended",
            )
            .bind(time::now())
            .bind(&kinds)
            .bind(&keys)
            .fetch_one(&mut *tx)
            .await?;
            // Delivered at commit, dropped on rollback; nodes then read the feed by seq.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        crate::store::log_audited(&audited);
        Ok(last)
    }
}
