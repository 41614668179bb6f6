//! A write transaction on SQLite: `BEGIN IMMEDIATE`, so a transaction that reads before it
//! writes cannot fail to upgrade when another connection (the CLI) wrote in between.
use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

use super::rows::{self, is_unique_violation, json_list, token_from_row, user_from_row};
use crate::domain::time::{self, Millis};
use crate::store::{
    outbox_sql, AuditEvent, Candidates, ChangeKind, OutboxEvent, SessionRecord, StoreError,
    StoreResult, StoreTx, TokenPatch, TokenRecord, User, UserPatch,
};

pub struct SqliteTx {
    pub(super) tx: Transaction<'static, Sqlite>,
    pub(super) last_change: Option<i64>,
    /// Audit rows written, logged once the transaction commits (never under the lock,
    /// never for a change that rolled back).
    pub(super) audited: Vec<AuditEvent>,
    /// This process's write turn, held until commit or rollback.
    pub(super) _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl SqliteTx {
    /// Appends to the feed; every write below calls it, so none can be left out.
    async fn changed(&mut self, kind: ChangeKind, key: &str) -> StoreResult<()> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO changes (at, kind, key) VALUES (?, ?, ?) RETURNING seq",
        )
        .bind(time::now())
        .bind(kind.as_str())
        .bind(key)
        .fetch_one(&mut *self.tx)
        .await?;
        self.last_change = Some(seq);
        Ok(())
    }
}

crate::store::carry::impl_carry!(SqliteTx, sqlx::Sqlite);

fn conflict_or(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict
    } else {
        e.into()
    }
}

#[async_trait]
impl StoreTx for SqliteTx {
    async fn user(&mut self, username: &str) -> StoreResult<Option<User>> {
        rows::user(&mut *self.tx, username).await
    }

    /// BEGIN IMMEDIATE already holds the database's one write lock.
    async fn lock_user(&mut self, username: &str) -> StoreResult<Option<User>> {
        rows::user(&mut *self.tx, username).await
    }

    async fn lock_admins(&mut self) -> StoreResult<Vec<String>> {
        let sql = "SELECT username FROM users WHERE admin = 1 AND active = 1 ORDER BY username";
        Ok(sqlx::query_scalar(sql).fetch_all(&mut *self.tx).await?)
    }

    async fn token(&mut self, id: &str) -> StoreResult<Option<TokenRecord>> {
        rows::token(&mut *self.tx, id).await
    }

    async fn pat_enabled(&mut self) -> StoreResult<bool> {
        rows::pat_enabled(&mut *self.tx).await
    }

    async fn create_user(&mut self, user: &User) -> StoreResult<()> {
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
        .bind(time::now())
        .execute(&mut *self.tx)
        .await
        .map_err(conflict_or)?;
        self.changed(ChangeKind::User, &user.username).await
    }

