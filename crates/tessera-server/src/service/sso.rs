//! Users from single sign-on (SPEC §13): the first sign-in creates the user, each sign-in
//! (and re-validation) applies the claims mapping again, through the same audited use
//! cases as an administrator's changes, by the actor `oidc`.
//!
//! An SSO user has no local password: their stored hash is a marker naming the provider's
//! issuer and subject (`sso:<sha256>`), which no password verifies and which ties the
//! username to that one identity — a local user, or another identity, of the same name is
//! never taken over.
use sha2::{Digest, Sha256};

use super::{Actor, Service};
use crate::domain::time;
use crate::error::ApiError;
use crate::sso::Identity;
use crate::store::{User, UserPatch};

/// The stored "password hash" of the user `issuer` and `subject` name.
pub fn marker(issuer: &str, subject: &str) -> String {
    let digest = Sha256::digest(format!("{issuer}\n{subject}").as_bytes());
    format!("sso:{}", data_encoding::HEXLOWER.encode(&digest))
}

/// Whether a stored hash is an SSO marker (no local password).
pub fn is_sso(password_hash: &str) -> bool {
    password_hash.starts_with("sso:")
}

impl Service {
    /// Re-validated claims applied to an existing SSO user (a disabled one stays so).
    pub async fn sso_apply(&self, identity: &Identity) -> Result<(), ApiError> {
        match self.store.user(&identity.username).await? {
            Some(user)
                if user.active
                    && user.password_hash == marker(&identity.issuer, &identity.subject) =>
            {
                self.bring_in_line(user, identity).await.map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// The user `identity` signs in as, created or brought in line with the mapping, with
    /// their sealed refresh token stored for re-validation.
    pub async fn sso_sign_in(
        &self,
        identity: &Identity,
        sealed_refresh: &str,
    ) -> Result<User, ApiError> {
        let marker = marker(&identity.issuer, &identity.subject);
        let user = match self.store.user(&identity.username).await? {
            Some(u) => u,
            None => {
                let rights = &identity.rights;
                let user = User {
                    username: identity.username.clone(),
                    display_name: identity.display_name.clone(),
                    password_hash: marker.clone(),
                    admin: rights.admin,
                    active: true,
                    permissions: rights.permissions,
                    zones: rights.zones.clone(),
                    all_zones: rights.all_zones,
                };
                match self.add_user(&Actor::trusted("oidc"), user).await {
                    // Conflict: signed in twice at once, and the other sign-in created it.
                    Ok(()) | Err(ApiError::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
                self.store
                    .user(&identity.username)
                    .await?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the new user vanished")))?
            }
        };
        if user.password_hash != marker {
            return Err(ApiError::Forbidden(format!(
                "A user named `{}` already exists and does not sign in through this provider; ask an administrator",
                user.username
            )));
        }
        if !user.active {
            return Err(ApiError::Forbidden(format!(
                "The user `{}` is disabled; ask an administrator",
                user.username
            )));
        }
        let user = self.bring_in_line(user, identity).await?;
        self.store
            .save_sso_identity(&user.username, sealed_refresh, time::now())
            .await?;
        Ok(user)
    }

    /// Display name, admin flag, permissions and zones as the identity's claims say.
    async fn bring_in_line(&self, user: User, identity: &Identity) -> Result<User, ApiError> {
        let rights = &identity.rights;
        let patch = UserPatch {
            display_name: (user.display_name != identity.display_name)
                .then(|| identity.display_name.clone()),
            admin: (user.admin != rights.admin).then_some(rights.admin),
            permissions: (user.permissions != rights.permissions).then_some(rights.permissions),
            zones: (user.zones != rights.zones).then(|| rights.zones.clone()),
            all_zones: (user.all_zones != rights.all_zones).then_some(rights.all_zones),
            ..UserPatch::default()
        };
        if patch.is_empty() {
            return Ok(user);
        }
        self.update_user(&Actor::trusted("oidc"), &user.username, patch)
            .await
    }
}
