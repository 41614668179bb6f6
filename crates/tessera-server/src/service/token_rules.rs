//! The rules a token change is held to (SPEC §4): which scopes a token may carry, who may
//! see it, and its rate limit.
use tessera_api::{ConstraintViolation, ParameterLocation, Scope};

use super::Actor;
use crate::domain::scope_set::ScopeSet;
use crate::domain::token::TokenId;
use crate::error::ApiError;
use crate::store::{StoreTx, TokenRecord};

/// Scopes as asked for, sorted into what is known and held, unknown, and not held.
pub(super) struct ScopeCheck {
    set: ScopeSet,
    unknown: Vec<ConstraintViolation>,
    denied: Vec<ConstraintViolation>,
}

pub(super) fn check_scopes(values: &[String], allowed: ScopeSet) -> ScopeCheck {
    let mut check = ScopeCheck {
        set: ScopeSet::default(),
        unknown: Vec::new(),
        denied: Vec::new(),
    };
    if values.is_empty() {
        check.unknown.push(ConstraintViolation::new(
            ParameterLocation::PayloadBody,
            "scopes",
            "Select at least one scope",
        ));
    }
    for (i, value) in values.iter().enumerate() {
        let path = format!("scopes[{i}]");
        match Scope::parse(value) {
            None => check.unknown.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                path,
                format!("Unknown scope `{value}`"),
            )),
            Some(scope) if !allowed.contains(scope) => check.denied.push(ConstraintViolation::new(
                ParameterLocation::PayloadBody,
                path,
                format!(
                    "You do not hold the permission {} ({})",
                    scope.as_str(),
                    scope.display_name()
                ),
            )),
            Some(scope) => check.set.insert(scope),
        }
    }
    check
}

/// 400 for input that is wrong whoever sends it, then 403 for scopes the owner lacks.
pub(super) fn scopes_or_error(
    mut violations: Vec<ConstraintViolation>,
    check: ScopeCheck,
) -> Result<ScopeSet, ApiError> {
    violations.extend(check.unknown);
    if !violations.is_empty() {
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        return Err(ApiError::BadRequest {
            message: format!("Constraints violated: {}", paths.join(", ")),
            violations,
        });
    }
    if !check.denied.is_empty() {
        return Err(ApiError::ForbiddenFields {
            message: "Available scopes are bound to your permissions".into(),
            violations: check.denied,
        });
    }
    Ok(check.set)
}

pub(super) const ENVIRONMENT_TOKENS_ADMIN_ONLY: &str =
    "Only administrators may create, widen or re-enable \
     tokens that are not personal access tokens, and not with a personal access token";

pub(super) fn pat_disabled() -> ApiError {
    ApiError::Forbidden("Personal access tokens are disabled by an administrator".into())
}

pub(super) fn parse_id(id: &str) -> Result<TokenId, ApiError> {
    TokenId::parse(id).ok_or_else(|| {
        ApiError::invalid(
            ParameterLocation::Path,
            "id",
            "Not a token id (dt0c01.<24 characters>)",
        )
    })
}

/// Only the owner, or someone who sees every token, may see a token; others get 404, never
/// 403, so ids of other people's tokens are not confirmed.
pub(super) fn visible_to(
    actor: &Actor,
    record: Option<TokenRecord>,
) -> Result<TokenRecord, ApiError> {
    record
        .filter(|r| actor.sees_all_tokens() || r.owner == actor.username)
        .ok_or_else(|| ApiError::not_found("Token"))
}

/// A token made on behalf of `actor` (by rotation) is at most as unlimited as the token
/// acting, if one is.
pub(super) fn capped_limit(actor: &Actor, limit: Option<u32>) -> Option<u32> {
    match (limit, actor.token.as_ref().and_then(|t| t.rate_limit)) {
        (Some(n), Some(cap)) => Some(n.min(cap)),
        (n, cap) => n.or(cap),
    }
}

/// Largest per-token rate limit, requests per minute.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;

pub(super) fn rate_limit(n: u32) -> Result<u32, &'static str> {
    if (1..=MAX_RATE_LIMIT).contains(&n) {
        Ok(n)
    } else {
        Err("A rate limit is 1 to 1000000 requests per minute")
    }
}

/// The scopes a token may carry: a PAT is bound to its owner's permissions now; an
/// environment token is not bound to a user.
pub(super) async fn owner_grants(
    tx: &mut dyn StoreTx,
    token: &TokenRecord,
) -> Result<ScopeSet, ApiError> {
    if !token.personal {
        return Ok(ScopeSet::ALL);
    }
    Ok(match tx.user(&token.owner).await? {
        Some(owner) if owner.admin => ScopeSet::ALL,
        Some(owner) => owner.permissions.without_admin_only(),
        None => ScopeSet::default(),
    })
}
