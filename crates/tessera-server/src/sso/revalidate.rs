//! Re-validation (SPEC §13): personal access tokens act while their owner is away, so each
//! SSO user is checked with the provider at least every `--oidc-revalidate` with their
//! refresh token. Fresh claims re-apply the mapping (a removed group takes its permission,
//! and so the PAT scopes that rest on it, §4 rule 7); a refusal disables the user and so
//! every token of theirs. One node checks each user (a lease in the database); a provider
//! that cannot be reached is asked again a minute later, and nobody is disabled for that.
use std::sync::Arc;
use std::time::Duration;

use super::client::RpError;
use super::Sso;
use crate::domain::time;
use crate::service::Service;
use crate::store::UserPatch;

/// How long a node has to finish one check before another may take it.
const LEASE_MS: i64 = 60_000;
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
                match service
                    .store()
                    .claim_sso_check(due_before, now, now + LEASE_MS)
                    .await
                {
                    Ok(Some((username, sealed))) => check(&service, &sso, &username, &sealed).await,
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

async fn check(service: &Service, sso: &Sso, username: &str, sealed: &str) {
    let outcome = match sso.key.open(&purpose(username), sealed) {
        // Sealed with another key (the operator replaced it): nothing to ask with.
        None => Err(RpError::Refused(
            "the stored refresh token cannot be read with the current --oidc-key-file".into(),
        )),
        Some(token) => {
            let token = String::from_utf8_lossy(&token).into_owned();
            match sso.rp.refresh(token).await {
                Ok(signed) => sso.identity(signed).and_then(|identity| {
                    if identity.username == username {
                        Ok(identity)
                    } else {
                        Err(RpError::Refused(format!(
                            "the provider now names this user `{}`",
                            identity.username
                        )))
                    }
                }),
                Err(e) => Err(e),
            }
        }
    };
    let now = time::now();
    match outcome {
        Ok(identity) => {
            if let Err(e) = service.sso_apply(&identity).await {
                tracing::warn!(error = %e, username, "applying re-validated claims failed");
            }
            let resealed = identity
                .refresh_token
                .as_ref()
                .map(|t| sso.key.seal(&purpose(username), t.as_bytes()));
            if let Err(e) = service
                .store()
                .finish_sso_check(username, resealed.as_deref(), now)
                .await
            {
                tracing::warn!(error = %e, username, "recording an SSO re-validation failed");
            }
        }
        Err(RpError::Refused(why)) => {
            tracing::warn!(username, reason = %why, "the identity provider refused a user: disabling them");
            let patch = UserPatch {
                active: Some(false),
                ..UserPatch::default()
            };
            match service
                .update_user(&crate::service::Actor::trusted("oidc"), username, patch)
                .await
            {
                Ok(_) => {
                    if let Err(e) = service.store().forget_sso_identity(username).await {
                        tracing::warn!(error = %e, username, "forgetting an SSO identity failed");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, username, "disabling a refused SSO user failed")
                }
            }
        }
        // The lease runs out and the check is made again a minute later.
        Err(RpError::Provider(why)) => {
            tracing::warn!(username, reason = %why, "SSO re-validation postponed: the provider cannot be asked");
        }
    }
}
