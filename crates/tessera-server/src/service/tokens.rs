//! Token use cases: generate, read, update, delete (listing: `listing.rs`) — with the rules of SPEC §4 on who
//! may touch which token and which scopes a token may carry.
use tessera_api::{ConstraintViolation, CreateTokenRequest, ParameterLocation, UpdateTokenRequest};

pub(super) use super::token_rules::{
    check_scopes, owner_grants, parse_id, pat_disabled, rate_limit, scopes_or_error, visible_to,
    ENVIRONMENT_TOKENS_ADMIN_ONLY,
};
use super::{Actor, Service};
use crate::domain::names::TokenName;
use crate::domain::patch::Patch;
use crate::domain::time;
use crate::domain::token::{Token, TokenParseError};
use crate::error::ApiError;
use crate::store::{StoreError, StoreTx, TokenPatch, TokenRecord};

/// What `create` hands back: the stored token and the token itself, shown this once.
pub struct Generated {
    pub record: TokenRecord,
    pub token: Token,
}

impl Service {
    /// Generates a token owned by the actor (committed with others that arrive together).
    pub async fn create_token(
        &self,
        actor: &Actor,
        body: CreateTokenRequest,
    ) -> Result<Generated, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = super::generate_batch::Job {
            actor: actor.clone(),
            body,
            reply,
        };
        let gone = || ApiError::Internal(anyhow::anyhow!("the token generator stopped"));
        self.generator().send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// One token's metadata, if the actor may see it.
    pub async fn token(&self, actor: &Actor, id: &str) -> Result<TokenRecord, ApiError> {
        let id = parse_id(id)?;
        visible_to(actor, self.store.token(id.as_str()).await?)
    }

    /// A token's metadata from the token itself.
    pub async fn lookup_token(&self, actor: &Actor, token: &str) -> Result<TokenRecord, ApiError> {
        // A wrong shape is the caller's mistake (400); a right shape with a wrong checksum is
        // simply not a token we issued (404), as is a right checksum with an unknown secret.
        let token = match Token::parse(token.trim()) {
            Ok(token) => token,
            Err(TokenParseError::Checksum) => return Err(ApiError::not_found("Token")),
            Err(TokenParseError::Shape) => {
                return Err(ApiError::invalid(
                    ParameterLocation::PayloadBody,
                    "token",
                    "Not a well-formed token",
                ))
            }
        };
        let record = self.token(actor, token.id().as_str()).await?;
        if !record.digest.matches(&token.digest()) {
            return Err(ApiError::not_found("Token"));
        }
        Ok(record)
    }

    /// Renames, enables or disables a token, or replaces its scopes.
    pub async fn update_token(
        &self,
        actor: &Actor,
        id: &str,
        body: UpdateTokenRequest,
    ) -> Result<(), ApiError> {
        let name = body
            .name
            .as_deref()
            .map(|n| {
                TokenName::parse(n)
                    .map_err(|e| ApiError::invalid(ParameterLocation::PayloadBody, "name", e))
            })
            .transpose()?;
        let limit = body
            .rate_limit_per_minute
            .map(|n| n.map(rate_limit).transpose())
            .transpose()
            .map_err(|e| {
                ApiError::invalid(ParameterLocation::PayloadBody, "rateLimitPerMinute", e)
            })?;
        let id = parse_id(id)?;
        let actor = actor.clone();
        self.change(move |mut tx| async move {
            let actor = actor.confirmed(&mut *tx).await?;
            let before = visible_to(&actor, tx.token(id.as_str()).await?)?;
            // A limited token must not lift its own limit; for an environment token, lifting
            // it is giving it more power (below).
            let lifts = limit.is_some_and(|new| {
                before
                    .rate_limit
                    .is_some_and(|old| new.is_none_or(|n| n > old))
            });
            if lifts && actor.token_id() == Some(before.id.as_str()) {
                return Err(ApiError::Forbidden(
                    "A token cannot raise or remove its own rate limit".into(),
                ));
            }
            if body.enabled == Some(false) && actor.token_id() == Some(before.id.as_str()) {
                return Err(ApiError::conflict(
                    ParameterLocation::Path,
                    "id",
                    "A token cannot disable itself",
                ));
            }
            let scopes = match body.scopes.as_deref() {
                Some(values) => {
                    let allowed = owner_grants(&mut *tx, &before).await?;
                    Some(scopes_or_error(Vec::new(), check_scopes(values, allowed))?)
                }
                None => None,
            };
            // An environment token acts for nobody in particular: only who may create one
            // may give it more power (more scopes, or enabled again).
            let widens = scopes.is_some_and(|s| !s.is_subset_of(before.scopes));
            let re_enables = body.enabled == Some(true) && !before.enabled;
            if !before.personal
                && (widens || re_enables || lifts)
                && !actor.may_empower_environment_tokens()
            {
                return Err(ApiError::Forbidden(ENVIRONMENT_TOKENS_ADMIN_ONLY.into()));
            }
            let patch = TokenPatch {
                name: name.map(|n| n.as_str().to_owned()),
                enabled: body.enabled,
                scopes,
                rate_limit: limit,
                ..TokenPatch::default()
            };
            let after = match tx.update_token(&before.id, &patch, time::now()).await {
                Err(StoreError::NotFound) => return Err(ApiError::not_found("Token")),
                other => other?,
            };
            // Decided from the row as this transaction saw it, so two racing updates each
            // audit what they changed.
            if patch.name.is_some()
                || patch.scopes.is_some()
                || before.rate_limit != after.rate_limit
            {
                let detail = format!(
                    "name={} scopes={} rateLimit={}",
                    patch.name.is_some(),
                    patch.scopes.is_some(),
                    before.rate_limit != after.rate_limit
                );
                let mut diff = Patch::default();
                diff.replace("/name", &before.name, &after.name).replace(
                    "/scopes",
                    &before.scopes.to_strings(),
                    &after.scopes.to_strings(),
                );
                diff.replace("/rateLimitPerMinute", &before.rate_limit, &after.rate_limit);
                let event = actor.event("token.updated", Some(&after.id), Some(detail));
                tx.audit(&event.with_patch(&diff)).await?;
            }
            if before.enabled != after.enabled {
                let event = if after.enabled {
                    "token.enabled"
                } else {
                    "token.disabled"
                };
                let mut diff = Patch::default();
                diff.replace("/enabled", &before.enabled, &after.enabled);
                tx.audit(&actor.event(event, Some(&after.id), None).with_patch(&diff))
                    .await?;
            }
            Ok(((), tx.commit().await?))
        })
        .await
    }

