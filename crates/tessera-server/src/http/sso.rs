//! Sign-in through the OpenID provider (SPEC §13): `start` sends the browser there with a
//! sealed, short-lived cookie holding state, nonce, PKCE verifier and where to go after;
//! `callback` checks all of it, signs the user in and sends them on. A refusal is a page
//! that says why, and nothing is created.
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cookie::SameSite;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tessera_api::SignInOptions;

use crate::auth::caller::ClientAddr;
use crate::auth::session;
use crate::error::ApiError;
use crate::sso::client::{Pending, RpError};
use crate::state::AppState;

const COOKIE: &str = "tessera_oidc";
/// Its name over https: `__Host-` makes browsers refuse one set by another host (a
/// sibling subdomain planting its own pending sign-in) or without Secure.
const SECURE_COOKIE: &str = "__Host-tessera_oidc";
const PURPOSE: &str = "tessera-oidc-sign-in";
const UNAVAILABLE: &str = "The sign-in could not be completed; try again shortly";
/// How long a sign-in at the provider may take.
const PENDING_SECS: i64 = 600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/session/options", get(options))
        .route("/api/session/oidc/start", get(start))
        .route("/api/session/oidc/callback", get(callback))
}

async fn options(State(state): State<AppState>) -> Json<SignInOptions> {
    Json(SignInOptions {
        password_login: state.settings.password_login,
        sso: state.sso.as_ref().map(|s| s.name.clone()),
    })
}

/// A refusal the person can read.
fn page(status: StatusCode, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · Tessera</title></head>\
         <body><main><h1>Sign-in failed</h1><p id=\"reason\">{escaped}</p><p><a href=\"/login\">Back to sign-in</a></p></main></body></html>"
    );
    (status, Html(body)).into_response()
}

fn rp_refusal(e: RpError) -> Response {
    match e {
        RpError::Provider(m) => {
            tracing::warn!(error = %m, "single sign-on: the provider failed");
            page(
                StatusCode::BAD_GATEWAY,
                &format!("The identity provider could not be used: {m}"),
            )
        }
        RpError::Refused(m) => {
            tracing::warn!(error = %m, "single sign-on refused");
            page(
                StatusCode::BAD_REQUEST,
                &format!("The identity provider's answer was refused: {m}"),
            )
        }
    }
}

fn pending_cookie(value: &str, secure: bool, max_age: i64) -> HeaderValue {
    let (name, path) = if secure {
        (SECURE_COOKIE, "/")
    } else {
        (COOKIE, "/api/session/oidc")
    };
    // Lax: the provider sends the browser back with a top-level GET from its site.
    session::http_only_cookie(name, value, path, SameSite::Lax, secure, max_age)
}

/// Only a path on this site: `/x`, never `//host` or `/\host` (browsers read both as
/// another host), nothing with control characters.
fn same_origin_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 2000
                && !p.chars().any(|c| c.is_control()) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    pending: Pending,
    /// Epoch seconds after which the sign-in is stale.
    until: i64,
}

async fn start(State(state): State<AppState>, Query(q): Query<StartQuery>) -> Response {
    let Some(sso) = &state.sso else {
        return page(
            StatusCode::NOT_FOUND,
            "Single sign-on is not configured here",
        );
    };
    let next = same_origin_path(q.next.as_deref());
    let (url, pending) = match sso.rp.begin(next).await {
        Ok(x) => x,
        Err(e) => return rp_refusal(e),
    };
    let sealed = Sealed {
        pending,
        until: crate::domain::time::now() / 1000 + PENDING_SECS,
    };
    let value = sso
        .key
        .seal(PURPOSE, &serde_json::to_vec(&sealed).unwrap_or_default());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        pending_cookie(&value, secure(&state), PENDING_SECS),
    );
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&url).unwrap_or_else(|_| HeaderValue::from_static("/login")),
    );
    (StatusCode::SEE_OTHER, headers).into_response()
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Whether the sign-in cookie is Secure (and `__Host-`).
fn secure(state: &AppState) -> bool {
    state.settings.secure_cookie || state.sso.as_ref().is_some_and(|s| s.secure)
}

