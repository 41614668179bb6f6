//! Re-validation (SPEC §13): personal access tokens act while their owner is away, so each
//! SSO user is checked with the provider at least every `--oidc-revalidate` with their
//! refresh token. Fresh claims re-apply the mapping (a removed group takes its permission,
//! and so the PAT scopes that rest on it, §4 rule 7); a refusal disables the user and so
//! every token of theirs. One node checks each user (a lease in the database); a provider
//! that cannot be reached, or answers anything but a refusal of the grant, is asked again
//! when the lease ends (5 minutes), and nobody is disabled for that.
use std::sync::Arc;
use std::time::Duration;

use super::client::RpError;
use super::Sso;
use crate::domain::time;
use crate::service::{Actor, Service};
use crate::store::UserPatch;

/// How long a node has to finish one check before another may take it.
const LEASE_MS: i64 = 300_000;
const EVERY: Duration = Duration::from_secs(30);

/// The purpose a user's refresh token is sealed for: it opens for that user only.
pub fn purpose(username: &str) -> String {
    format!("tessera-oidc-refresh:{username}")
}

pub fn spawn(service: Service, sso: Arc<Sso>) {
    tokio::spawn(async move {
        let mut moves = time::clock_moves();
        loop {
            loop {
                let now = time::now();
                let due_before = now - sso.revalidate.as_millis() as i64;
                let lease = now + LEASE_MS;
                match service
                    .store()
                    .claim_sso_check(due_before, now, lease)
                    .await
                {
                    Ok(Some((username, sealed))) => {
                        check(&service, &sso, &username, &sealed, lease).await
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming an SSO re-validation failed");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = moves.changed() => {}
            }
        }
    });
}

async fn check(service: &Service, sso: &Sso, username: &str, sealed: &str, lease: i64) {
    let store = service.store();
    let Some(token) = sso.key.open(&purpose(username), sealed) else {
        // Sealed with another key (the operator replaced it): the user cannot be checked
        // any more, so their tokens must not act unchecked.
        return disable(
            service,
            username,
            "the stored refresh token cannot be read with the current --oidc-key-file",
            lease,
        )
        .await;
    };
    let token = String::from_utf8_lossy(&token).into_owned();
    let signed = match sso.rp.refresh(token).await {
        Ok(signed) => signed,
        Err(RpError::Refused(why)) => return disable(service, username, &why, lease).await,
        // The lease runs out and the check is made again then.
        Err(RpError::Provider(why)) => {
            tracing::warn!(username, reason = %why, "SSO re-validation postponed: the provider cannot be asked");
            return;
        }
    };
    // The old refresh token is spent: keep the new one before anything else can fail.
    if let Some(new) = &signed.refresh_token {
        let sealed = sso.key.seal(&purpose(username), new.as_bytes());
        match store.rotate_sso_refresh(username, &sealed, lease).await {
            Ok(true) => {}
            Ok(false) => {
                return tracing::warn!(
                    username,
                    "SSO re-validation outlived its lease; another node checks this user"
                )
            }
            Err(e) => {
                return tracing::warn!(error = %e, username, "storing a rotated refresh token failed")
            }
        }
    }
    let identity = match sso.identity(signed) {
        Ok(i) if i.username == username => i,
        Ok(i) => {
            let why = format!("the provider now names this user `{}`", i.username);
            return disable(service, username, &why, lease).await;
        }
        Err(e) => {
            return tracing::warn!(username, error = ?e, "SSO re-validation postponed: the refreshed claims cannot be used");
        }
    };
    // Not recorded as checked unless applied: the check is made again when the lease ends.
    if let Err(e) = service.sso_apply(&identity).await {
        return tracing::warn!(error = %e, username, "applying re-validated claims failed; retrying");
    }
    if let Err(e) = store.finish_sso_check(username, lease, time::now()).await {
        tracing::warn!(error = %e, username, "recording an SSO re-validation failed");
    }
}

/// The provider refused the user: they are disabled, and so are all their tokens. The
/// identity stays, so a user enabled again by an administrator is still checked.
async fn disable(service: &Service, username: &str, why: &str, lease: i64) {
    tracing::warn!(username, reason = %why, "the identity provider refused a user: disabling them");
    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    match service
        .update_user(&Actor::trusted("oidc"), username, patch)
        .await
    {
        Ok(_) => {
            if let Err(e) = service
                .store()
                .finish_sso_check(username, lease, time::now())
                .await
            {
                tracing::warn!(error = %e, username, "recording an SSO re-validation failed");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, username, "disabling a refused SSO user failed; retrying")
        }
    }
}
