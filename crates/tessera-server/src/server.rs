//! Starting and stopping the server.
use std::sync::Arc;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;

use crate::config::ServeArgs;
use crate::domain::scope_set::ScopeSet;
use crate::domain::{password, time};
use crate::error::ApiError;
use crate::feed::Follower;
use crate::http;
use crate::service::{Actor, Service};
use crate::state::{AppState, Inner, LoginLimiter, Settings};
use crate::store::{self, User, UserPatch};

/// On an empty database: an `admin` with the given password or a generated one.
async fn bootstrap_admin(service: &Service, given: Option<String>) -> anyhow::Result<()> {
    if !service.users().await?.is_empty() {
        return Ok(());
    }
    let (pw, generated) = match given {
        Some(pw) => (pw, false),
        None => (password::generate(), true),
    };
    let admin = User {
        username: "admin".into(),
        display_name: "Administrator".into(),
        password_hash: password::hash(&pw)?,
        admin: true,
        active: true,
        permissions: ScopeSet::ALL,
        zones: Vec::new(),
        all_zones: true,
    };
    service.add_user(&Actor::system(), admin).await?;
    if generated {
        println!("Created user `admin` with password: {pw}\n(shown once; change it with `tessera-server user passwd admin`)");
    } else {
        println!("Created user `admin` with the given password");
    }
    Ok(())
}

struct DemoUser {
    username: &'static str,
    display_name: &'static str,
    admin: bool,
    permissions: &'static [&'static str],
    zones: &'static [&'static str],
}

const DEMO_USERS: [DemoUser; 3] = [
    DemoUser {
        username: "admin",
        display_name: "Administrator",
        admin: true,
        permissions: &[],
        zones: &[],
    },
    DemoUser {
        username: "alice",
        display_name: "Alice Analyst",
        admin: false,
        permissions: &[
            "apiTokens.read",
            "entities.read",
            "metrics.read",
            "problems.read",
            "slo.read",
        ],
        zones: &["Production"],
    },
    DemoUser {
        username: "bob",
        display_name: "Bob Newcomer",
        admin: false,
        permissions: &[],
        zones: &[],
    },
];

/// Demo mode: (re)sets the demo users' passwords, prints them, and turns PATs on.
async fn seed_demo(
    service: &Service,
    admin_password: Option<String>,
    shared: Option<String>,
) -> anyhow::Result<()> {
    let shared = shared.filter(|p| !p.is_empty());
    println!("Demo mode: sign in as one of these users");
    for demo in &DEMO_USERS {
        let admin_pw = admin_password.clone().filter(|_| demo.admin);
        let pw = admin_pw
            .or_else(|| shared.clone())
            .unwrap_or_else(password::generate);
        let permissions = ScopeSet::from_stored(demo.permissions.iter().copied());
        let zones: Vec<String> = demo.zones.iter().map(|z| (*z).to_owned()).collect();
        let patch = UserPatch {
            password_hash: Some(password::hash(&pw)?),
            active: Some(true),
            ..UserPatch::default()
        };
        match service
            .update_user(&Actor::system(), demo.username, patch.clone())
            .await
        {
            Err(ApiError::NotFound(_)) => {
                let user = User {
                    username: demo.username.into(),
                    display_name: demo.display_name.into(),
                    password_hash: patch.password_hash.unwrap_or_default(),
                    admin: demo.admin,
                    active: true,
                    permissions: if demo.admin {
                        ScopeSet::ALL
                    } else {
                        permissions
                    },
                    all_zones: demo.admin,
                    zones,
                };
                service.add_user(&Actor::system(), user).await?
            }
            other => {
                other?;
            }
        }
        let what = if demo.admin {
            "administrator".to_owned()
        } else if demo.permissions.is_empty() {
            "no permissions".to_owned()
        } else {
            format!(
                "{} in zone {}",
                demo.permissions.join(", "),
                demo.zones.join(",")
            )
        };
        println!("  {:<6} {:<22} ({what})", demo.username, pw);
    }
    service.set_pat_enabled(&Actor::system(), true).await?;
    Ok(())
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Files are read before the database is touched: a bad one stops the start at once.
    let gateway_routes = args.gateway_routes()?.map(Arc::new);
    let sso = crate::sso::Sso::from_args(&args.sso)?.map(Arc::new);
    let _lock = store::lock_for_serving(&args.db.database_url)?;
    let db = store::open(&args.db.database_url).await?;
    // Start-up writes go through the service before the index exists; the index is then
    // built from a snapshot that includes them.
    let bootstrap = Service::new(db.clone(), None);
    let admin_password = args.admin_password()?;
    // Demo mode creates (or resets) its own admin, so it does not print a second password.
    if args.demo {
        seed_demo(&bootstrap, admin_password, args.demo_password.clone()).await?;
    } else {
        bootstrap_admin(&bootstrap, admin_password).await?;
    }
    let follower = Arc::new(Follower::start(db.clone(), args.max_staleness).await?);
    // Fixed buckets make request durations Prometheus histograms (summaries would keep
    // quantile state per series).
    let metrics = PrometheusBuilder::new()
        .set_buckets(&[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ])
        .expect("the bucket list is not empty")
        .install_recorder()
        .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
        .ok();
    if args.assets.is_none() && !crate::http::embedded::available() {
        tracing::warn!("this build has no console inside (build the console before the server, e.g. `make run`): serving the API only");
    }
    if let Some(assets) = &args.assets {
        if !assets.join("index.html").is_file() {
            anyhow::bail!(
                "{} has no index.html: build the console first (make console)",
                assets.display()
            );
        }
    }
    let state = AppState(Arc::new(Inner {
        service: Service::new(db, Some(follower.clone())),
        follower: follower.clone(),
        settings: Settings {
            secure_cookie: args.secure_cookie,
            session_idle: args.session_idle,
            session_max: args.session_max,
            max_sessions_per_user: args.max_sessions_per_user.max(1),
            trusted_proxies: args.trusted_proxy.clone(),
            body_timeout: args.body_timeout,
            login_attempts_per_user: args.login_attempts_per_user.get(),
            gateway_routes,
            password_login: args.sso.password_login,
        },
        login_limiter: LoginLimiter::new(args.login_attempts_per_address),
        metrics,
        password_checks: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ),
        meter: Default::default(),
        sso,
    }));
    crate::meter::spawn_flusher(state.meter.clone(), state.store().clone());
    if let Some(sso) = &state.sso {
        crate::sso::revalidate::spawn(state.service.clone(), sso.clone());
    }
    if args.user_refresh.is_some() {
        tracing::warn!("--user-refresh is no longer used: CLI changes arrive through the change feed every --feed-poll");
    }
    if args.feed_poll > std::time::Duration::from_secs(1) {
        tracing::warn!(feed_poll = ?args.feed_poll, "--feed-poll above 1 s: changes made with the CLI may take that long to be in force");
    }
    follower.spawn_polling(args.feed_poll.max(std::time::Duration::from_millis(1)));
    follower.spawn_listening();
    spawn_maintenance(state.clone());
    let node = node_name(&args.db.database_url);
    crate::jobs::spawn_scheduler(state.service.clone(), node.clone(), LIFECYCLE_EVERY);
    crate::jobs::spawn_delivery(state.service.clone(), node)?;

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    println!("Tessera listening on http://{addr}");
    let (meter, store) = (state.meter.clone(), state.store().clone());
    let app = http::app(state, args.assets.clone());
    let timeouts = crate::listen::Timeouts {
        header: args.header_timeout,
        shutdown_grace: args.shutdown_grace,
    };
    crate::listen::serve(listener, app, timeouts, shutdown).await;
    // Usage counted since the last batch is written before the process ends.
    if let Err(e) = meter.usage.flush(&*store).await {
        tracing::warn!(error = %e, "writing the last token usage failed");
    }
    tracing::info!("shut down");
    Ok(())
}

