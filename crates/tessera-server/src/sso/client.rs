//! The relying party: discovery (cached; fetched again when an ID token names a key the
//! cached set lacks, at most every 30 s), the authorization URL with PKCE, state and nonce,
//! and the code exchange with every check on the ID token (signature by an allowed
//! algorithm — never `none` —, issuer, audience, expiry, nonce).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    reqwest, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// Every claim beyond the standard ones (the groups claim among them).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraClaims(pub HashMap<String, serde_json::Value>);
impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
pub type TokenResp = StandardTokenResponse<IdFields, CoreTokenType>;
pub type Claims = IdTokenClaims<ExtraClaims, CoreGenderClaim>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResp,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The signature algorithms an ID token may use.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];
const REDISCOVER_AT_MOST_EVERY: Duration = Duration::from_secs(30);
const FAILED_DISCOVERY_WAIT: Duration = Duration::from_secs(5);

/// Why sign-in through the provider failed, in words for the error page.
#[derive(Debug)]
pub enum RpError {
    /// The provider could not be reached or answered nonsense (502).
    Provider(String),
    /// What came back does not hold (400).
    Refused(String),
}

struct Discovered {
    client: OidcClient,
    end_session: Option<String>,
    at: Instant,
    /// Fetched again because an ID token named an unknown key: the next such fetch waits
    /// `REDISCOVER_AT_MOST_EVERY`, so forged `kid`s cannot make Tessera hammer the provider.
    forced: bool,
}

pub struct RelyingParty {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect: RedirectUrl,
    http: reqwest::Client,
    discovered: tokio::sync::RwLock<Option<Arc<Discovered>>>,
    /// When discovery last failed: for a few seconds requests fail at once rather than
    /// each waiting its turn on a provider that does not answer.
    failed_at: std::sync::Mutex<Option<Instant>>,
}

/// What the browser carries between the start and the callback (sealed in a cookie).
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

/// A verified sign-in.
pub struct SignedIn {
    pub claims: Claims,
    pub refresh_token: Option<String>,
}

