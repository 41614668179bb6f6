//! Issue 17: the gateway check with the route map, and each proxy's documented contract
//! replayed exactly against the real server (Traefik, Envoy, ingress-nginx do not install
//! here; Caddy runs for real in `caddy.rs`). The shipped configs are read to check they ask
//! what the replay sends.
use reqwest::{Method, StatusCode};

use crate::caddy::{shipped, shipped_routes};
use crate::helpers::{envelope, TestApp, BIN};

async fn gate(trusted: &str) -> TestApp {
    let routes = shipped_routes();
    let app = TestApp::spawn_with(&["--trusted-proxy", trusted, "--gateway-routes", &routes]).await;
    app.admin().await.set_pat_enabled(true).await;
    app
}

/// Sends a request as the proxy sends it to Tessera; Tessera's answer.
async fn replay(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = reqwest::Client::new().request(method, app.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

fn owner_headers(r: &reqwest::Response) -> (String, String) {
    let h = r.headers();
    (
        h["x-tessera-owner"].to_str().unwrap().to_owned(),
        h["x-tessera-management-zones"].to_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn traefik_forward_auth_as_documented() {
    // Traefik: GET <address> with every client header (Authorization, Cookie too) and
    // X-Forwarded-{Method,Proto,Host,Uri,For} set by Traefik; any 2xx allows.
    let config = shipped("traefik/tessera.yml");
    assert!(config.contains("address: \"http://127.0.0.1:8080/api/v2/auth/check\""));
    assert!(config.contains("trustForwardHeader: false"));
    assert!(config.contains("authResponseHeadersRegex: \"(?i)^X[-_]Tessera[-_]\""));
    let app = gate("127.0.0.1").await;
    let alice = app.user("alice", &["metrics.read", "metrics.write"]).await;
    let (_, token) = alice.generate("reader", &["metrics.read"]).await;
    let auth = format!("Api-Token {token}");
    let traefik = |method: &'static str, uri: &'static str| {
        [
            ("Authorization", auth.as_str()),
            ("Cookie", "other=1"),
            ("X-Forwarded-Method", method),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "app.example.com"),
            ("X-Forwarded-Uri", uri),
            ("X-Forwarded-For", "198.51.100.7"),
        ]
    };
    let path = "/api/v2/auth/check";
    let r = replay(&app, Method::GET, path, &traefik("GET", "/metrics/cpu?x=1")).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(owner_headers(&r), ("alice".into(), "Production".into()));
    let r = replay(&app, Method::GET, path, &traefik("DELETE", "/metrics/cpu")).await;
    let body = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("metrics.write"));
    let r = replay(&app, Method::GET, path, &traefik("GET", "/other")).await;
    envelope(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn envoy_ext_authz_as_documented() {
    // Envoy (HTTP ext_authz): the original method, path_prefix + the original path and
    // query, Host, Authorization, Content-Length 0 and the allowed X-Forwarded-For; only a
    // 200 allows.
    let config = shipped("envoy/envoy.yaml");
    assert!(config.contains("path_prefix: /api/v2/auth/check\n"));
    assert!(config.contains("patterns: [{ prefix: \"x-tessera-\" }]"));
    let app = gate("127.0.0.1").await;
    let alice = app.user("alice", &["metrics.read", "metrics.write"]).await;
    let (_, token) = alice
        .generate("writer", &["metrics.read", "metrics.write"])
        .await;
    let auth = format!("Api-Token {token}");
    let envoy = [
        ("Authorization", auth.as_str()),
        ("Host", "app.example.com"),
        ("Content-Length", "0"),
        ("X-Forwarded-For", "198.51.100.7"),
    ];
    let r = replay(
        &app,
        Method::DELETE,
        "/api/v2/auth/check/metrics/cpu?from=now",
        &envoy,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(owner_headers(&r).0, "alice");
    assert_eq!(
        r.headers()["x-envoy-auth-headers-to-remove"],
        "authorization, cookie"
    );
    let r = replay(&app, Method::HEAD, "/api/v2/auth/check/metrics", &envoy).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The method-override headers the config lets through are refused.
    let mut overridden = envoy.to_vec();
    overridden.push(("X-HTTP-Method-Override", "DELETE"));
    let r = replay(&app, Method::GET, "/api/v2/auth/check/metrics", &overridden).await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    // Not mapped: the site root and a POST to metrics.
    for (method, path) in [
        (Method::GET, "/api/v2/auth/check/"),
        (Method::POST, "/api/v2/auth/check/metrics/cpu"),
    ] {
        let r = replay(&app, method, path, &envoy).await;
        envelope(r, StatusCode::FORBIDDEN).await;
    }
    let r = replay(
        &app,
        Method::GET,
        "/api/v2/auth/check/metrics/x%2F..%2Fadmin",
        &envoy,
    )
    .await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    let r = replay(
        &app,
        Method::GET,
        "/api/v2/auth/check/metrics",
        &[("Host", "x")],
    )
    .await;
    envelope(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn ingress_nginx_auth_url_as_documented() {
    // ingress-nginx: GET <auth-url> with the client's headers and X-Original-URL (absolute),
    // X-Original-Method, X-Sent-From, X-Real-IP, X-Forwarded-For, X-Auth-Request-Redirect.
    let config = shipped("kubernetes/ingress.yaml");
    assert!(config
        .contains("auth-url: \"http://tessera.tessera.svc.cluster.local:8080/api/v2/auth/check\""));
    assert!(config.contains("auth-response-headers: \"X-Tessera-Owner, X-Tessera-Token-Id, X-Tessera-Management-Zones, Authorization, Cookie\""));
    assert!(
        !config.contains("-snippet:"),
        "recent controllers refuse snippets"
    );
    let app = gate("127.0.0.1").await;
    let alice = app.user("alice", &["problems.read"]).await;
    let (id, token) = alice.generate("reader", &["problems.read"]).await;
    let auth = format!("Api-Token {token}");
    let ingress = |method: &'static str, url: &'static str| {
        [
            ("Authorization", auth.as_str()),
            ("X-Original-URL", url),
            ("X-Original-Method", method),
            ("X-Sent-From", "nginx-ingress-controller"),
            ("X-Real-IP", "198.51.100.7"),
            ("X-Forwarded-For", "198.51.100.7"),
            ("X-Auth-Request-Redirect", "/problems/1"),
        ]
    };
    let path = "/api/v2/auth/check";
    let r = replay(
        &app,
        Method::GET,
        path,
        &ingress("GET", "https://app.example.com/problems/1"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["x-tessera-token-id"], id.as_str());
    let r = replay(
        &app,
        Method::GET,
        path,
        &ingress("POST", "https://app.example.com/problems/1"),
    )
    .await;
    envelope(r, StatusCode::FORBIDDEN).await;
    // The client's own X-Forwarded-Uri passes through ingress-nginx: two conventions at once
    // are refused, not guessed between.
    let mut both = ingress("GET", "https://app.example.com/problems/1").to_vec();
    both.push(("X-Forwarded-Uri", "/metrics"));
    both.push(("X-Forwarded-Method", "GET"));
    let r = replay(&app, Method::GET, path, &both).await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    // The URL is built from the client's Host: a `?` there must not hide the real path.
    let r = replay(
        &app,
        Method::GET,
        path,
        &ingress("GET", "https://app.example.com:?/problems/1"),
    )
    .await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    // With `auth-method`, X-Original-URI comes too: it must name the same target.
    let mut with_uri = ingress("GET", "https://app.example.com/problems/1").to_vec();
    with_uri.push(("X-Original-URI", "/problems/1"));
    let r = replay(&app, Method::GET, path, &with_uri).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Tessera's answer has neither header, so ingress-nginx removes both from the request.
    assert!(r.headers().get("authorization").is_none() && r.headers().get("cookie").is_none());
}

#[tokio::test]
async fn forwarded_requests_are_read_only_from_trusted_proxies_and_never_with_a_scope() {
    let app = gate("10.9.9.9").await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate("reader", &["metrics.read"]).await;
    let auth = format!("Api-Token {token}");
    let forwarded = [
        ("Authorization", auth.as_str()),
        ("X-Forwarded-Method", "GET"),
        ("X-Forwarded-Uri", "/metrics"),
    ];
    // Not from a trusted proxy: the headers are not believed.
    let r = replay(&app, Method::GET, "/api/v2/auth/check", &forwarded).await;
    let body = envelope(r, StatusCode::BAD_REQUEST).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--trusted-proxy"));
    let r = replay(
        &app,
        Method::GET,
        "/api/v2/auth/check/metrics",
        &forwarded[..1],
    )
    .await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    // ?scope= alone still works from anywhere (the nginx config's way).
    let r = app.check(&token, "metrics.read").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Who asks comes first: no token is 401 whatever the headers.
    let r = replay(&app, Method::GET, "/api/v2/auth/check", &forwarded[1..]).await;
    envelope(r, StatusCode::UNAUTHORIZED).await;

    let app = gate("127.0.0.1").await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate("reader", &["metrics.read"]).await;
    let auth = format!("Api-Token {token}");
    let r = replay(
        &app,
        Method::GET,
        "/api/v2/auth/check?scope=metrics.read",
        &[
            ("Authorization", auth.as_str()),
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/admin"),
        ],
    )
    .await;
    let body = envelope(r, StatusCode::BAD_REQUEST).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not both"));
}

#[test]
fn a_bad_route_map_stops_the_start_with_the_route_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("routes.toml");
    std::fs::write(
        &file,
        "[[route]]\nmethods = [\"GET\"]\npath = \"/x\"\nscope = \"metrics.reed\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database-url"])
        .arg(format!("sqlite://{}/t.db", dir.path().display()))
        .arg("--gateway-routes")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("route 1: unknown scope `metrics.reed`"),
        "{err}"
    );
    // Nothing was created: the file is read before the database is opened.
    assert!(!dir.path().join("t.db").exists());
}
