//! Cross-cutting layers: request logs and metrics, `/api` cache policy, security headers.
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::domain::token::redact;

/// Logs each request (method, path with any token secret redacted, status, duration) and
/// counts it by route and status. Headers, bodies and query strings are never logged.
pub async fn observe(request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = redact(request.uri().path()).into_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| {
            if path.starts_with("/api/") {
                "unmatched".into()
            } else {
                "assets".into()
            }
        });
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(%method, path, status, ms = elapsed.as_secs_f64() * 1e3, "request");
    // Every label has a bounded set of values (a made-up method or path must not create
    // a new series): known methods or `other`, the route template, the status class.
    let labels = [
        ("route", route),
        ("method", method_label(&method).to_owned()),
        ("status", format!("{}xx", status / 100)),
    ];
    metrics::counter!("tessera_http_requests_total", &labels).increment(1);
    metrics::histogram!("tessera_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Every `/api` response is `Cache-Control: no-store` (they carry tokens and personal
/// data). Plain header layers rather than a `from_fn` middleware: the gateway check runs
/// through these on every call.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// JSON says its charset.
pub fn json_charset() -> SetResponseHeaderLayer<fn(&Response) -> Option<HeaderValue>> {
    fn with_charset(response: &Response) -> Option<HeaderValue> {
        match response.headers().get(header::CONTENT_TYPE) {
            Some(v) if v == "application/json" => {
                Some(HeaderValue::from_static("application/json; charset=utf-8"))
            }
            other => other.cloned(),
        }
    }
    SetResponseHeaderLayer::overriding(header::CONTENT_TYPE, with_charset)
}

/// Security headers on every response.
pub fn security_headers(csp: &str) -> [(header::HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ]
}
