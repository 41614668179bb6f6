//! The lifecycle policy object (SPEC §11): reading and changing it, and what a change
//! does at once — setting or lowering the maximum lifetime caps every token that would
//! outlive it, each capped token audited (`token.policy_capped`).
use tessera_api::{LifecyclePolicyValue, LIFECYCLE_SCHEMA};

use serde_json::json;

use super::{webhooks, Actor, Service};
use crate::domain::lifecycle::Policy;
use crate::domain::patch::Patch;
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::store::{StoreTx, TokenPatch};

/// The settings row that holds the policy.
pub const KEY: &str = "lifecycle";

/// The policy as `tx` reads it (held against changes until commit on PostgreSQL).
pub async fn policy_in(tx: &mut dyn StoreTx) -> Result<Policy, ApiError> {
    Ok(Policy::from_text(tx.setting(KEY).await?.as_deref()))
}

/// A new expiration within the policy: `asked` if it is within the maximum lifetime, an
/// error naming `expirationDate` if not (or if the token would never expire).
pub fn check_expiry(policy: &Policy, asked: Option<Millis>, now: Millis) -> Result<(), ApiError> {
    let (Some(latest), Some(days)) = (policy.latest_expiry(now), policy.max_lifetime_days) else {
        return Ok(());
    };
    if asked.is_some_and(|at| at <= latest) {
        return Ok(());
    }
    Err(ApiError::invalid(
        tessera_api::ParameterLocation::PayloadBody,
        "expirationDate",
        format!(
            "The lifecycle policy allows tokens to live at most {days} days: \
             choose an expiration no later than {}",
            time::format(latest)
        ),
    ))
}

impl Service {
    pub async fn lifecycle_policy(&self) -> Result<Policy, ApiError> {
        Ok(Policy::from_text(self.store.setting(KEY).await?.as_deref()))
    }

    /// Replaces the policy (admins only); returns it as stored.
    pub async fn set_lifecycle_policy(
        &self,
        actor: &Actor,
        value: LifecyclePolicyValue,
    ) -> Result<Policy, ApiError> {
        let actor = actor.clone();
        self.change_with_events(move |mut tx| async move {
            let actor = actor.confirmed(&mut *tx).await?;
            if !actor.sees_all_tokens() {
                return Err(ApiError::Forbidden(
                    "Only administrators may access token settings".into(),
                ));
            }
            let before = Policy::from_text(tx.lock_setting(KEY).await?.as_deref());
            let after = Policy::from_write(value, &before).map_err(|violations| {
                let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
                ApiError::BadRequest {
                    message: format!("Constraints violated: {}", paths.join(", ")),
                    violations,
                }
            })?;
            let now = time::now();
            tx.put_setting(KEY, &after.to_text(), &actor.username, now)
                .await?;
            let diff = audit_change(&mut *tx, &actor, &before, &after).await?;
            let receiver = |p: &Policy| (p.webhook_url.clone(), p.webhook_secret.clone());
            if receiver(&before) != receiver(&after) {
                tx.retry_webhooks_now(now).await?;
            }
            if diff.text().is_some() {
                let data = webhooks::settings_data(LIFECYCLE_SCHEMA, &actor, diff.operations());
                webhooks::emit(&mut *tx, &after, webhooks::SETTINGS_CHANGED, None, data).await?;
            }
            if let Some(cap) = after.latest_expiry(now) {
                if before.latest_expiry(now).is_none_or(|old| cap < old) {
                    cap_tokens(&mut *tx, &actor, &after, cap, now).await?;
                }
            }
            Ok((after, tx.commit().await?))
        })
        .await
    }
}

async fn audit_change(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    before: &Policy,
    after: &Policy,
) -> Result<Patch, ApiError> {
    let mut diff = Patch::default();
    diff.replace(
        "/maxLifetimeDays",
        &before.max_lifetime_days,
        &after.max_lifetime_days,
    )
    .replace(
        "/expiryWarningDays",
        &before.expiry_warning_days,
        &after.expiry_warning_days,
    )
    .replace("/webhookUrl", &before.webhook_url, &after.webhook_url)
    .replace(
        "/disableUnusedAfterDays",
        &before.disable_unused_after_days,
        &after.disable_unused_after_days,
    );
    if before.webhook_secret != after.webhook_secret {
        diff.replace_secret("/webhookSecret");
    }
    if diff.text().is_some() {
        let event = actor.event("settings.changed", Some(LIFECYCLE_SCHEMA), None);
        tx.audit(&event.with_patch(&diff)).await?;
    }
    Ok(diff)
}

/// Every token that would outlive `cap` now expires at `cap` (audited one by one; the
/// feed carries each to every node).
async fn cap_tokens(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    policy: &Policy,
    cap: Millis,
    now: Millis,
) -> Result<(), ApiError> {
    for token in tx.tokens_outliving(cap).await? {
        let patch = TokenPatch {
            expires_at: Some(cap),
            capped_at: Some(now),
            ..TokenPatch::default()
        };
        let capped = tx.update_token(&token.id, &patch, now).await?;
        let previous = token.expires_at.map(time::format);
        let data = webhooks::about(&capped, json!({ "previousExpirationDate": previous }));
        let kind = webhooks::TOKEN_POLICY_CAPPED;
        webhooks::emit(&mut *tx, policy, kind, Some(&token.id), data).await?;
        let mut diff = Patch::default();
        diff.replace(
            "/expirationDate",
            &token.expires_at.map(time::format),
            &Some(time::format(cap)),
        );
        let detail = format!("owner={}", token.owner);
        let event = actor.event("token.policy_capped", Some(&token.id), Some(detail));
        tx.audit(&event.with_patch(&diff)).await?;
    }
    Ok(())
}
