//! Browser sessions (SPEC §5.2): a random cookie value whose SHA-256 keys a server-side
//! row; a per-session CSRF token for cookie-authenticated writes; expiry after inactivity
//! (`--session-idle`) and after an absolute lifetime (`--session-max`). Cookies are parsed
//! and built with the `cookie` crate.
use axum::http::{header, HeaderMap, HeaderValue};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cookie::{Cookie, SameSite};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The cookie's name over plain HTTP.
pub const COOKIE: &str = "tessera_session";
/// Its name when Secure: the `__Host-` prefix makes browsers refuse it unless it is Secure,
/// has `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_COOKIE: &str = "__Host-tessera_session";
/// How often `last_seen_at` is written at most, so reads do not all become writes.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(cookie_value: &str) -> [u8; 32] {
    Sha256::digest(cookie_value.as_bytes()).into()
}

fn name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

/// The session cookie's value, if the request carries one (only under the name this
/// deployment sets).
pub fn cookie_value(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie_named(headers, name(secure))
}

/// The value of the request's cookie `name`, among every Cookie header.
pub fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

pub fn set_cookie(value: &str, secure: bool, max_age_secs: u64) -> HeaderValue {
    let max_age = i64::try_from(max_age_secs).unwrap_or(i64::MAX);
    http_only_cookie(name(secure), value, "/", SameSite::Strict, secure, max_age)
}

/// The `Set-Cookie` value of an HttpOnly cookie, `Secure` behind TLS, kept `max_age_secs`
/// (0 removes it).
pub fn http_only_cookie(
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    secure: bool,
    max_age_secs: i64,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    set_cookie("", secure, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tessera_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&headers, false).as_deref(), Some("abc"));
        assert_eq!(
            cookie_value(&headers, true),
            None,
            "a Secure deployment reads __Host-"
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tessera_sessionx=1; __Host-tessera_session=s"),
        );
        assert_eq!(cookie_value(&headers, false), None);
        assert_eq!(cookie_value(&headers, true).as_deref(), Some("s"));
    }

    #[test]
    fn cookies_are_http_only_and_same_site_strict() {
        let c = set_cookie("v", true, 60);
        let c = c.to_str().unwrap();
        assert!(c.starts_with("__Host-tessera_session=v;"), "{c}");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set_cookie("v", false, 60)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
