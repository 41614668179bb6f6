//! User use cases, shared by the CLI and the server's own start-up (and, later, the users
//! API): add, change, disable and enable, each audited.
use tessera_api::ParameterLocation;

use super::{Actor, Origin, Service};
use crate::domain::names::{DisplayName, Username, ZoneName};
use crate::domain::patch::Patch;
use crate::domain::scope_set::ScopeSet;
use crate::domain::time;
use crate::error::ApiError;
use crate::store::{StoreError, StoreTx, TokenPatch, User, UserPatch};

/// Each zone name checked and trimmed (`*` and `-` are refused: the zones header uses them).
fn check_zones(zones: &mut [String]) -> Result<(), ApiError> {
    for (i, zone) in zones.iter_mut().enumerate() {
        let name = ZoneName::parse(zone).map_err(|e| {
            ApiError::invalid(
                ParameterLocation::PayloadBody,
                &format!("managementZones[{i}]"),
                e,
            )
        })?;
        *zone = name.as_str().to_owned();
    }
    Ok(())
}

/// The audit events a patch makes, with what it touched.
fn patch_events(patch: &UserPatch) -> Vec<(&'static str, Option<String>)> {
    let mut events = Vec::new();
    let fields: Vec<&str> = [
        ("displayName", patch.display_name.is_some()),
        ("admin", patch.admin.is_some()),
        ("permissions", patch.permissions.is_some()),
        ("managementZones", patch.zones.is_some()),
        ("allZones", patch.all_zones.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if !fields.is_empty() {
        events.push(("user.updated", Some(format!("fields={}", fields.join(",")))));
    }
    if patch.password_hash.is_some() {
        events.push(("user.password_changed", None));
    }
    events
}

/// Before → after of a user for the audit event `event` of `patch_events`.
fn user_diff(before: &User, after: &User, event: &str) -> Patch {
    let mut diff = Patch::default();
    if event == "user.password_changed" {
        diff.replace_secret("/password");
        return diff;
    }
    diff.replace("/displayName", &before.display_name, &after.display_name)
        .replace("/admin", &before.admin, &after.admin)
        .replace(
            "/permissions",
            &before.permissions.to_strings(),
            &after.permissions.to_strings(),
        )
        .replace("/managementZones", &before.zones, &after.zones)
        .replace("/allZones", &before.all_zones, &after.all_zones);
    diff
}

/// Demotion takes away what being an admin gave: their environment tokens stop (each
/// disabled and audited, visible as such; they may still rename or delete them).
async fn disable_environment_tokens(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    username: &str,
) -> Result<(), ApiError> {
    let patch = TokenPatch {
        enabled: Some(false),
        ..TokenPatch::default()
    };
    for token in tx.enabled_environment_tokens_of(username).await? {
        tx.update_token(&token.id, &patch, time::now()).await?;
        let detail = Some(format!("owner {username} is no longer an administrator"));
        tx.audit(&actor.event("token.disabled", Some(&token.id), detail))
            .await?;
    }
    Ok(())
}

/// Only administrators manage users (the CLI is trusted: it owns the database).
async fn confirm_admin(tx: &mut dyn StoreTx, actor: &Actor) -> Result<Actor, ApiError> {
    let actor = actor.confirmed(tx).await?;
    if !actor.admin {
        return Err(ApiError::Forbidden(
            "Only administrators manage users".into(),
        ));
    }
    Ok(actor)
}

/// An administrator neither demotes nor disables themselves, and the last active
/// administrator stays one — whoever asks, the CLI included: a Tessera without an active
/// administrator cannot be managed from the console.
/// `admins`: the active administrators, read under `lock_admins`.
fn keep_an_admin(
    actor: &Actor,
    username: &str,
    patch: &UserPatch,
    admins: &[String],
) -> Result<(), ApiError> {
    // The identity provider decides about its users: a demotion or refusal there must
    // hold here even for the last administrator (the first `admin` stays a local user).
    if actor.username == "oidc" && actor.origin == Origin::Trusted {
        return Ok(());
    }
    let field = match (patch.admin, patch.active) {
        (Some(false), _) => "admin",
        (_, Some(false)) => "active",
        _ => return Ok(()),
    };
    if actor.origin == Origin::User && actor.username == username {
        return Err(ApiError::conflict(
            ParameterLocation::PayloadBody,
            field,
            "You cannot remove your own administrator rights or disable yourself; \
             ask another administrator",
        ));
    }
    if admins.iter().all(|a| a == username) && admins.iter().any(|a| a == username) {
        return Err(ApiError::conflict(
            ParameterLocation::PayloadBody,
            field,
            "The last active administrator cannot be demoted or disabled; make another \
             user an administrator first",
        ));
    }
    Ok(())
}

fn display_name(value: &str) -> Result<String, ApiError> {
    DisplayName::parse(value)
        .map(DisplayName::into_string)
        .map_err(|e| ApiError::invalid(ParameterLocation::PayloadBody, "displayName", e))
}

/// Scopes only administrators hold are refused for anyone else (400 at `permissions`).
fn check_admin_only(admin: bool, permissions: Option<ScopeSet>) -> Result<(), ApiError> {
    match permissions.and_then(ScopeSet::admin_only) {
        Some(scope) if !admin => Err(ApiError::invalid(
            ParameterLocation::PayloadBody,
            "permissions",
            format!("Only administrators hold {scope}"),
        )),
        _ => Ok(()),
    }
}

impl Service {
    /// Adds a user (the username is validated here); 409 when the name is taken.
    pub async fn add_user(&self, actor: &Actor, mut user: User) -> Result<(), ApiError> {
        Username::parse(&user.username)
            .map_err(|e| ApiError::invalid(ParameterLocation::PayloadBody, "username", e))?;
        check_zones(&mut user.zones)?;
        check_admin_only(user.admin, Some(user.permissions))?;
        user.display_name = display_name(&user.display_name)?;
        let actor = actor.clone();
        self.change(move |mut tx| async move {
            let actor = confirm_admin(&mut *tx, &actor).await?;
            match tx.create_user(&user).await {
                Err(StoreError::Conflict) => {
                    return Err(ApiError::conflict(
                        ParameterLocation::PayloadBody,
                        "username",
                        &format!("user `{}` already exists", user.username),
                    ))
                }
                other => other?,
            }
            let detail = format!("admin={}", user.admin);
            tx.audit(&actor.event("user.added", Some(&user.username), Some(detail)))
                .await?;
            Ok(((), tx.commit().await?))
        })
        .await
    }

    /// Changes a user; 404 when there is none. Disabling a user stops every token of theirs
    /// (rule 4) on every node through the feed.
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        mut patch: UserPatch,
    ) -> Result<User, ApiError> {
        check_zones(patch.zones.as_deref_mut().unwrap_or_default())?;
        patch.display_name = patch
            .display_name
            .as_deref()
            .map(display_name)
            .transpose()?;
        let actor = actor.clone();
        let username = username.to_owned();
        self.change(move |mut tx| async move {
            // First, before any row lock: user changes take one at a time on PostgreSQL (see
            // `StoreTx::lock_admins`), so neither the last-admin rule nor a user's row read
            // by the actor's check and then locked for the update can meet another change
            // halfway.
            let admins = tx.lock_admins().await?;
            let actor = confirm_admin(&mut *tx, &actor).await?;
            keep_an_admin(&actor, &username, &patch, &admins)?;
            let before = tx
                .lock_user(&username)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no user `{username}`")))?;
            if patch.is_empty() {
                return Ok((before, None));
            }
            // A password would be a second way in that the provider does not control.
            if patch.password_hash.is_some() && super::sso::is_sso(&before.password_hash) {
                return Err(ApiError::conflict(
                    ParameterLocation::PayloadBody,
                    "password",
                    "This user signs in through the identity provider and has no local password",
                ));
            }
            // Someone who is not (or no longer) an administrator keeps no admin-only scope
            // among their stored permissions.
            if !patch.admin.unwrap_or(before.admin) && patch.permissions.is_none() {
                let kept = before.permissions.without_admin_only();
                if kept != before.permissions {
                    patch.permissions = Some(kept);
                }
            }
            let after = tx.update_user(&username, &patch).await?;
            // Dropping the transaction on this error rolls the update back.
            check_admin_only(after.admin, patch.permissions)?;
            for (event, detail) in patch_events(&patch) {
                let diff = user_diff(&before, &after, event);
                tx.audit(
                    &actor
                        .event(event, Some(&username), detail)
                        .with_patch(&diff),
                )
                .await?;
            }
            if before.active != after.active {
                let event = if after.active {
                    "user.enabled"
                } else {
                    "user.disabled"
                };
                let mut diff = Patch::default();
                diff.replace("/active", &before.active, &after.active);
                tx.audit(&actor.event(event, Some(&username), None).with_patch(&diff))
                    .await?;
            }
            // A stolen cookie must not outlive a new password, and `enable` must not revive
            // the sessions that `disable` ended.
            if patch.password_hash.is_some() || (before.active && !after.active) {
                tx.delete_user_sessions(&username).await?;
            }
            if before.admin && !after.admin {
                disable_environment_tokens(&mut *tx, &actor, &username).await?;
            }
            Ok((after, tx.commit().await?))
        })
        .await
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        Ok(self.store.users().await?)
    }
}
