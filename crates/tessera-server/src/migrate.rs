//! `tessera-server migrate-db --from sqlite://… --to postgres://…`: moves a single-node
//! installation onto a database that several nodes can share. Users (with their password
//! hashes), tokens (digests and every field, last use included), the settings, the audit
//! log and undelivered webhook events are copied in one transaction into an empty target,
//! then counted on both sides; then the SSO identities, due for re-validation at once.
//! Sessions are not copied: people sign in again after the move. Stop the server first
//! (the source is read as it is at the start).
use anyhow::{bail, Context};

use crate::domain::time;
use crate::store::{self, Store};

/// What a database holds, compared before and after the copy.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    users: usize,
    tokens: usize,
    audit: usize,
    pat_enabled: bool,
}

async fn counts(db: &dyn Store) -> anyhow::Result<Counts> {
    let snapshot = db.snapshot().await?;
    Ok(Counts {
        users: snapshot.users.len(),
        tokens: snapshot.tokens.len(),
        audit: db.audit_log(u32::MAX).await?.len(),
        pat_enabled: snapshot.pat_enabled,
    })
}

pub async fn migrate(from: &str, to: &str) -> anyhow::Result<()> {
    // A SQLite source must not be served while it is copied (the server holds this lock).
    let _source_lock = store::lock_for_serving(from).context("locking --from")?;
    let source = store::open(from).await.context("opening --from")?;
    let target = store::open(to).await.context("opening --to")?;
    let before = counts(target.as_ref()).await?;
    if before.users + before.tokens + before.audit > 0 {
        bail!(
            "the target database is not empty ({} users, {} tokens, {} audit rows): \
             migrate-db copies only into an empty database",
            before.users,
            before.tokens,
            before.audit
        );
    }
    let snapshot = source.snapshot().await?;
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
    tx.commit().await?;
    let copied_pending = target.pending_webhooks().await?.len();
    if copied_pending != pending.len() {
        bail!(
            "{copied_pending} of {} undelivered webhook events copied",
            pending.len()
        );
    }

    // SSO users are re-validated on the new database at once (checked "never"): their
    // refresh tokens are sealed with the key file, which moves with the installation.
    let identities = source.sso_identities().await?;
    for (username, sealed) in &identities {
        target.save_sso_identity(username, sealed, 0).await?;
    }
    if target.sso_identities().await?.len() != identities.len() {
        bail!("not every SSO identity was copied");
    }

    let expected = Counts {
        users: snapshot.users.len(),
        tokens: snapshot.tokens.len(),
        audit: audit.len(),
        pat_enabled: snapshot.pat_enabled,
    };
    let copied = counts(target.as_ref()).await?;
    if copied != expected {
        bail!("the copy does not match its source: {copied:?} copied, {expected:?} expected");
    }
    println!(
        "Copied {} users, {} tokens and {} audit rows (personal access tokens {}); \
         sessions are not copied, so everyone signs in again.",
        copied.users,
        copied.tokens,
        copied.audit,
        if copied.pat_enabled { "on" } else { "off" }
    );
    Ok(())
}
