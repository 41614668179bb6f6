//! `tessera-server migrate-db --from sqlite://… --to postgres://…`: moves a single-node
//! installation onto a database that several nodes can share. Users (with their password
//! hashes), tokens (digests and every field, last use included), the settings, the audit
//! log, undelivered webhook events, usage counts and SSO identities (due for re-validation
//! at once) are copied in one transaction into an empty target, then counted on both
//! sides. Sessions and rate-limit windows are not copied: people sign in again after the
//! move, and limits start a new minute. Stop the server first (the source is read as it is
//! at the start).
use anyhow::{bail, Context};

use crate::domain::time;
use crate::store::carry::USAGE_BATCH;
use crate::store::meter::UsageRow;
use crate::store::{self, Store};

/// What a database holds, compared before and after the copy.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    users: usize,
    tokens: usize,
    audit: usize,
    pat_enabled: bool,
    /// Rows of usage (token, hour and scope).
    usage: usize,
    sso_identities: usize,
}

async fn counts(db: &dyn Store) -> anyhow::Result<Counts> {
    let snapshot = db.snapshot().await?;
    Ok(Counts {
        users: snapshot.users.len(),
        tokens: snapshot.tokens.len(),
        audit: db.audit_log(u32::MAX).await?.len(),
        pat_enabled: snapshot.pat_enabled,
        usage: db.all_usage().await?.len(),
        sso_identities: db.sso_identities().await?.len(),
    })
}

/// In byte order of the key: the two databases may collate text differently.
fn sorted(mut rows: Vec<UsageRow>) -> Vec<UsageRow> {
    rows.sort_by(|a, b| (&a.token_id, a.hour, &a.scope).cmp(&(&b.token_id, b.hour, &b.scope)));
    rows
}

pub async fn migrate(from: &str, to: &str) -> anyhow::Result<()> {
    // A SQLite source must not be served while it is copied (the server holds this lock).
    let _source_lock = store::lock_for_serving(from).context("locking --from")?;
    let source = store::open(from).await.context("opening --from")?;
    let target = store::open(to).await.context("opening --to")?;
    let before = counts(target.as_ref()).await?;
    if before.users + before.tokens + before.audit + before.usage + before.sso_identities > 0 {
        bail!(
            "the target database is not empty ({before:?}): migrate-db copies only into an \
             empty database"
        );
    }
    let snapshot = source.snapshot().await?;
    // Every row, also of tokens deleted since (harmless: their usage is never shown) and
    // older than 30 days (the new database prunes them as the old one would have).
    let usage = sorted(source.all_usage().await?);
    let identities = source.sso_identities().await?;
    let mut audit = source.audit_log(u32::MAX).await?;
    audit.reverse(); // oldest first, so ids keep their order
    let mut tx = target.begin().await?;
    for user in &snapshot.users {
        tx.create_user(user).await?;
    }
    for token in &snapshot.tokens {
        tx.insert_token(token).await?;
    }
    tx.set_pat_enabled(snapshot.pat_enabled, "migrate-db", time::now())
        .await?;
    let lifecycle = crate::service::lifecycle::KEY;
    if let Some(policy) = source.setting(lifecycle).await?.filter(|p| !p.is_empty()) {
        tx.put_setting(lifecycle, &policy, "migrate-db", time::now())
            .await?;
    }
    for event in &audit {
        tx.audit(event).await?;
    }
    // Undelivered webhook events go on from the new database (tried again from the
    // start, within their 24 h); so does how far expiry was reported. Which expiry
    // warnings went out is not copied: at worst a warning is sent again.
    let pending = source.pending_webhooks().await?;
    for event in &pending {
        tx.enqueue(event).await?;
    }
    let mark = crate::service::scheduler::EXPIRED_MARK;
    if let Some(value) = source.setting(mark).await? {
        tx.put_setting(mark, &value, "migrate-db", time::now())
            .await?;
    }
    for batch in usage.chunks(USAGE_BATCH) {
        tx.carry_usage(batch).await?;
    }
    // SSO users are re-validated on the new database at once (checked "never"): their
    // refresh tokens are sealed with the key file, which moves with the installation.
    for (username, sealed) in &identities {
        tx.carry_sso_identity(username, sealed, 0).await?;
    }
    tx.commit().await?;
    // Checked after the commit: a mismatch means the target must be dropped and created
    // again before another try (it is no longer empty).
    let again = "drop and create the target database again before another try";
    let copied_pending = target.pending_webhooks().await?.len();
    if copied_pending != pending.len() {
        bail!(
            "{copied_pending} of {} undelivered webhook events copied; {again}",
            pending.len()
        );
    }
    // Row for row: counts are added on conflict, so a count alone would miss a doubling.
    if sorted(target.all_usage().await?) != usage {
        bail!("the usage counts copied differ from their source; {again}");
    }

    let expected = Counts {
        users: snapshot.users.len(),
        tokens: snapshot.tokens.len(),
        audit: audit.len(),
        pat_enabled: snapshot.pat_enabled,
        usage: usage.len(),
        sso_identities: identities.len(),
    };
    let copied = counts(target.as_ref()).await?;
    if copied != expected {
        bail!(
            "the copy does not match its source: {copied:?} copied, {expected:?} expected; {again}"
        );
    }
    println!(
        "Copied {} users, {} tokens, {} audit rows, {} usage rows and {} SSO identities \
         (personal access tokens {}); sessions are not copied, so everyone signs in again.",
        copied.users,
        copied.tokens,
        copied.audit,
        copied.usage,
        copied.sso_identities,
        if copied.pat_enabled { "on" } else { "off" }
    );
    Ok(())
}