/// How often the lifecycle scheduler runs (expiry warnings, unused tokens).
const LIFECYCLE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// This node's name in leases. On SQLite one server runs per file (a lock), so it is
/// always the same: a restarted server takes its own leases back at once.
fn node_name(database_url: &str) -> String {
    if database_url.starts_with("postgres") {
        let tag = &crate::auth::session::random_secret()[..8];
        format!("node-{}-{tag}", std::process::id())
    } else {
        "local".to_owned()
    }
}

/// How long the change feed keeps its rows; a reader further behind rebuilds its index.
const FEED_RETENTION_MS: time::Millis = 24 * 60 * 60 * 1000;

/// Once a minute: removes idle and too old sessions (refused on every request anyway; this
/// frees rows), feed rows past retention and idle sign-in limiter keys. Every 5 s: drains
/// recorded metric samples.
fn spawn_maintenance(state: AppState) {
    if let Some(handle) = state.metrics.clone() {
        // Histogram samples pile up in the recorder until upkeep folds them into buckets;
        // without this, memory grows with every request until /metrics is scraped.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = time::now();
            let store = state.store();
            let started_before = now - state.settings.session_max.as_millis() as time::Millis;
            if let Err(e) = store
                .delete_expired_sessions(now - state.session_idle_ms(), started_before)
                .await
            {
                tracing::warn!(error = %e, "removing idle sessions failed");
            }
            if let Err(e) = store.prune_changes(now - FEED_RETENTION_MS).await {
                tracing::warn!(error = %e, "pruning the change feed failed");
            }
            state.login_limiter.evict_idle();
            if let Err(e) = store.prune_sign_in_limits(now).await {
                tracing::warn!(error = %e, "pruning sign-in budgets failed");
            }
        }
    });
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed when this is called,
/// not when the future is first polled: a SIGTERM right after the "listening" line must
/// not meet the default action, which ends the process without a graceful shutdown.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        // Each handler that could be installed is waited on; one that could not leaves that
        // signal's default action (ending the process), never a signal swallowed.
        let wait = |signal: std::io::Result<tokio::signal::unix::Signal>| async move {
            match signal {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a signal handler could not be installed");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = wait(term) => {},
            () = wait(int) => {},
        }
        tracing::info!("shutting down");
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
