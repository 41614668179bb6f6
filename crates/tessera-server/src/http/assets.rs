//! The built console: static files with precompressed variants (`.br`, `.gz`, written at
//! build time), long-lived caching for content-hashed files, `no-cache` for `index.html`,
//! and `index.html` for every other path so deep links load the console — `admin.html`
//! (the administrators' build, when there is one) for paths under `/settings/`.
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};

/// The console pages: `index.html`, and `admin.html` when the admin build is there.
const PAGES: [&str; 2] = ["index.html", "admin.html"];

/// Serves `dir`, falling back to its `index.html` (`admin.html` under `/settings/`).
pub fn service(dir: &Path) -> Router {
    let page = |name: &str| {
        ServeFile::new(dir.join(name))
            .precompressed_br()
            .precompressed_gzip()
    };
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(page("index.html"));
    let admin = if dir.join("admin.html").is_file() {
        page("admin.html")
    } else {
        page("index.html")
    };
    Router::new()
        .route_service("/settings", admin.clone())
        .route_service("/settings/{*rest}", admin)
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_headers))
}

/// Trunk names built files `<name>-<hash>[_bg].<ext>`: their content never changes. The
/// hash is a 64-bit number in hex without leading zeros (so 16 digits, sometimes fewer).
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

pub(super) async fn cache_headers(request: Request<Body>, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // A 304's headers replace the cached response's: it must say immutable too.
    let fresh = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if hashed && !html && fresh {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// The Content-Security-Policy for the console: scripts only from this origin, plus the
/// inline module loaders Trunk writes into the pages, allowed by their SHA-256. The pages
/// are those of `--assets`, or else the console built in.
pub fn content_security_policy(assets: Option<&PathBuf>) -> String {
    let html: String = PAGES
        .iter()
        .filter_map(|page| match assets {
            Some(dir) => std::fs::read_to_string(dir.join(page)).ok(),
            None => super::embedded::page(page),
        })
        .collect();
    let hashes: String = inline_scripts(&html)
        .map(|script| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(script.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("/tessera-console-0123456789abcdef_bg.wasm"));
        assert!(is_hashed("/tessera-console-0123456789abcdef.js"));
        assert!(is_hashed("/style-fedcba9876543210.css"));
        // A hash with a leading zero is written with 15 digits (seen in a real build).
        assert!(is_hashed("/tessera-console-8803bbf6e78ad53_bg.wasm"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/favicon.svg"));
        assert!(!is_hashed("/personal-access-tokens/new"));
    }

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), vec!["init()"]);
    }
}
