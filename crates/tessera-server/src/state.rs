//! Shared state of the running server.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::AuthIndex;
use crate::domain::time::Millis;
use crate::store::{AuditEvent, Store};

/// Settings the handlers need at run time.
#[derive(Debug, Clone)]
pub struct Settings {
    pub secure_cookie: bool,
    pub session_idle: Duration,
    pub max_sessions_per_user: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
}

/// Sign-in attempts allowed per minute, per username and per client address.
pub struct LoginLimiter {
    by_user: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_user: NonZeroU32, per_address: NonZeroU32) -> LoginLimiter {
        LoginLimiter {
            by_user: RateLimiter::keyed(Quota::per_minute(per_user)),
            by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
        }
    }

    /// Takes one attempt from both buckets; `Err(seconds)` says when to retry.
    pub fn check(&self, username: &str, address: IpAddr) -> Result<(), u64> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            use governor::clock::Clock;
            not_until.wait_time_from(clock.now()).as_secs_f64().ceil() as u64
        };
        self.by_address.check_key(&address).map_err(wait)?;
        self.by_user.check_key(&username.to_owned()).map_err(wait)?;
        Ok(())
    }
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub index: AuthIndex,
    pub settings: Settings,
    pub login_limiter: LoginLimiter,
    pub metrics: Option<PrometheusHandle>,
    /// Serialises token updates and deletes so the index is written in commit order.
    pub token_writes: tokio::sync::Mutex<()>,
    /// Password checks running at once (one per core; see `http::session::sign_in`).
    pub password_checks: tokio::sync::Semaphore,
}

/// Cheap to clone; every handler gets one.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Writes an audit row; a failure is logged, never hidden, and does not undo the action
    /// (which has already been committed).
    pub async fn audit(
        &self,
        actor: &str,
        client: Option<IpAddr>,
        event: &str,
        target: Option<&str>,
        detail: Option<String>,
    ) {
        let row = AuditEvent {
            at: crate::domain::time::now(),
            actor: actor.to_owned(),
            client_addr: client.map(|a| a.to_string()),
            event: event.to_owned(),
            target: target.map(str::to_owned),
            detail,
        };
        tracing::info!(actor, event, target, "audit");
        if let Err(e) = self.store.audit(&row).await {
            tracing::error!(error = %e, event, "writing the audit log failed");
        }
    }

    pub fn session_idle_ms(&self) -> Millis {
        self.settings.session_idle.as_millis() as Millis
    }
}
