//! Issue 13, nginx: Tessera's cookie never reaches the protected service, and a raw path
//! that nginx would normalise differently from the upstream is refused, not mapped.
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::gateway::Gateway;

/// Sends `path` exactly as written (no client-side normalisation); returns the status.
async fn raw_status(gw: &Gateway, method: &str, path: &str, token: &str) -> u16 {
    let addr = gw.nginx.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Api-Token {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

#[tokio::test]
async fn the_session_cookie_never_reaches_the_protected_service() {
    let gw = Gateway::start().await;
    let alice = gw.app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate("reader", &["metrics.read"]).await;
    let r = reqwest::Client::new()
        .get(gw.nginx.url("/metrics/cpu"))
        .header("Authorization", format!("Api-Token {token}"))
        .header(
            "Cookie",
            "tessera_session=stolen; __Host-tessera_session=also; theme=dark",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", gw.nginx.error_log());
    let seen = gw.upstream.seen();
    assert!(
        !seen[0].headers.contains_key("cookie"),
        "{:?}",
        seen[0].headers
    );
}

#[tokio::test]
async fn raw_paths_that_need_normalising_are_refused_before_any_scope_is_mapped() {
    let gw = Gateway::start().await;
    let alice = gw
        .app
        .user("alice", &["metrics.read", "metrics.write"])
        .await;
    let (_, token) = alice
        .generate("writer", &["metrics.read", "metrics.write"])
        .await;
    for path in [
        "/metrics/..;/problems/1",
        "/metrics/../problems/1",
        "/metrics/%2e%2e/problems/1",
        "/metrics/%2E%2E/problems/1",
        "/metrics/.%2e/problems/1",
        "/metrics%2f..%2fproblems/1",
        "/metrics/x%5c..%5cproblems",
        "/metrics//problems/1",
        "/metrics;x=1/cpu",
        "/metrics/%252e%252e/problems/1",
        "/metrics%252fproblems",
        "/metrics/%u002e%u002e/problems",
        "/metrics/%c0%ae%c0%ae/problems",
    ] {
        let status = raw_status(&gw, "DELETE", path, &token).await;
        assert_eq!(status, 400, "{path}: {}", gw.nginx.error_log());
    }
    let r = reqwest::Client::new()
        .delete(gw.nginx.url("/metrics//problems/1"))
        .header("Authorization", format!("Api-Token {token}"))
        .send()
        .await
        .unwrap();
    crate::helpers::envelope(r, StatusCode::BAD_REQUEST).await;
    assert!(gw.upstream.seen().is_empty(), "the upstream was reached");
    // Ordinary paths, with a query that may hold anything, still pass.
    assert_eq!(
        raw_status(&gw, "GET", "/metrics/cpu?a=..;b//c", &token).await,
        200
    );
    assert_eq!(
        raw_status(&gw, "DELETE", "/metrics/custom.metric-1", &token).await,
        200
    );
}
