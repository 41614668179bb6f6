//! The lifecycle scheduler's runs (SPEC §11): expiry warnings, expiry reports and disabling
//! unused tokens. One node at a time (a lease in the database); everything it has done is
//! in the database too (warnings sent, how far expiry was reported), so a restart, or
//! another node taking over, neither repeats nor skips an event. Each batch is one change
//! on the write path: audited, in the feed, its events in the outbox.
use serde_json::json;

use super::{webhooks, Actor, Service};
use crate::domain::lifecycle::{Policy, DAY_MS};
use crate::domain::patch::Patch;
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::store::{outbox::BATCH, Candidates, TokenPatch};

/// The lease that makes one node at a time run the scheduler.
pub const LEASE: &str = "lifecycle";
/// Renewed before each batch; a node that died is replaced after at most this long.
const LEASE_MS: Millis = 2 * 60 * 1000;
/// Settings row: the `(expiration, id)` up to which `token.expired` went out.
pub const EXPIRED_MARK: &str = "scheduler.expired";
/// Expiry is reported this long after the fact, so that a change committing with an
/// expiration just before a run (rotation without grace) is never behind the mark.
const SETTLE_MS: Millis = 60 * 1000;
/// Finished webhook events are kept this long for the deliveries view.
const KEEP_DELIVERED_MS: Millis = 7 * DAY_MS;
/// Delivery is retried this long, then given up.
const RETRY_WINDOW_MS: Millis = DAY_MS;
/// A use is written to the database off the request's path, at most once a minute a token:
/// a token is disabled as unused only this long after its last use could have landed.
const LAST_USE_MARGIN_MS: Millis = 60 * 60 * 1000;

impl Service {
    /// One run as node `node`; `false` when another node holds the lease. The lease is
    /// renewed before each batch, and the run stops if it was lost (it ran out meanwhile).
    pub async fn run_lifecycle(&self, node: &str) -> Result<bool, ApiError> {
        if !self.holds_lease(node).await? {
            return Ok(false);
        }
        let now = time::now();
        let policy = self.lifecycle_policy().await?;
        if policy.webhook_url.is_some() {
            self.warn_expiring(&policy, now, node).await?;
        }
        while self.holds_lease(node).await?
            && self.report_expired(now - SETTLE_MS).await? == BATCH as usize
        {}
        if policy.disable_unused_after_days.is_some() {
            while self.holds_lease(node).await? && self.disable_unused(now).await? == BATCH as usize
            {
            }
        }
        let store = &self.store;
        store
            .prune_webhooks(now - RETRY_WINDOW_MS, now - KEEP_DELIVERED_MS, now)
            .await?;
        Ok(true)
    }

    /// Takes or renews the scheduler's lease for `node`.
    async fn holds_lease(&self, node: &str) -> Result<bool, ApiError> {
        Ok(self.store.take_lease(LEASE, node, LEASE_MS).await?)
    }

    /// `token.expiring` once per token, expiration and threshold: each token gets the
    /// tightest threshold it is within (a token made 12 hours from expiry gets the 1-day
    /// warning, not both).
    async fn warn_expiring(
        &self,
        policy: &Policy,
        now: Millis,
        node: &str,
    ) -> Result<(), ApiError> {
        let thresholds = &policy.expiry_warning_days; // descending, distinct
        for (i, &days) in thresholds.iter().enumerate() {
            let tighter = thresholds.get(i + 1).copied().unwrap_or(0);
            let which = Candidates::Expiring {
                after: now + tighter * DAY_MS,
                upto: now + days * DAY_MS,
                within_days: days,
            };
            while self.holds_lease(node).await? {
                let which = which.clone();
                let done = self
                    .change_with_events(move |mut tx| async move {
                        let policy = super::lifecycle::policy_in(&mut *tx).await?;
                        let tokens = tx.candidates(&which).await?;
                        for t in &tokens {
                            let at = t.expires_at.unwrap_or_default();
                            // Once, even if two runs ever overlap.
                            if !tx.mark_warned(&t.id, at, days).await? {
                                continue;
                            }
                            let data = webhooks::about(t, json!({ "withinDays": days }));
                            let kind = webhooks::TOKEN_EXPIRING;
                            webhooks::emit(&mut *tx, &policy, kind, Some(&t.id), data).await?;
                        }
                        Ok((tokens.len(), tx.commit().await?))
                    })
                    .await?;
                if done < BATCH as usize {
                    break;
                }
            }
        }
        Ok(())
    }

