//! Rotation (SPEC §11): a new token with the old one's owner, name, type and scopes (still
//! bound to the owner's permissions now) replaces it; the old one keeps working for the
//! grace period and then expires, on every node, because its new expiration is in the
//! index like any other. Both rows are linked (`rotated_from` / `rotated_to`) and audited.
use tessera_api::{ParameterLocation, RotateTokenRequest};

use super::tokens::{
    check_scopes, owner_grants, parse_id, pat_disabled, scopes_or_error, visible_to, Generated,
    ENVIRONMENT_TOKENS_ADMIN_ONLY,
};
use serde_json::json;

use super::{webhooks, Actor, Service};
use crate::domain::patch::Patch;
use crate::domain::time::{self, Millis};
use crate::domain::token::Token;
use crate::error::ApiError;
use crate::store::{TokenPatch, TokenRecord};

/// The longest grace period: a day.
pub const MAX_GRACE_SECONDS: i64 = 86_400;

impl Service {
    /// Rotates token `id`: 201 with the new token, shown this once.
    pub async fn rotate_token(
        &self,
        actor: &Actor,
        id: &str,
        body: RotateTokenRequest,
    ) -> Result<Generated, ApiError> {
        let id = parse_id(id)?;
        let grace = body.grace_seconds.unwrap_or(0);
        if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
            return Err(ApiError::invalid(
                ParameterLocation::PayloadBody,
                "graceSeconds",
                "graceSeconds must be from 0 to 86400",
            ));
        }
        let now = time::now();
        let expiration = match body.expiration_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(time::parse_expiration(v, now).map_err(|e| {
                ApiError::invalid(ParameterLocation::PayloadBody, "expirationDate", e)
            })?),
        };
        let actor = actor.clone();
        self.change_with_events(move |mut tx| async move {
            let actor = actor.confirmed(&mut *tx).await?;
            let old = visible_to(&actor, tx.token(id.as_str()).await?)?;
            refuse_unrotatable(&old, now)?;
            if !old.personal && !actor.may_empower_environment_tokens() {
                return Err(ApiError::Forbidden(ENVIRONMENT_TOKENS_ADMIN_ONLY.into()));
            }
            if old.personal && !tx.pat_enabled().await? {
                return Err(pat_disabled());
            }
            // The owner's permissions now, not when the old token was made.
            let allowed = owner_grants(&mut *tx, &old).await?;
            let scopes =
                scopes_or_error(Vec::new(), check_scopes(&old.scopes.to_strings(), allowed))?;
            // Within the lifecycle policy: an expiration asked for must be; the default
            // (the old lifetime again) is shortened to it.
            let policy = super::lifecycle::policy_in(&mut *tx).await?;
            let expires_at = match expiration {
                Some(at) => {
                    super::lifecycle::check_expiry(&policy, Some(at), now)?;
                    Some(at)
                }
                None => match (same_lifetime(&old, now), policy.latest_expiry(now)) {
                    (Some(at), Some(latest)) => Some(at.min(latest)),
                    (at, latest) => at.or(latest),
                },
            };
            let token = Token::generate();
            let new = TokenRecord {
                id: token.id().as_str().to_owned(),
                scopes,
                enabled: true,
                digest: token.digest(),
                created_at: now,
                modified_at: None,
                expires_at,
                last_used_at: None,
                last_used_ip: None,
                rotated_from: Some(old.id.clone()),
                rotated_to: None,
                capped_at: None,
                rate_limit: super::token_rules::capped_limit(&actor, old.rate_limit),
                ..old.clone()
            };
            let ends = old
                .expires_at
                .map_or(now + grace * 1000, |at| at.min(now + grace * 1000));
            let patch = TokenPatch {
                expires_at: Some(ends),
                rotated_to: Some(new.id.clone()),
                ..TokenPatch::default()
            };
            tx.insert_token(&new).await?;
            tx.update_token(&old.id, &patch, now).await?;
            let mut change = Patch::default();
            change
                .replace(
                    "/expirationDate",
                    &old.expires_at.map(time::format),
                    &Some(time::format(ends)),
                )
                .replace("/rotatedTo", &None::<String>, &Some(new.id.clone()));
            let detail = format!("rotatedTo={} graceSeconds={grace}", new.id);
            tx.audit(
                &actor
                    .event("token.rotated", Some(&old.id), Some(detail))
                    .with_patch(&change),
            )
            .await?;
            let detail = format!(
                "rotatedFrom={} scopes={}",
                old.id,
                new.scopes.to_strings().join(",")
            );
            tx.audit(&actor.event("token.generated", Some(&new.id), Some(detail)))
                .await?;
            let rotated = TokenRecord {
                expires_at: Some(ends),
                rotated_to: Some(new.id.clone()),
                ..old
            };
            let data = webhooks::about(
                &rotated,
                json!({"rotatedTo": new.id, "graceSeconds": grace, "rotatedBy": actor.username}),
            );
            webhooks::emit(
                &mut *tx,
                &policy,
                webhooks::TOKEN_ROTATED,
                Some(&rotated.id),
                data,
            )
            .await?;
            Ok((Generated { record: new, token }, tx.commit().await?))
        })
        .await
    }
}

/// Only a token in use can be rotated, and only once.
fn refuse_unrotatable(old: &TokenRecord, now: Millis) -> Result<(), ApiError> {
    let why = if let Some(to) = &old.rotated_to {
        format!("This token was already rotated; its replacement is {to}")
    } else if !old.enabled {
        "A disabled token cannot be rotated; enable it first or generate a new one".to_owned()
    } else if old.expires_at.is_some_and(|at| at <= now) {
        "An expired token cannot be rotated; generate a new one".to_owned()
    } else {
        return Ok(());
    };
    Err(ApiError::conflict(ParameterLocation::Path, "id", &why))
}

/// The old token's lifetime length again, from now (never expiring if it never did).
fn same_lifetime(old: &TokenRecord, now: Millis) -> Option<Millis> {
    old.expires_at.map(|at| now + (at - old.created_at).max(0))
}