fn pending_from(headers: &HeaderMap, sso: &crate::sso::Sso, secure: bool) -> Option<Sealed> {
    let name = if secure { SECURE_COOKIE } else { COOKIE };
    let value = session::cookie_named(headers, name)?;
    let plain = sso.key.open(PURPOSE, &value)?;
    serde_json::from_slice(&plain).ok()
}

async fn callback(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let mut response = finish(&state, client, &headers, q).await;
    // The pending sign-in is used up, whatever came of it.
    response
        .headers_mut()
        .append(header::SET_COOKIE, pending_cookie("", secure(&state), 0));
    response
}

async fn finish(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> Response {
    let Some(sso) = &state.sso else {
        return page(
            StatusCode::NOT_FOUND,
            "Single sign-on is not configured here",
        );
    };
    if state.login_limiter.check(client).is_err() {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts; wait a minute and try again",
        );
    }
    let Some(sealed) = pending_from(headers, sso, secure(state)) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser, or took too long; start again",
        );
    };
    // Only a sign-in this browser started may show what the provider said, and only its
    // error code: a crafted link must not put someone's words on this site.
    if let Some(error) = q.error {
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return page(
            StatusCode::BAD_REQUEST,
            &format!("The identity provider did not sign you in ({code})"),
        );
    }
    let (Some(code), Some(returned)) = (q.code, q.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The provider sent no code or state",
        );
    };
    let expected = sealed.pending.state.as_bytes();
    if sealed.until < crate::domain::time::now() / 1000
        || !bool::from(returned.as_bytes().ct_eq(expected))
    {
        return page(
            StatusCode::BAD_REQUEST,
            "The sign-in's state does not match this browser's; start again",
        );
    }
    let next = sealed.pending.next.clone();
    let identity = match sso
        .rp
        .finish(sealed.pending, code)
        .await
        .and_then(|s| sso.identity(s))
    {
        Ok(i) => i,
        Err(e) => return rp_refusal(e),
    };
    // Without a refresh token the user could not be re-validated while their tokens act.
    let Some(refresh) = identity.refresh_token.as_deref() else {
        return page(
            StatusCode::BAD_REQUEST,
            "The identity provider issued no refresh token, which Tessera needs to re-validate \
             its users; allow the client the refresh_token grant and offline_access",
        );
    };
    // Sealed for this user only (the purpose names them).
    let sealed = sso.key.seal(
        &crate::sso::revalidate::purpose(&identity.username),
        refresh.as_bytes(),
    );
    let user = match state.service.sso_sign_in(&identity, &sealed).await {
        Ok(u) => u,
        // The refusals (a local user of that name, a disabled user) say why; anything
        // else is not for the page.
        Err(e @ ApiError::Forbidden(_)) => {
            tracing::warn!(error = %e, username = %identity.username, "single sign-on refused");
            return page(StatusCode::FORBIDDEN, &e.to_string());
        }
        Err(e) => {
            tracing::warn!(error = %e, username = %identity.username, "single sign-on failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    };
    let session = match state
        .service
        .start_session(&user, client, state.settings.max_sessions_per_user)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "starting an SSO session failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    };
    let mut out = HeaderMap::new();
    out.insert(
        header::SET_COOKIE,
        session::set_cookie(
            &session.cookie,
            state.settings.secure_cookie,
            state.settings.session_max.as_secs(),
        ),
    );
    out.insert(
        header::LOCATION,
        HeaderValue::from_str(&same_origin_path(Some(&next)))
            .unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    (StatusCode::SEE_OTHER, out).into_response()
}

#[cfg(test)]
mod tests {
    use super::same_origin_path;

    #[test]
    fn only_same_origin_paths_are_kept_as_next() {
        assert_eq!(
            same_origin_path(Some("/personal-access-tokens?x=1")),
            "/personal-access-tokens?x=1"
        );
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "x",
            "/a\nb",
            "",
        ] {
            assert_eq!(same_origin_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(same_origin_path(None), "/");
    }
}