impl RelyingParty {
    pub fn new(
        issuer: String,
        client_id: String,
        client_secret: String,
        redirect: String,
    ) -> anyhow::Result<RelyingParty> {
        let http = reqwest::ClientBuilder::new()
            // The provider's endpoints are called as they are; a redirect could lead
            // the back channel anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(RelyingParty {
            issuer,
            client_id,
            client_secret,
            redirect: RedirectUrl::new(redirect)?,
            http,
            discovered: tokio::sync::RwLock::new(None),
            failed_at: std::sync::Mutex::new(None),
        })
    }

    /// The provider's metadata and keys, discovered once; again when `stale_keys` (an ID
    /// token named a key the cached set lacks) unless that was the reason very recently.
    async fn discovered(&self, stale_keys: bool) -> Result<Arc<Discovered>, RpError> {
        let keep =
            |d: &Discovered| !stale_keys || (d.forced && d.at.elapsed() < REDISCOVER_AT_MOST_EVERY);
        if let Some(d) = self.discovered.read().await.as_ref() {
            if keep(d) {
                return Ok(d.clone());
            }
        }
        let mut slot = self.discovered.write().await;
        if let Some(d) = slot.as_ref() {
            if keep(d) {
                return Ok(d.clone());
            }
        }
        let recently_failed = self
            .failed_at
            .lock()
            .map(|f| f.is_some_and(|at| at.elapsed() < FAILED_DISCOVERY_WAIT))
            .unwrap_or(false);
        if recently_failed {
            return Err(RpError::Provider(
                "the provider did not answer a moment ago; try again shortly".into(),
            ));
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| RpError::Provider(format!("the issuer URL is invalid: {e}")))?;
        let metadata = match ProviderMetadataWithLogout::discover_async(issuer, &self.http).await {
            Ok(m) => m,
            Err(e) => {
                if let Ok(mut f) = self.failed_at.lock() {
                    *f = Some(Instant::now());
                }
                return Err(RpError::Provider(format!(
                    "discovery at the provider failed: {e}"
                )));
            }
        };
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.url().to_string());
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone());
        let d = Arc::new(Discovered {
            client,
            end_session,
            at: Instant::now(),
            forced: stale_keys,
        });
        *slot = Some(d.clone());
        Ok(d)
    }

    /// Where to send the browser, and what it must bring back.
    pub async fn begin(&self, next: String) -> Result<(String, Pending), RpError> {
        let d = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = d
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("offline_access".into()))
            // Providers issue a refresh token for offline_access only with consent.
            .add_prompt(CoreAuthPrompt::Consent)
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next,
        };
        Ok((url.to_string(), pending))
    }

    /// Exchanges the code and checks the ID token against what the browser brought back.
    pub async fn finish(&self, pending: Pending, code: String) -> Result<SignedIn, RpError> {
        let d = self.discovered(false).await?;
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| RpError::Provider(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                RpError::Refused(format!("the provider refused the authorization code: {e}"))
            })?;
        let nonce = Nonce::new(pending.nonce);
        let claims = self
            .id_claims(&d.client, &response, Some(&nonce))
            .await?
            .map_err(|e| RpError::Refused(format!("the ID token does not hold: {e}")))?;
        Ok(SignedIn {
            claims,
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        })
    }

    /// Re-validates with a refresh token: the provider's fresh claims and the rotated
    /// refresh token, `Refused` when the provider refuses (the user is gone or blocked),
    /// `Provider` when it cannot be asked (try again later).
    pub async fn refresh(&self, token: String) -> Result<SignedIn, RpError> {
        let d = self.discovered(false).await?;
        let response = d
            .client
            .exchange_refresh_token(&RefreshToken::new(token))
            .map_err(|e| RpError::Provider(format!("the provider has no token endpoint: {e}")))?
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                // Only these say the grant itself is gone (the person removed, blocked or
                // signed out everywhere); any other answer (a bad client secret, a server
                // error, throttling) is the provider's trouble, asked again later.
                RequestTokenError::ServerResponse(r)
                    if matches!(
                        r.error(),
                        CoreErrorResponseType::InvalidGrant
                            | CoreErrorResponseType::UnauthorizedClient
                    ) =>
                {
                    RpError::Refused(format!(
                        "the provider refused the refresh token: {}",
                        r.error()
                    ))
                }
                other => RpError::Provider(format!("the provider could not be asked: {other}")),
            })?;
        // The token came straight from the provider over the back channel: a check that
        // fails (clock skew, an unexpected algorithm) is not the person being refused.
        let claims = self
            .id_claims(&d.client, &response, None)
            .await?
            .map_err(|e| RpError::Provider(format!("the refreshed ID token does not hold: {e}")))?;
        Ok(SignedIn {
            claims,
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        })
    }

    /// `verify`, with the provider's keys fetched again once when none matches (it may
    /// have rotated them since they were fetched); the outer error is that fetch's.
    async fn id_claims(
        &self,
        client: &OidcClient,
        response: &TokenResp,
        nonce: Option<&Nonce>,
    ) -> Result<Result<Claims, ClaimsVerificationError>, RpError> {
        Ok(match verify(client, response, nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => verify(&self.discovered(true).await?.client, response, nonce),
            other => other,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The provider's end-session endpoint, if it publishes one.
    pub async fn end_session(&self) -> Option<String> {
        self.discovered(false).await.ok()?.end_session.clone()
    }
}

/// The answer's ID token claims: signature, issuer, audience, expiry, the allowed
/// algorithms and, at sign-in, `nonce` (a refreshed ID token carries the first sign-in's
/// nonce, which is not kept, so `None` checks none).
fn verify(
    client: &OidcClient,
    response: &TokenResp,
    nonce: Option<&Nonce>,
) -> Result<Claims, ClaimsVerificationError> {
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(ALLOWED_ALGS.to_vec());
    let token = response
        .id_token()
        .ok_or_else(|| ClaimsVerificationError::Other("no ID token in the answer".into()))?;
    match nonce {
        Some(nonce) => token.claims(&verifier, nonce),
        None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .cloned()
}
