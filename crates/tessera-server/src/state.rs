//! Shared state of the running server.
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;

pub use crate::auth::login_limiter::LoginLimiter;
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
    /// A session ends this long after sign-in, however active.
    pub session_max: Duration,
    pub max_sessions_per_user: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Sign-in attempts per username per minute, over all nodes.
    pub login_attempts_per_user: u32,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
    /// `--gateway-routes`: the check derives a scope from forwarded headers with it.
    pub gateway_routes: Option<Arc<crate::domain::routes::RouteMap>>,
    /// `--password-login`: false leaves only single sign-on.
    pub password_login: bool,
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
    /// Per-token rate limits and usage counts.
    pub meter: Arc<crate::meter::Meter>,
    /// Single sign-on, when configured.
    pub sso: Option<Arc<crate::sso::Sso>>,
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

    /// 503 unless this node knows it has every committed change (`--max-staleness`).
    pub fn require_current(&self) -> Result<(), crate::error::ApiError> {
        if self.follower.is_current() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Unavailable(
                "This node cannot confirm it is up to date with the database; try again shortly"
                    .into(),
            ))
        }
    }

    pub fn session_idle_ms(&self) -> Millis {
        self.settings.session_idle.as_millis() as Millis
    }
}
