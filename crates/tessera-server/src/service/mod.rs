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
mod generate_batch;
pub mod lifecycle;
pub mod listing;
pub mod rotation;
pub mod scheduler;
pub mod sessions;
pub mod settings;
pub mod sso;
mod token_rules;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;

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
    /// Token generation's group commit, started on first use (it needs a runtime).
    generator: Arc<OnceLock<mpsc::Sender<generate_batch::Job>>>,
    /// Wakes this process's webhook delivery after a change that may have queued events.
    webhooks: Arc<tokio::sync::Notify>,
}

/// The token a request authenticated with.
#[derive(Debug, Clone)]
pub struct ActingToken {
    pub id: String,
    pub personal: bool,
    /// Its rate limit: tokens it generates get at most this one.
    pub rate_limit: Option<u32>,
}

/// Where an actor's rights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A user (signed in, or a token's owner): rights are re-read in each change.
    User,
    /// The command line or the server itself: whoever runs it owns the database.
    Trusted,
}

/// Who makes a change, with the rights policy decisions need.
#[derive(Debug, Clone)]
pub struct Actor {
    pub origin: Origin,
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
            origin: Origin::User,
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
            origin: Origin::User,
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

    pub(crate) fn trusted(name: &str) -> Actor {
        Actor {
            origin: Origin::Trusted,
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

    /// Only admins create, widen or re-enable environment (non-personal) tokens, and never
    /// through a PAT: switching PATs off must not be sidestepped by one that mints them.
    pub fn may_empower_environment_tokens(&self) -> bool {
        self.admin && self.token.as_ref().is_none_or(|t| !t.personal)
    }

    /// The actor with the rights the database holds now, read in the change's transaction:
    /// a user demoted or disabled a moment ago (say, by the CLI, not yet in this node's
    /// index) acts with what is left. 401 when the user, or the token acting, is gone.
    async fn confirmed(&self, tx: &mut dyn StoreTx) -> Result<Actor, ApiError> {
        if self.origin == Origin::Trusted {
            return Ok(self.clone());
        }
        let user = tx
            .user(&self.username)
            .await?
            .filter(|u| u.active)
            .ok_or(ApiError::Unauthorized)?;
        if let Some(acting) = &self.token {
            let now = time::now();
            tx.peek_token(&acting.id)
                .await?
                .filter(|t| t.enabled && t.expires_at.is_none_or(|at| at > now))
                .ok_or(ApiError::Unauthorized)?;
        }
        Ok(Actor {
            admin: user.admin,
            permissions: if user.admin {
                ScopeSet::ALL
            } else {
                user.permissions.without_admin_only()
            },
            ..self.clone()
        })
    }

    /// An audit row of this actor (logged by the store once its transaction commits).
    pub fn event(&self, event: &str, target: Option<&str>, detail: Option<String>) -> AuditEvent {
        AuditEvent {
            at: time::now(),
            actor: self.username.clone(),
            client_addr: self.client.map(|a| a.to_string()),
            event: event.to_owned(),
            target: target.map(str::to_owned),
            detail,
            patch: None,
        }
    }
}

impl Service {
    pub fn new(store: Arc<dyn Store>, follower: Option<Arc<Follower>>) -> Service {
        Service {
            store,
            follower,
            generator: Arc::default(),
            webhooks: Arc::default(),
        }
    }

    fn wake_webhooks(&self) {
        self.webhooks.notify_one();
    }

    /// Resolves after the next `wake_webhooks` (or at once if one came meanwhile).
    pub async fn webhooks_woken(&self) {
        self.webhooks.notified().await;
    }

    fn generator(&self) -> &mpsc::Sender<generate_batch::Job> {
        self.generator
            .get_or_init(|| generate_batch::start(self.store.clone(), self.follower.clone()))
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
                apply_own_change(follower, seq).await?;
            }
            Ok(value)
        });
        task.await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("a change failed: {e}")))?
    }

    /// `change` for changes that may put webhook events in the outbox: this node's delivery
    /// is woken when it is done. (Other changes do not wake it: on SQLite its look at the
    /// outbox is a write, which would queue behind every change for nothing.)
    async fn change_with_events<T, F, Fut>(&self, change: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Box<dyn StoreTx>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(T, Option<i64>), ApiError>> + Send + 'static,
    {
        let done = self.change(change).await;
        self.wake_webhooks();
        done
    }
}

/// Read-your-writes: the index has this change before the caller hears of it. A read that
/// fails right after the commit is retried; if the database stays unreadable the caller is
/// told the change is saved but not yet in force here (503), never that it is.
async fn apply_own_change(follower: &Follower, seq: i64) -> Result<(), ApiError> {
    let mut wait = std::time::Duration::from_millis(10);
    for attempt in 1..=5 {
        match follower.catch_up_to(seq).await {
            Ok(()) => return Ok(()),
            Err(e) => tracing::warn!(error = %e, attempt, "applying a committed change failed"),
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    Err(ApiError::Unavailable(
        "The change was saved but is not yet in force on this node; it will be shortly".into(),
    ))
}
