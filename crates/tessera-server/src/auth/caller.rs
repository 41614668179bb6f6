//! The authenticated caller of an `/api` request, by session cookie or by token.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts, Method};
use subtle::ConstantTimeEq;
use tessera_api::Scope;

use super::index::{Denied, TokenPrincipal, UserEntry};
use super::session;
use crate::domain::time;
use crate::error::ApiError;
use crate::meter::Outcome;
use crate::service::{ActingToken, Actor};
use crate::state::AppState;
use crate::store::SessionRecord;

/// The client's address: the peer, or behind a trusted proxy the address it forwarded.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientAddr(client_address(
            peer,
            forwarded,
            &state.settings.trusted_proxies,
        )))
    }
}

/// Walks `X-Forwarded-For` from the right while the hop is trusted; the first untrusted
/// address is the client. Entries left of it were written by the client and are ignored,
/// so a client cannot choose its own address.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed hop ends the trusted chain; the last good address stands.
            Err(_) => break,
        }
    }
    client
}

#[derive(Debug, Clone)]
pub enum Caller {
    Session {
        user: Arc<UserEntry>,
        session: SessionRecord,
        client: IpAddr,
    },
    Token {
        principal: TokenPrincipal,
        client: IpAddr,
    },
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        match denied {
            Denied::Unauthorized => ApiError::Unauthorized,
            Denied::PatDisabled => ApiError::Forbidden(
                "Personal access tokens are disabled by an administrator".into(),
            ),
            Denied::MissingScope(s) => ApiError::Forbidden(format!(
                "Token is missing required scope. Use one of: {} ({})",
                s.as_str(),
                s.display_name()
            )),
            Denied::OwnerLacksPermission(s) => ApiError::Forbidden(format!(
                "The token's owner no longer holds the permission {} ({})",
                s.as_str(),
                s.display_name()
            )),
        }
    }
}

impl Caller {
    /// The user acting: the session's user or the token's owner.
    pub fn user(&self) -> &Arc<UserEntry> {
        match self {
            Caller::Session { user, .. } => user,
            Caller::Token { principal, .. } => &principal.owner,
        }
    }

    pub fn username(&self) -> &str {
        &self.user().username
    }

    pub fn client(&self) -> IpAddr {
        match self {
            Caller::Session { client, .. } | Caller::Token { client, .. } => *client,
        }
    }

    /// The token the caller authenticated with, if any.
    pub fn token_id(&self) -> Option<&str> {
        match self {
            Caller::Token { principal, .. } => Some(&principal.token_id),
            Caller::Session { .. } => None,
        }
    }

    /// Rules 6–7 for token callers; session users act by their own rights, which each
    /// handler checks. A successful token use is recorded (throttled).
    pub fn require(&self, state: &AppState, scope: Scope) -> Result<(), ApiError> {
        if let Caller::Token { principal, client } = self {
            let meter = &state.meter;
            if let Err(denied) = principal.require(scope) {
                meter.record(&principal.token_id, Some(scope), Outcome::Refused);
                return Err(denied.into());
            }
            meter.record(&principal.token_id, Some(scope), Outcome::Allowed);
            record_use(state, principal, *client);
        }
        Ok(())
    }

    /// Who acts, for the service layer.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Session { user, client, .. } => Actor::user(user, *client, None),
            Caller::Token { principal, client } => Actor::user(
                &principal.owner,
                *client,
                Some(ActingToken {
                    id: principal.token_id.clone(),
                    personal: principal.token.personal,
                    rate_limit: principal.token.rate_limit,
                }),
            ),
        }
    }

    /// Only admins may change or read token settings: by session, or by a token of an
    /// admin (or an environment-wide token) that carries the settings scope.
    pub fn require_settings(&self, state: &AppState, scope: Scope) -> Result<(), ApiError> {
        self.require_admin(
            state,
            scope,
            "Only administrators may access token settings",
        )
    }

    /// Only admins read the audit log: by session, or with a token carrying
    /// `auditLogs.read` whose owner is an administrator now (an environment token outlives
    /// its creator's demotion; the log must not). Decided on a node that is current, so a
    /// demotion made elsewhere holds here too.
    pub fn require_audit(&self, state: &AppState, scope: Scope) -> Result<(), ApiError> {
        const REFUSAL: &str = "Only administrators may read the audit log";
        state.require_current()?;
        self.require_admin(state, scope, REFUSAL)?;
        match self {
            Caller::Token { principal, .. } if !principal.owner.admin => {
                Err(ApiError::Forbidden(REFUSAL.into()))
            }
            _ => Ok(()),
        }
    }

    fn require_admin(&self, state: &AppState, scope: Scope, refusal: &str) -> Result<(), ApiError> {
        self.require(state, scope)?;
        if !self.actor().sees_all_tokens() {
            return Err(ApiError::Forbidden(refusal.into()));
        }
        Ok(())
    }
}

