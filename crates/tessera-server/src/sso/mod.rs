//! Single sign-on with OpenID Connect (SPEC §13, issue 16): settings, the relying party,
//! the claims mapping and the sealing of what is kept between requests.
pub mod args;
pub mod client;
pub mod mapping;
pub mod revalidate;
pub mod seal;

use std::time::Duration;

use crate::config::{first_line, parse_file};
use client::{RelyingParty, RpError, SignedIn};
use mapping::{ClaimsMapping, Rights};
use seal::SealKey;

/// Single sign-on as configured.
pub struct Sso {
    /// The provider's name on the button.
    pub name: String,
    pub issuer: String,
    username_claim: String,
    mapping: ClaimsMapping,
    pub revalidate: Duration,
    pub key: SealKey,
    pub rp: RelyingParty,
    /// Tessera is reached over https: the sign-in cookie is Secure and `__Host-`.
    pub secure: bool,
    /// Where the provider sends the browser after ending its session: the sign-in page
    /// (register it at the provider as a post-logout redirect URI).
    pub sign_in_page: String,
}

/// Who signed in, as the provider vouches for them, and what the mapping gives them.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub rights: Rights,
    pub refresh_token: Option<String>,
}

impl Sso {
    /// Single sign-on from its flags: None without --oidc-issuer; an error naming what is
    /// missing or wrong otherwise (the start stops).
    pub fn from_args(args: &args::SsoArgs) -> anyhow::Result<Option<Sso>> {
        let Some(issuer) = args.oidc_issuer.clone() else {
            anyhow::ensure!(
                args.password_login,
                "--password-login false needs --oidc-issuer: nobody could sign in"
            );
            return Ok(None);
        };
        let need = |v: &Option<String>, flag: &str| {
            v.clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs {flag}"))
        };
        let client_id = need(&args.oidc_client_id, "--oidc-client-id")?;
        let secret = match &args.oidc_client_secret_file {
            Some(path) => first_line("--oidc-client-secret-file", path)?
                .trim()
                .to_owned(),
            None => need(
                &args.oidc_client_secret,
                "--oidc-client-secret (or its file)",
            )?,
        };
        let public = need(
            &args.public_url,
            "--public-url (Tessera's external base URL)",
        )?;
        let public = url::Url::parse(&public)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none())
            .ok_or_else(|| {
                anyhow::anyhow!("--public-url must be an http(s) URL without a query")
            })?;
        let redirect = format!(
            "{}/api/session/oidc/callback",
            public.as_str().trim_end_matches('/')
        );
        let key_file = args
            .oidc_key_file
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs --oidc-key-file"))?;
        let key = parse_file("--oidc-key-file", key_file, |text| {
            SealKey::parse(text.lines().next().unwrap_or_default())
        })?;
        let mapping = match &args.oidc_claims_mapping {
            Some(path) => parse_file("--oidc-claims-mapping", path, ClaimsMapping::parse)?,
            None => ClaimsMapping::default(),
        };
        anyhow::ensure!(
            args.oidc_revalidate >= Duration::from_secs(60),
            "--oidc-revalidate must be at least 1m"
        );
        Ok(Some(Sso {
            secure: public.scheme() == "https",
            sign_in_page: format!("{}/login", public.as_str().trim_end_matches('/')),
            name: args.oidc_name.clone(),
            rp: RelyingParty::new(issuer.clone(), client_id, secret, redirect)?,
            issuer,
            username_claim: args.oidc_username_claim.clone(),
            mapping,
            revalidate: args.oidc_revalidate,
            key,
        }))
    }

    /// The user a verified sign-in names, with the rights their groups give.
    pub fn identity(&self, signed: SignedIn) -> Result<Identity, RpError> {
        let c = &signed.claims;
        let extra = &c.additional_claims().0;
        let username = match self.username_claim.as_str() {
            "preferred_username" => c.preferred_username().map(|u| u.as_str().to_owned()),
            // An address the provider has not verified names nobody in particular.
            "email" if c.email_verified() != Some(true) => {
                return Err(RpError::Refused(
                    "the provider has not verified this email address".into(),
                ))
            }
            "email" => c.email().map(|e| e.as_str().to_owned()),
            "sub" => Some(c.subject().as_str().to_owned()),
            other => extra.get(other).and_then(|v| v.as_str()).map(str::to_owned),
        }
        .ok_or_else(|| {
            RpError::Refused(format!(
                "the ID token has no `{}` claim",
                self.username_claim
            ))
        })?;
        crate::domain::names::Username::parse(&username).map_err(|e| {
            RpError::Refused(format!("`{username}` cannot be a Tessera username: {e}"))
        })?;
        // A name Tessera would refuse (too long, invisible characters) must not stop the
        // rights from being applied: the username stands in.
        let display_name = c
            .name()
            .and_then(|n| n.get(None))
            .and_then(|n| crate::domain::names::DisplayName::parse(n.as_str()).ok())
            .map(crate::domain::names::DisplayName::into_string)
            .unwrap_or_else(|| username.clone());
        let groups = mapping::groups_of(extra.get(&self.mapping.groups_claim));
        Ok(Identity {
            issuer: self.issuer.clone(),
            subject: c.subject().as_str().to_owned(),
            username,
            display_name,
            rights: self.mapping.rights(&groups),
            refresh_token: signed.refresh_token,
        })
    }
}
