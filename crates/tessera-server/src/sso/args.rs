//! Single sign-on settings (SPEC §13): flags, each also read from `TESSERA_<NAME>`.
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct SsoArgs {
    /// The OpenID provider's issuer URL; with it, the sign-in page offers "Sign in with
    /// <--oidc-name>" (authorization code flow with PKCE).
    #[arg(long, env = "TESSERA_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider.
    #[arg(long, env = "TESSERA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret registered at the provider.
    #[arg(long, env = "TESSERA_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// A file whose first line is the client secret (wins over --oidc-client-secret).
    #[arg(long, env = "TESSERA_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// The provider's name on the sign-in button.
    #[arg(long, env = "TESSERA_OIDC_NAME", default_value = "single sign-on")]
    pub oidc_name: String,
    /// Tessera's own external base URL, e.g. https://tessera.example.com; the redirect URI
    /// to register at the provider is <public-url>/api/session/oidc/callback.
    #[arg(long, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The ID token claim that names the user.
    #[arg(
        long,
        env = "TESSERA_OIDC_USERNAME_CLAIM",
        default_value = "preferred_username"
    )]
    pub oidc_username_claim: String,
    /// The claims mapping (TOML): which group claim values make an admin, grant which
    /// permissions and which management zones. Without it SSO users hold no rights.
    #[arg(long, env = "TESSERA_OIDC_CLAIMS_MAPPING")]
    pub oidc_claims_mapping: Option<PathBuf>,
    /// Whether users may sign in with a password (false leaves only single sign-on).
    #[arg(long, env = "TESSERA_PASSWORD_LOGIN", default_value_t = true, action = clap::ArgAction::Set)]
    pub password_login: bool,
    /// Each SSO user is re-validated with the provider at least this often.
    #[arg(long, env = "TESSERA_OIDC_REVALIDATE", default_value = "1h", value_parser = humantime::parse_duration)]
    pub oidc_revalidate: std::time::Duration,
    /// A file holding the 32-byte key (base64) that encrypts stored refresh tokens and the
    /// short-lived sign-in cookie; required with --oidc-issuer. Make one with
    /// `head -c 32 /dev/urandom | base64`.
    #[arg(long, env = "TESSERA_OIDC_KEY_FILE")]
    pub oidc_key_file: Option<PathBuf>,
}