/// Records the token's last use at most once a minute, off the request's path.
pub fn record_use(state: &AppState, principal: &TokenPrincipal, client: IpAddr) {
    let now = time::now();
    if principal.claim_last_used_write(now) {
        let store = state.store().clone();
        let id = principal.token_id.clone();
        tokio::spawn(async move {
            if let Err(e) = store.record_token_use(&id, now, &client.to_string()).await {
                tracing::warn!(error = %e, token_id = %id, "recording last use failed");
            }
        });
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientAddr(client) = ClientAddr::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientAddr(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            state.require_current()?;
            let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
            let principal = state.index().authenticate(value, time::now())?;
            // Every request of a limited token counts, whatever it asks; the scope is not
            // known yet (usage counts a refusal here under `*`).
            state.meter.limit(state.store(), &principal, None).await?;
            return Ok(Caller::Token { principal, client });
        }
        let (user, session) = session_user(parts, state).await?;
        let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if writes {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(sent.ct_eq(session.csrf_token.as_bytes())) {
                return Err(ApiError::Forbidden(
                    "Missing or invalid CSRF token (X-CSRF-Token)".into(),
                ));
            }
        }
        Ok(Caller::Session {
            user,
            session,
            client,
        })
    }
}

/// The signed-in user of a request with a valid, unexpired session cookie.
pub async fn session_user(
    parts: &Parts,
    state: &AppState,
) -> Result<(Arc<UserEntry>, SessionRecord), ApiError> {
    let cookie = session::cookie_value(&parts.headers, state.settings.secure_cookie)
        .ok_or(ApiError::Unauthorized)?;
    let digest = session::digest(&cookie);
    // Sessions live in the database: when it cannot be read, the caller is told to come
    // back (503, as a stale node answers tokens), not that the server broke.
    let record = state
        .store()
        .session(&digest)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "reading a session failed");
            ApiError::Unavailable("The database cannot be reached; try again shortly".into())
        })?
        .ok_or(ApiError::Unauthorized)?;
    let now = time::now();
    // An idle or too old session is refused here; the periodic sweep removes its row.
    let settings = &state.settings;
    let too_old = now - record.created_at > settings.session_max.as_millis() as i64;
    if too_old || now - record.last_seen_at > state.session_idle_ms() {
        return Err(ApiError::Unauthorized);
    }
    let user = state
        .index()
        .user(&record.username)
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthorized)?;
    if now - record.last_seen_at > session::TOUCH_INTERVAL_MS {
        state.store().touch_session(&digest, now).await?;
    }
    Ok((user, record))
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let from =
            |peer: &str, xff: &[&str]| client_address(ip(peer), xff.iter().copied(), &trusted);
        // No proxy: the peer, whatever the header says.
        assert_eq!(from("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // One trusted hop.
        assert_eq!(from("127.0.0.1", &["198.51.100.1"]), ip("198.51.100.1"));
        // A client-forged entry left of the real one is ignored.
        assert_eq!(
            from("127.0.0.1", &["6.6.6.6, 198.51.100.1, 10.1.2.3"]),
            ip("198.51.100.1")
        );
        // Several header lines are one list.
        assert_eq!(
            from("127.0.0.1", &["6.6.6.6", "198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Nothing forwarded, or garbage: the proxy itself.
        assert_eq!(from("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(from("127.0.0.1", &["not-an-ip"]), ip("127.0.0.1"));
        // With no trusted proxies configured, the header is never read.
        assert_eq!(
            client_address(ip("127.0.0.1"), ["198.51.100.1"].into_iter(), &[]),
            ip("127.0.0.1")
        );
    }
}
