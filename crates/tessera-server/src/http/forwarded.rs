//! The original request a proxy forwards to the gateway check, as headers: Caddy and
//! Traefik send `X-Forwarded-Method` and `X-Forwarded-Uri`; nginx conventionally
//! `X-Original-Method` and `X-Original-URI`, ingress-nginx `X-Original-URL` (a whole URL).
//!
//! Proxies pass the client's own headers on to the check too, and each sets only its own
//! convention: a request carrying both conventions, or one header twice, is refused as
//! ambiguous rather than trusting whichever a client may have written.
use axum::http::HeaderMap;

/// A forwarded method and URI (path and query), not yet checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Forwarded {
    pub method: String,
    pub uri: String,
}

const NAMES: [&str; 5] = [
    "x-forwarded-method",
    "x-forwarded-uri",
    "x-original-method",
    "x-original-uri",
    "x-original-url",
];

/// Whether any forwarded-request header was sent.
pub fn present(headers: &HeaderMap) -> bool {
    NAMES.iter().any(|n| headers.contains_key(*n))
}

/// The single value of `name`, Err when sent twice or not text.
fn one<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("{name} was sent more than once"));
    }
    first
        .map(|v| v.to_str().map_err(|_| format!("{name} is not ASCII text")))
        .transpose()
}

/// The path and query of an absolute URL (`X-Original-URL`). ingress-nginx builds it from
/// the client's own `Host` header, which nginx accepts with `?`, `#` or `@` in it: the
/// authority must be followed by `/` and hold none of those, or a client could move its
/// real path into what looks like a query.
fn path_of_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("X-Original-URL is not an http(s) URL")?;
    let slash = rest.find('/').ok_or("X-Original-URL has no path")?;
    if rest[..slash].contains(['?', '#', '@', '\\']) {
        return Err("X-Original-URL's host must not hold ?, #, @ or a backslash".into());
    }
    Ok(rest[slash..].to_owned())
}

/// Headers by which an upstream may act on another method than the one matched.
const METHOD_OVERRIDES: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Refuses what would let the upstream act otherwise than the request checked: a
/// method-override header, or an `X-Tessera-*` imitation with underscores.
pub fn refuse_smuggling(headers: &HeaderMap) -> Result<(), String> {
    if let Some(name) = METHOD_OVERRIDES.iter().find(|n| headers.contains_key(**n)) {
        return Err(format!(
            "{name} is refused: the upstream could act on another method than the one checked"
        ));
    }
    // `X_Tessera_Owner` passes proxies that strip `X-Tessera-*`, and CGI-style upstreams
    // read it as X-Tessera-Owner.
    if headers
        .keys()
        .any(|k| k.as_str().starts_with("x_tessera") || k.as_str().starts_with("x-tessera_"))
    {
        return Err("a header imitating X-Tessera-* with underscores is refused".into());
    }
    Ok(())
}

/// The forwarded request, or Err with what is wrong with the headers.
pub fn read(headers: &HeaderMap) -> Result<Forwarded, String> {
    refuse_smuggling(headers)?;
    let forwarded = (
        one(headers, "x-forwarded-method")?,
        one(headers, "x-forwarded-uri")?,
    );
    let original = (
        one(headers, "x-original-method")?,
        one(headers, "x-original-uri")?,
        one(headers, "x-original-url")?,
    );
    let has_forwarded = forwarded.0.is_some() || forwarded.1.is_some();
    let has_original = original.0.is_some() || original.1.is_some() || original.2.is_some();
    if has_forwarded && has_original {
        return Err(
            "both X-Forwarded-Method/-Uri and X-Original-Method/-URI were sent; a proxy sends one pair".into(),
        );
    }
    let (method, uri) = match (forwarded, original) {
        ((Some(m), Some(u)), _) => (m, u.to_owned()),
        (_, (Some(m), Some(u), None)) => (m, u.to_owned()),
        (_, (Some(m), None, Some(url))) => (m, path_of_url(url)?),
        // ingress-nginx with `auth-method` sends both; they must name the same target.
        (_, (Some(m), Some(u), Some(url))) => {
            if path_of_url(url)? != u {
                return Err("X-Original-URI and X-Original-URL name different targets".into());
            }
            (m, u.to_owned())
        }
        _ => {
            return Err(
                "the forwarded method and URI are missing: send X-Forwarded-Method and X-Forwarded-Uri (or X-Original-Method and X-Original-URI), or ask with ?scope="
                    .into(),
            )
        }
    };
    Ok(Forwarded {
        method: method.to_owned(),
        uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    fn got(pairs: &[(&'static str, &'static str)]) -> Result<(String, String), String> {
        read(&headers(pairs)).map(|f| (f.method, f.uri))
    }

    #[test]
    fn each_convention_is_read() {
        let ok = |m: &str, u: &str| Ok((m.to_owned(), u.to_owned()));
        let caddy = [("x-forwarded-method", "GET"), ("x-forwarded-uri", "/a?b")];
        assert_eq!(got(&caddy), ok("GET", "/a?b"));
        let nginx = [("x-original-method", "PUT"), ("x-original-uri", "/a")];
        assert_eq!(got(&nginx), ok("PUT", "/a"));
        let ingress = |url| [("x-original-method", "DELETE"), ("x-original-url", url)];
        assert_eq!(
            got(&ingress("https://h.example/a/b?c=1")),
            ok("DELETE", "/a/b?c=1")
        );
        assert_eq!(got(&ingress("http://h.example:8080/")), ok("DELETE", "/"));
        let both = [
            ("x-original-method", "GET"),
            ("x-original-uri", "/a?b"),
            ("x-original-url", "https://h/a?b"),
        ];
        assert_eq!(got(&both), ok("GET", "/a?b"));
    }

    #[test]
    fn ambiguous_or_missing_headers_are_refused() {
        let refused = |pairs: &[(&'static str, &'static str)], why: &str| {
            let err = got(pairs).unwrap_err();
            assert!(err.contains(why), "{err}");
        };
        refused(
            &[
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", "/a"),
                ("x-original-uri", "/admin"),
            ],
            "one pair",
        );
        refused(
            &[
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", "/a"),
                ("x-forwarded-uri", "/b"),
            ],
            "more than once",
        );
        refused(
            &[
                ("x-original-method", "GET"),
                ("x-original-uri", "/a"),
                ("x-original-url", "http://h/b"),
            ],
            "different targets",
        );
        // A client's Host with `?` would turn the real path into a query.
        for host in [
            "http://h:?/admin",
            "http://h#/admin",
            "http://u@h/admin",
            "http://h",
        ] {
            let url = [("x-original-method", "GET"), ("x-original-url", host)];
            assert!(got(&url).is_err(), "{host}");
        }
        refused(
            &[
                ("x-forwarded-method", "POST"),
                ("x-forwarded-uri", "/a"),
                ("x-http-method-override", "DELETE"),
            ],
            "x-http-method-override is refused",
        );
        refused(
            &[
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", "/a"),
                ("x_tessera_owner", "admin"),
            ],
            "underscores",
        );
        refused(&[("x-forwarded-method", "GET")], "missing");
        refused(&[], "missing");
        refused(
            &[
                ("x-original-method", "GET"),
                ("x-original-url", "ftp://h/a"),
            ],
            "not an http(s) URL",
        );
    }
}