    async fn update_user(&mut self, username: &str, patch: &UserPatch) -> StoreResult<User> {
        let row = sqlx::query(
            "UPDATE users SET display_name = COALESCE(?, display_name), password_hash = COALESCE(?, password_hash), \
             admin = COALESCE(?, admin), active = COALESCE(?, active), permissions = COALESCE(?, permissions), \
             zones = COALESCE(?, zones), all_zones = COALESCE(?, all_zones) WHERE username = ? RETURNING *",
        )
        .bind(&patch.display_name)
        .bind(&patch.password_hash)
        .bind(patch.admin)
        .bind(patch.active)
        .bind(patch.permissions.map(|p| json_list(&p.to_strings())))
        .bind(patch.zones.as_deref().map(json_list))
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
        sqlx::query(
            "INSERT INTO tokens (id, owner, name, scopes, personal, enabled, digest, created_at, modified_at, expires_at, \
             last_used_at, last_used_ip, rotated_from, rotated_to, capped_at, rate_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            "UPDATE tokens SET name = COALESCE(?, name), enabled = COALESCE(?, enabled), \
             scopes = COALESCE(?, scopes), modified_at = CASE WHEN ? THEN ? ELSE modified_at END, \
             expires_at = COALESCE(?, expires_at), rotated_to = COALESCE(?, rotated_to), \
             capped_at = COALESCE(?, capped_at), \
             rate_limit = CASE WHEN ? THEN ? ELSE rate_limit END \
             WHERE id = ? RETURNING {}",
            rows::TOKEN_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(&patch.name)
            .bind(patch.enabled)
            .bind(patch.scopes.map(|s| json_list(&s.to_strings())))
            .bind(renames)
            .bind(now)
            .bind(patch.expires_at)
            .bind(&patch.rotated_to)
            .bind(patch.capped_at)
            .bind(patch.rate_limit.is_some())
            .bind(patch.rate_limit.flatten().map(i64::from))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let token = token_from_row(&row)?;
        self.changed(ChangeKind::Token, id).await?;
        Ok(token)
    }

    async fn delete_token(&mut self, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM tokens WHERE id = ?")
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
            "INSERT INTO settings (key, value, modified_at, modified_by) VALUES ('patEnabled', ?, ?, ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at, \
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
        sqlx::query("INSERT INTO sessions (id_digest, username, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&s.id_digest[..])
            .bind(&s.username)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "DELETE FROM sessions WHERE username = ? AND id_digest NOT IN \
             (SELECT id_digest FROM sessions WHERE username = ? ORDER BY last_seen_at DESC, created_at DESC LIMIT ?)",
        )
        .bind(&s.username)
        .bind(&s.username)
        .bind(i64::from(keep_per_user))
        .execute(&mut *self.tx)
        .await?;
        // The feed names the user, never a session's id.
        self.changed(ChangeKind::Session, &s.username).await
    }

    async fn delete_session(&mut self, id_digest: &[u8; 32], username: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_digest = ?")
            .bind(&id_digest[..])
            .execute(&mut *self.tx)
            .await?;
        self.changed(ChangeKind::Session, username).await
    }

    async fn delete_user_sessions(&mut self, username: &str) -> StoreResult<u64> {
        let ended = sqlx::query("DELETE FROM sessions WHERE username = ?")
            .bind(username)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        self.changed(ChangeKind::Session, username).await?;
        Ok(ended)
    }

    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        rows::setting(&mut *self.tx, key).await
    }

    // One writer at a time (the store's write mutex): reading is locking.
    async fn lock_setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        rows::setting(&mut *self.tx, key).await
    }

    async fn put_setting(
        &mut self,
        key: &str,
        value: &str,
        by: &str,
        at: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, modified_at, modified_by) VALUES (?, ?, ?, ?) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at, \
             modified_by = excluded.modified_by",
        )
        .bind(key)
        .bind(value)
        .bind(at)
        .bind(by)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn tokens_outliving(&mut self, cap: Millis) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE expires_at IS NULL OR expires_at > ?",
            rows::TOKEN_COLUMNS
        );
        let rows = sqlx::query(&sql).bind(cap).fetch_all(&mut *self.tx).await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn candidates(&mut self, which: &Candidates) -> StoreResult<Vec<TokenRecord>> {
        let mut qb = outbox_sql::candidates::<Sqlite>(rows::TOKEN_COLUMNS, which);
        let rows = qb.build().fetch_all(&mut *self.tx).await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn mark_warned(&mut self, id: &str, expires_at: Millis, days: i64) -> StoreResult<bool> {
        let mut insert = outbox_sql::mark_warned::<Sqlite>(id, expires_at, days as i32);
        Ok(insert.build().execute(&mut *self.tx).await?.rows_affected() == 1)
    }

    async fn enqueue(&mut self, event: &OutboxEvent) -> StoreResult<()> {
        outbox_sql::enqueue::<Sqlite>(event)
            .build()
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn retry_webhooks_now(&mut self, now: Millis) -> StoreResult<()> {
        let mut retry = outbox_sql::retry_now::<Sqlite>(now);
        retry.build().execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn enabled_environment_tokens_of(
        &mut self,
        owner: &str,
    ) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {} FROM tokens WHERE owner = ? AND personal = 0 AND enabled = 1",
            rows::TOKEN_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn audit(&mut self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, client_addr, event, target, detail, patch) VALUES (?, ?, ?, ?, ?, ?, ?)")
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

    async fn commit(self: Box<Self>) -> StoreResult<Option<i64>> {
        let SqliteTx {
            tx,
            last_change,
            audited,
            _turn,
        } = *self;
        tx.commit().await?;
        crate::store::log_audited(&audited);
        Ok(last_change)
    }
}
