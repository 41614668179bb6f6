//! The one write path. Every change — tokens, users, sessions, settings — is a function here
//! that checks policy, makes the change and its audit row in one transaction (which also
//! appends it to the change feed), and, on a server, applies the feed before returning
//! (read-your-writes). HTTP handlers and the CLI call these and do nothing else of substance.
//!
//! A change runs in a task of its own: when an HTTP client hangs up, axum drops the
//! handler's future, but the change still commits and reaches the index, or rolls back,
//! as a whole.
//!
//! Errors are the API's (`ApiError`): they carry the field-level violations the envelope
//! shows; the CLI prints their messages.
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::UserEntry;
use crate::domain::scope_set::ScopeSet;
use crate::domain::time;
use crate::error::ApiError;
use crate::feed::Follower;
use crate::store::{AuditEvent, Store, StoreTx};

/// The store, and on a server the follower that keeps its index in step.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    follower: Option<Arc<Follower>>,
}

/// The token a request authenticated with.
#[derive(Debug, Clone)]
pub struct ActingToken {
    pub id: String,
    pub personal: bool,
}

/// Who makes a change, with the rights policy decisions need.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user acting (a token's owner), or `cli` / `system`.
    pub username: String,
    pub client: Option<IpAddr>,
    pub admin: bool,
    /// What the user may grant: every scope for admins.
    pub permissions: ScopeSet,
    pub token: Option<ActingToken>,
}

impl Actor {
    /// A signed-in user, or a token's owner when `token` is set.
    pub fn user(user: &UserEntry, client: IpAddr, token: Option<ActingToken>) -> Actor {
        Actor {
            username: user.username.clone(),
            client: Some(client),
            admin: user.admin,
            permissions: user.effective_permissions(),
            token,
        }
    }

    /// Someone not (yet) signed in, named only for the audit log; holds no rights.
    pub fn anonymous(username: &str, client: IpAddr) -> Actor {
        Actor {
            username: username.to_owned(),
            client: Some(client),
            admin: false,
            permissions: ScopeSet::default(),
            token: None,
        }
    }

    /// The command line: whoever can run it owns the database.
    pub fn cli() -> Actor {
        Actor::trusted("cli")
    }

    /// The server itself (first start, demo mode).
    pub fn system() -> Actor {
        Actor::trusted("system")
    }

    fn trusted(name: &str) -> Actor {
        Actor {
            username: name.to_owned(),
            client: None,
            admin: true,
            permissions: ScopeSet::ALL,
            token: None,
        }
    }

    pub fn token_id(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.id.as_str())
    }

    /// Admins, and environment-wide (non-personal) tokens, see every user's tokens.
    pub fn sees_all_tokens(&self) -> bool {
        match &self.token {
            None => self.admin,
            Some(t) => !t.personal || self.admin,
        }
    }

    /// An audit row of this actor.
    pub fn event(&self, event: &str, target: Option<&str>, detail: Option<String>) -> AuditEvent {
        tracing::info!(actor = %self.username, event, target, "audit");
        AuditEvent {
            at: time::now(),
            actor: self.username.clone(),
            client_addr: self.client.map(|a| a.to_string()),
            event: event.to_owned(),
            target: target.map(str::to_owned),
            detail,
        }
    }
}

impl Service {
    pub fn new(store: Arc<dyn Store>, follower: Option<Arc<Follower>>) -> Service {
        Service { store, follower }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs `change` in its own task to the end, then applies the feed up to its commit.
    /// `change` returns its result and what its transaction's `commit` returned.
    async fn change<T, F, Fut>(&self, change: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn StoreTx>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(T, Option<i64>), ApiError>> + Send + 'static,
    {
        let service = self.clone();
        let task = tokio::spawn(async move {
            let tx = service.store.begin().await?;
            let (value, last_change) = change(tx).await?;
            if let (Some(seq), Some(follower)) = (last_change, &service.follower) {
                follower.catch_up_to(seq).await?;
            }
            Ok(value)
        });
        task.await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("a change failed: {e}")))?
    }
}