    /// Deletes a token for good.
    pub async fn delete_token(&self, actor: &Actor, id: &str) -> Result<(), ApiError> {
        let id = parse_id(id)?;
        let actor = actor.clone();
        self.change(move |mut tx| async move {
            let actor = actor.confirmed(&mut *tx).await?;
            let record = visible_to(&actor, tx.token(id.as_str()).await?)?;
            if actor.token_id() == Some(record.id.as_str()) {
                return Err(ApiError::conflict(
                    ParameterLocation::Path,
                    "id",
                    "A token cannot delete itself",
                ));
            }
            tx.delete_token(&record.id).await?;
            tx.audit(&actor.event("token.deleted", Some(&record.id), None))
                .await?;
            Ok(((), tx.commit().await?))
        })
        .await
    }
}

/// Validates a generation request and makes the token, owned by the actor.
/// The checks of one generation, read in `tx` (rights, the PAT switch, the input): the
/// token to insert, or why not. Reads only — no lock a later insert of the batch needs.
pub(super) async fn check_generation(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    body: CreateTokenRequest,
) -> Result<Generated, ApiError> {
    let personal = body.personal_access_token.unwrap_or(true);
    let actor = actor.confirmed(tx).await?;
    if !personal && !actor.may_empower_environment_tokens() {
        return Err(ApiError::Forbidden(ENVIRONMENT_TOKENS_ADMIN_ONLY.into()));
    }
    // Decided in the transaction, so a switch turned off meanwhile is respected.
    if personal && !tx.pat_enabled().await? {
        return Err(pat_disabled());
    }
    let policy = super::lifecycle::policy_in(tx).await?;
    let generated = new_token(&actor, body, personal)?;
    let record = &generated.record;
    super::lifecycle::check_expiry(&policy, record.expires_at, record.created_at)?;
    Ok(generated)
}

/// Inserts a checked token with its audit row.
pub(super) async fn insert_generated(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    generated: &Generated,
) -> Result<(), ApiError> {
    let record = &generated.record;
    tx.insert_token(record).await?;
    let detail = format!("scopes={}", record.scopes.to_strings().join(","));
    tx.audit(&actor.event("token.generated", Some(&record.id), Some(detail)))
        .await?;
    Ok(())
}

fn new_token(
    actor: &Actor,
    body: CreateTokenRequest,
    personal: bool,
) -> Result<Generated, ApiError> {
    let now = time::now();
    let mut violations = Vec::new();
    let mut violation = |path: &str, message: &str| {
        violations.push(ConstraintViolation::new(
            ParameterLocation::PayloadBody,
            path,
            message,
        ))
    };
    let name = TokenName::parse(&body.name)
        .map_err(|e| violation("name", e))
        .ok();
    let expires_at = match body.expiration_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => time::parse_expiration(v, now)
            .map_err(|e| violation("expirationDate", e))
            .ok(),
    };
    // A limited token cannot make a token less limited than itself.
    let cap = actor.token.as_ref().and_then(|t| t.rate_limit);
    let rate_limit = match (body.rate_limit_per_minute, cap) {
        (Some(n), Some(cap)) if n > cap => {
            violation(
                "rateLimitPerMinute",
                "A rate-limited token cannot generate a token with a higher limit than its own",
            );
            None
        }
        (Some(n), _) => rate_limit(n)
            .map_err(|e| violation("rateLimitPerMinute", e))
            .ok(),
        (None, cap) => cap,
    };
    let scopes = scopes_or_error(violations, check_scopes(&body.scopes, actor.permissions))?;
    let name = name.ok_or_else(|| ApiError::bad_request("Invalid token name"))?;
    let token = Token::generate();
    let record = TokenRecord {
        id: token.id().as_str().to_owned(),
        owner: actor.username.clone(),
        name: name.as_str().to_owned(),
        scopes,
        personal,
        enabled: true,
        digest: token.digest(),
        created_at: now,
        modified_at: None,
        expires_at,
        last_used_at: None,
        last_used_ip: None,
        rotated_from: None,
        rotated_to: None,
        capped_at: None,
        rate_limit,
    };
    Ok(Generated { record, token })
}
