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

/// Whether `Accept-Encoding` lists `coding` (with a non-zero quality).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let Some(list) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    list.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts.next() == Some(coding) && parts.all(|p| p != "q=0" && p != "q=0.0")
    })
}

fn serve(path: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Console::get(path)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let variant = [("br", ".br"), ("gzip", ".gz")]
            .into_iter()
            .filter(|(coding, _)| accepts(headers, coding))
            .find_map(|(coding, suffix)| Some((coding, Console::get(&format!("{path}{suffix}"))?)));
        let mut response = match variant {
            Some((coding, compressed)) => {
                let mut r = Response::new(Body::from(compressed.data.into_owned()));
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
                r
            }
            None => Response::new(Body::from(file.data.into_owned())),
        };
        let mime = file.metadata.mimetype();
        if let Ok(value) = HeaderValue::from_str(mime) {
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

    #[test]
    fn reads_accept_encoding_lists() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br;q=0"),
        );
        assert!(accepts(&headers, "gzip"));
        assert!(!accepts(&headers, "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