    /// `token.expired` for enabled tokens whose expiration passed since the mark, up to
    /// `upto`. The first run starts the mark at `upto`: tokens that expired before the
    /// scheduler ever ran are not reported.
    async fn report_expired(&self, upto: Millis) -> Result<usize, ApiError> {
        self.change_with_events(move |mut tx| async move {
            let mark = tx.lock_setting(EXPIRED_MARK).await?;
            let Some(after) = mark.as_deref().and_then(parse_mark) else {
                tx.put_setting(EXPIRED_MARK, &format!("{upto} "), "system", upto)
                    .await?;
                return Ok((0, tx.commit().await?));
            };
            let tokens = tx.candidates(&Candidates::Expired { after, upto }).await?;
            let policy = super::lifecycle::policy_in(&mut *tx).await?;
            for t in &tokens {
                let data = webhooks::token_data(t);
                webhooks::emit(
                    &mut *tx,
                    &policy,
                    webhooks::TOKEN_EXPIRED,
                    Some(&t.id),
                    data,
                )
                .await?;
            }
            let next = match tokens.last() {
                Some(t) => format!("{} {}", t.expires_at.unwrap_or(upto), t.id),
                None => format!("{upto} "),
            };
            tx.put_setting(EXPIRED_MARK, &next, "system", time::now())
                .await?;
            Ok((tokens.len(), tx.commit().await?))
        })
        .await
    }

    /// Disables a batch of tokens unused for `disableUnusedAfterDays` (counting from
    /// creation when never used); each audited and reported.
    async fn disable_unused(&self, now: Millis) -> Result<usize, ApiError> {
        let system = Actor::system();
        self.change_with_events(move |mut tx| async move {
            let policy = super::lifecycle::policy_in(&mut *tx).await?;
            let Some(days) = policy.disable_unused_after_days else {
                return Ok((0, None));
            };
            let which = Candidates::Unused {
                before: now - days * DAY_MS - LAST_USE_MARGIN_MS,
                now,
            };
            let tokens = tx.candidates(&which).await?;
            for t in &tokens {
                let patch = TokenPatch {
                    enabled: Some(false),
                    ..TokenPatch::default()
                };
                let disabled = tx.update_token(&t.id, &patch, now).await?;
                let mut diff = Patch::default();
                diff.replace("/enabled", &true, &false);
                let since = t.last_used_at.unwrap_or(t.created_at);
                let detail = format!(
                    "owner={} unusedSince={} unusedAfterDays={days}",
                    t.owner,
                    time::format(since)
                );
                let event = system.event("token.disabled_unused", Some(&t.id), Some(detail));
                tx.audit(&event.with_patch(&diff)).await?;
                let data = webhooks::about(&disabled, json!({ "unusedAfterDays": days }));
                let kind = webhooks::TOKEN_DISABLED_UNUSED;
                webhooks::emit(&mut *tx, &policy, kind, Some(&t.id), data).await?;
            }
            Ok((tokens.len(), tx.commit().await?))
        })
        .await
    }
}

/// `"<expiration> <id>"` (the id empty before any token was reported).
fn parse_mark(text: &str) -> Option<(Millis, String)> {
    let (at, id) = text.split_once(' ')?;
    Some((at.parse().ok()?, id.to_owned()))
}
