//! Browser sessions: starting one after a verified password, ending one, and the audit of
//! failed attempts. The password check itself runs in the HTTP layer, which also rate-limits.
use std::net::IpAddr;

use super::{Actor, Service};
use crate::auth::session;
use crate::domain::time;
use crate::error::ApiError;
use crate::store::{SessionRecord, User};

/// A new session: the cookie value (only its digest is stored) and the stored row.
pub struct NewSession {
    pub cookie: String,
    pub record: SessionRecord,
}

impl Service {
    /// Starts a session for a user whose password was just verified (against `user` as read
    /// then); the user keeps at most `keep_per_user` sessions. The user is read again in the
    /// transaction: a password changed, or the user disabled, while the password was being
    /// checked refuses the session (401) — else it would outlive the change that ended the
    /// user's other sessions.
    pub async fn start_session(
        &self,
        user: &User,
        client: IpAddr,
        keep_per_user: u32,
    ) -> Result<NewSession, ApiError> {
        let cookie = session::random_secret();
        let now = time::now();
        let record = SessionRecord {
            id_digest: session::digest(&cookie),
            username: user.username.clone(),
            csrf_token: session::random_secret(),
            created_at: now,
            last_seen_at: now,
        };
        let actor = Actor::anonymous(&user.username, client);
        let stored = record.clone();
        let verified_hash = user.password_hash.clone();
        // Its feed entry also makes this node apply everything before it — the user's own
        // latest state (say, just added with the CLI) included — before the session is used.
        self.change(move |mut tx| async move {
            let now = tx.user(&stored.username).await?;
            if !now.is_some_and(|u| u.active && u.password_hash == verified_hash) {
                return Err(ApiError::InvalidCredentials);
            }
            tx.create_session(&stored, keep_per_user).await?;
            tx.audit(&actor.event("signin.succeeded", None, None))
                .await?;
            Ok(((), tx.commit().await?))
        })
        .await?;
        Ok(NewSession { cookie, record })
    }

    /// Ends the actor's session on the server.
    pub async fn end_session(&self, actor: &Actor, id_digest: [u8; 32]) -> Result<(), ApiError> {
        let actor = actor.clone();
        self.change(move |mut tx| async move {
            tx.delete_session(&id_digest, &actor.username).await?;
            tx.audit(&actor.event("signout", None, None)).await?;
            Ok(((), tx.commit().await?))
        })
        .await
    }

    /// Audits a failed sign-in. A failure to write it is logged and does not change the
    /// answer the client gets (401).
    pub async fn failed_sign_in(&self, username: &str, client: IpAddr) {
        let actor = Actor::anonymous(username, client);
        let written = self
            .change(move |mut tx| async move {
                tx.audit(&actor.event("signin.failed", None, None)).await?;
                Ok(((), tx.commit().await?))
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "auditing a failed sign-in failed");
        }
    }
}
