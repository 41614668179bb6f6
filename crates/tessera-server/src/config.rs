//! Command line and environment configuration (every flag also reads `TESSERA_<NAME>`).
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tessera-server",
    version = crate::store::schema::describe(),
    about = "Tessera: personal access tokens with a web console"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Write a consistent copy of the database to FILE while the server runs.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Where to write the backup; must not exist yet.
        file: PathBuf,
    },
    /// Replace the database with a backup (stop the server first; the old one is kept).
    Restore {
        #[command(flatten)]
        db: DatabaseArgs,
        /// A file written by `backup`.
        file: PathBuf,
    },
    /// Copy a single-node installation into an empty PostgreSQL database (stop the server
    /// first): users, tokens, settings and the audit log; counts are verified.
    MigrateDb {
        /// The database to copy, e.g. sqlite://data/tessera.db.
        #[arg(long)]
        from: String,
        /// An empty database, e.g. postgres://tessera:…@db/tessera.
        #[arg(long)]
        to: String,
    },
    /// Manage users without the console.
    User {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL; the default is an embedded SQLite file under ./data/.
    #[arg(
        long,
        env = "TESSERA_DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://data/tessera.db",
        global = true
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Serve the console from this directory (Trunk's dist/) instead of the one built into
    /// the binary (for `trunk serve` development, or a patched console).
    #[arg(long, env = "TESSERA_ASSETS")]
    pub assets: Option<PathBuf>,
    /// Mark the session cookie Secure (serve behind TLS).
    #[arg(long, env = "TESSERA_SECURE_COOKIE", default_value_t = false)]
    pub secure_cookie: bool,
    /// A session ends after this long without a request, e.g. 12h or 30m.
    #[arg(long, env = "TESSERA_SESSION_IDLE", default_value = "12h", value_parser = humantime::parse_duration)]
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in however active it is, e.g. 7d.
    #[arg(long, env = "TESSERA_SESSION_MAX", default_value = "7d", value_parser = humantime::parse_duration)]
    pub session_max: std::time::Duration,
    /// Sessions a user may hold at once; signing in again ends the oldest.
    #[arg(long, env = "TESSERA_MAX_SESSIONS_PER_USER", default_value_t = 10)]
    pub max_sessions_per_user: u32,
    /// Sign-in attempts allowed per username per minute, over all nodes together.
    #[arg(long, env = "TESSERA_LOGIN_ATTEMPTS_PER_USER", default_value = "5")]
    pub login_attempts_per_user: NonZeroU32,
    /// Sign-in attempts allowed per client address per minute.
    #[arg(long, env = "TESSERA_LOGIN_ATTEMPTS_PER_ADDRESS", default_value = "20")]
    pub login_attempts_per_address: NonZeroU32,
    /// How often the change feed is read for changes made elsewhere (the CLI); this node's
    /// own changes apply before it answers.
    #[arg(long, env = "TESSERA_FEED_POLL", default_value = "50ms", value_parser = humantime::parse_duration)]
    pub feed_poll: std::time::Duration,
    /// A node that cannot confirm it has every committed change for this long answers
    /// token requests, gateway checks and /readyz with 503 until it has caught up.
    #[arg(long, env = "TESSERA_MAX_STALENESS", default_value = "5s", value_parser = humantime::parse_duration)]
    pub max_staleness: std::time::Duration,
    /// Replaced by --feed-poll (CLI changes now arrive through the change feed); still
    /// accepted so that existing service files start, with a warning.
    #[arg(long, env = "TESSERA_USER_REFRESH", hide = true, value_parser = humantime::parse_duration)]
    pub user_refresh: Option<std::time::Duration>,
    /// Log format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// A client must send a request's headers within this time, or the connection is closed.
    #[arg(long, env = "TESSERA_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: std::time::Duration,

    /// A client must send a request's body within this time, or gets a 408.
    #[arg(long, env = "TESSERA_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: std::time::Duration,

    /// On SIGTERM, how long requests in flight may take before their connections are cut.
    #[arg(long, env = "TESSERA_SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: std::time::Duration,

    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` is
    /// believed: the client is then the rightmost address in it that is not a trusted proxy.
    /// Used for last-used addresses, audit rows and the per-address sign-in limit.
    #[arg(long, env = "TESSERA_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxy: Vec<ipnet::IpNet>,

    /// The gateway route map (TOML): which scope a request forwarded by a proxy needs, from
    /// its method and path. With it, `GET /api/v2/auth/check` without `scope` reads the
    /// original request from a --trusted-proxy's X-Forwarded-Method/-Uri or
    /// X-Original-Method/-URI headers (Caddy, Traefik, Envoy, ingress-nginx).
    #[arg(long, env = "TESSERA_GATEWAY_ROUTES")]
    pub gateway_routes: Option<PathBuf>,

    #[command(flatten)]
    pub sso: crate::sso::args::SsoArgs,

    /// Seed demo users with different permissions (passwords printed) and turn personal
    /// access tokens on.
    #[arg(long, env = "TESSERA_DEMO", default_value_t = false)]
    pub demo: bool,

    /// The first start's `admin` password (otherwise one is generated and printed once).
    #[arg(long, env = "TESSERA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// A file whose first line is the first start's `admin` password (wins over
    /// --admin-password), so the secret need not sit in the environment.
    #[arg(long, env = "TESSERA_ADMIN_PASSWORD_FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// With --demo: one password for every demo user instead of generated ones.
    #[arg(long, env = "TESSERA_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,

    /// Log filter, e.g. `info` or `info,tessera_server=debug`.
    #[arg(long, env = "TESSERA_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; prints a generated password unless --password-stdin is given.
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        admin: bool,
        /// Comma-separated scope values, e.g. metrics.read,slo.read.
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
        /// Comma-separated management zone names.
        #[arg(long, value_delimiter = ',')]
        zones: Vec<String>,
        /// The user sees every management zone.
        #[arg(long)]
        all_zones: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (generated and printed unless --password-stdin).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's permissions, zones or admin flag.
    Update {
        username: String,
        #[arg(long, value_delimiter = ',')]
        permissions: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        zones: Option<Vec<String>>,
        #[arg(long)]
        all_zones: Option<bool>,
        #[arg(long)]
        admin: Option<bool>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Disable a user: they cannot sign in and their tokens stop working.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// List users.
    List,
}

/// An address (`10.0.0.5`) or a range (`10.0.0.0/8`).
fn parse_network(value: &str) -> Result<ipnet::IpNet, String> {
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{value}` is neither an IP address nor a CIDR range"))
}

/// The file of `flag`, read and parsed; either error names the flag and the path (a bad
/// file stops the start).
pub fn parse_file<T, E: std::fmt::Display>(
    flag: &str,
    path: &std::path::Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {flag} {}: {e}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))
}

/// The first line of the file of `flag` (a secret kept out of the environment).
pub fn first_line(flag: &str, path: &std::path::Path) -> anyhow::Result<String> {
    parse_file(flag, path, |text| {
        Ok::<_, std::convert::Infallible>(text.lines().next().unwrap_or_default().to_owned())
    })
}

impl ServeArgs {
    /// The route map of --gateway-routes, read and checked (a bad file stops the start).
    pub fn gateway_routes(&self) -> anyhow::Result<Option<crate::domain::routes::RouteMap>> {
        self.gateway_routes
            .as_deref()
            .map(|path| {
                parse_file(
                    "--gateway-routes",
                    path,
                    crate::domain::routes::RouteMap::parse,
                )
            })
            .transpose()
    }

    /// The admin password from --admin-password-file, else --admin-password; empty is none.
    pub fn admin_password(&self) -> anyhow::Result<Option<String>> {
        let from_file = self
            .admin_password_file
            .as_deref()
            .map(|path| first_line("--admin-password-file", path))
            .transpose()?;
        Ok(from_file
            .or_else(|| self.admin_password.clone())
            .filter(|p| !p.is_empty()))
    }
}
