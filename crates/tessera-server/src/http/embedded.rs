//! The console built into the binary (issue 18): Trunk's `dist/` with its precompressed
//! `.br`/`.gz` variants, embedded by `rust-embed` as it is when the server is compiled
//! (debug builds too: the tests run what ships; `build.rs` recompiles when it changes). Served like `--assets DIR`
//! (`assets::service`): the best encoding the client accepts, `index.html` for deep links
//! and `admin.html` under `/settings/`, the same caching headers. A build made before the
//! console was built has no files here; the server then says at start that it serves only
//! the API.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[derive(rust_embed::Embed)]
#[folder = "../../dist"]
#[allow_missing = true]
struct Console;

/// Whether a console was built into this binary.
pub fn available() -> bool {
    Console::get("index.html").is_some()
}

/// A console page's text (`index.html`, `admin.html`), for the CSP's script hashes.
pub fn page(name: &str) -> Option<String> {
    Console::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

pub fn service() -> Router {
    Router::new()
        .route("/settings", get(admin))
        .route("/settings/{*rest}", get(admin))
        .fallback(get(file))
        .layer(axum::middleware::from_fn(super::assets::cache_headers))
}

async fn admin(headers: HeaderMap) -> Response {
    let page = if Console::get("admin.html").is_some() {
        "admin.html"
    } else {
        "index.html"
    };
    serve(page, &headers).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The file the path names, or `index.html` (a page of the console's own routes).
async fn file(uri: Uri, headers: HeaderMap) -> Response {
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    serve(path, &headers)
        .or_else(|| serve("index.html", &headers))
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The quality `Accept-Encoding` gives `coding` (names compared without case; `*` stands
/// for any coding not listed; absent, nothing but identity is acceptable).
fn quality(headers: &HeaderMap, coding: &str) -> f32 {
    let items = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    let (mut named, mut any) = (None, None);
    for item in items {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok());
        let Some(q) = q else { continue };
        if name.eq_ignore_ascii_case(coding) {
            named = Some(q);
        } else if name == "*" {
            any = Some(q);
        }
    }
    named.or(any).unwrap_or(0.0)
}

/// A body of the embedded bytes without copying them (they are in the binary).
fn body(data: std::borrow::Cow<'static, [u8]>) -> Body {
    match data {
        std::borrow::Cow::Borrowed(bytes) => Body::from(axum::body::Bytes::from_static(bytes)),
        std::borrow::Cow::Owned(bytes) => Body::from(bytes),
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, lists and `*` included).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn serve(path: &str, headers: &HeaderMap) -> Option<Response> {
    // The compressed copies are served as encodings of their file, never on their own.
    if path.ends_with(".br") || path.ends_with(".gz") {
        return None;
    }
    let file = Console::get(path)?;
    let hash = hex(&file.metadata.sha256_hash());
    // The best encoding the client accepts (brotli first when it rates both alike).
    let variant = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .map(|(coding, suffix)| (quality(headers, coding), coding, suffix))
        .filter(|(q, ..)| *q > 0.0)
        .fold(None::<(f32, &str, &str)>, |best, v| match best {
            Some(b) if b.0 >= v.0 => Some(b),
            _ => Some(v),
        })
        .and_then(|(_, coding, suffix)| Some((coding, Console::get(&format!("{path}{suffix}"))?)));
    // Each representation has its own validator (RFC 9110: one per content coding).
    let etag = match &variant {
        Some((coding, _)) => format!("\"{hash}-{coding}\""),
        None => format!("\"{hash}\""),
    };
    let mut response = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = match variant {
            Some((coding, compressed)) => {
                let mut r = Response::new(body(compressed.data));
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
                r
            }
            None => Response::new(body(file.data)),
        };
        if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Some(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn reads_accept_encoding_qualities() {
        let h = accept("GZIP, deflate, br;q=0.000");
        assert_eq!((quality(&h, "gzip"), quality(&h, "br")), (1.0, 0.0));
        let h = accept("br;Q=0.5, *;q=0.8");
        assert_eq!((quality(&h, "br"), quality(&h, "gzip")), (0.5, 0.8));
        assert_eq!(quality(&HeaderMap::new(), "gzip"), 0.0);
        assert_eq!(quality(&accept("br;q=x"), "br"), 0.0);
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_any() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b-br\""),
        );
        assert!(not_modified(&h, "\"b-br\"") && !not_modified(&h, "\"b\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(not_modified(&h, "\"c\""));
    }
}
