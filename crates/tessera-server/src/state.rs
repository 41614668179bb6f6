//! Shared state of the running server.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::AuthIndex;
use crate::domain::time::Millis;
use crate::feed::Follower;
use crate::service::Service;
use crate::store::Store;

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
    /// Every change goes through here.
    pub service: Service,
    /// Keeps `index()` in step with the database's change feed.
    pub follower: Arc<Follower>,
    pub settings: Settings,
    pub login_limiter: LoginLimiter,
    pub metrics: Option<PrometheusHandle>,
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
    /// The authorization index (read-only; the follower writes it).
    pub fn index(&self) -> &AuthIndex {
        self.follower.index()
    }

    /// For reads; changes go through `service`.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.service.store()
    }

    pub fn session_idle_ms(&self) -> Millis {
        self.settings.session_idle.as_millis() as Millis
    }
}
