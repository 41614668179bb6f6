//! Issue 17: a real Caddy (Debian's) running the shipped `deploy/caddy/Caddyfile` in front of
//! a recording upstream, with Tessera deciding from the shipped route map.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use tempfile::TempDir;

use crate::helpers::{envelope, TestApp};
use crate::nginx::Upstream;

pub fn shipped(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The shipped route map's path, for `--gateway-routes`.
pub fn shipped_routes() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/gateway-routes.toml")
        .display()
        .to_string()
}

pub struct Caddy {
    base: String,
    _dir: TempDir,
    child: Child,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Caddy {
    /// Caddy with the shipped Caddyfile, its addresses pointed at this test's processes.
    pub fn start(tessera: &str, upstream: std::net::SocketAddr) -> Caddy {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut text = shipped("caddy/Caddyfile");
        for (from, to) in [
            (":8000 {", format!("http://127.0.0.1:{port} {{")),
            (
                "forward_auth 127.0.0.1:8080",
                format!("forward_auth {tessera}"),
            ),
            (
                "reverse_proxy 127.0.0.1:9000",
                format!("reverse_proxy {upstream}"),
            ),
        ] {
            assert!(
                text.contains(from),
                "the shipped Caddyfile no longer has `{from}`"
            );
            text = text.replace(from, &to);
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Caddyfile");
        std::fs::write(&file, text).unwrap();
        let child = Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            // Caddy keeps state under HOME/XDG directories: the temp dir here.
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start caddy: install it with `make tools-test` (Debian package caddy)");
        let mut caddy = Caddy {
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
            child,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return caddy;
            }
            if let Some(status) = caddy.child.try_wait().unwrap() {
                panic!("caddy exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("caddy did not listen on {port}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

struct Gate {
    app: TestApp,
    upstream: Upstream,
    caddy: Caddy,
}

impl Gate {
    async fn start() -> Gate {
        let routes = shipped_routes();
        let app =
            TestApp::spawn_with(&["--trusted-proxy", "127.0.0.1", "--gateway-routes", &routes])
                .await;
        app.admin().await.set_pat_enabled(true).await;
        let upstream = Upstream::start().await;
        let caddy = Caddy::start(app.base.trim_start_matches("http://"), upstream.addr);
        Gate {
            app,
            upstream,
            caddy,
        }
    }

    async fn send(&self, method: Method, path: &str, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .request(method, self.caddy.url(path))
            .header("Authorization", format!("Api-Token {token}"))
            .send()
            .await
            .unwrap()
    }

    /// Refused by Caddy with Tessera's status and message; the upstream saw nothing.
    async fn refused(&self, method: Method, path: &str, token: &str, status: StatusCode) -> String {
        let before = self.upstream.seen().len();
        let r = self.send(method, path, token).await;
        let body = envelope(r, status).await;
        assert_eq!(self.upstream.seen().len(), before, "upstream reached");
        body["error"]["message"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn caddy_lets_a_token_with_the_routes_scope_through_as_its_owner() {
    let gate = Gate::start().await;
    let alice = gate.app.user("alice", &["metrics.read"]).await;
    let (id, token) = alice.generate("reader", &["metrics.read"]).await;
    let r = reqwest::Client::new()
        .get(gate.caddy.url("/metrics/cpu?from=now-1h"))
        .header("Authorization", format!("Api-Token {token}"))
        // A client trying to pass as someone else, and to send its cookies upstream.
        .header("X-Tessera-Owner", "admin")
        .header("X-Tessera-Token-Id", "forged")
        .header("X-Tessera-Management-Zones", "*")
        .header("X-Tessera-Extra", "forged")
        .header("X_Tessera_Owner", "admin")
        .header("Cookie", "tessera_session=stolen")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen = gate.upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/metrics/cpu")
    );
    let h = &seen[0].headers;
    let all = |name: &str| {
        h.get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(all("x-tessera-owner"), ["alice"]);
    assert_eq!(all("x-tessera-token-id"), std::slice::from_ref(&id));
    assert_eq!(all("x-tessera-management-zones"), ["Production"]);
    assert!(all("x-tessera-extra").is_empty(), "{h:?}");
    assert!(all("x_tessera_owner").is_empty(), "{h:?}");
    assert!(
        !h.contains_key("authorization"),
        "the token reached the upstream"
    );
    assert!(!h.contains_key("cookie"), "a cookie reached the upstream");
    // The check saw the client's address through Caddy's X-Forwarded-For.
    assert_eq!(
        alice.token_after_use(&id).await["lastUsedIpAddress"],
        "127.0.0.1"
    );
}

#[tokio::test]
async fn caddy_relays_tesseras_refusals_and_the_upstream_is_not_asked() {
    let gate = Gate::start().await;
    let alice = gate
        .app
        .user("alice", &["metrics.read", "metrics.write"])
        .await;
    let (id, token) = alice.generate("reader", &["metrics.read"]).await;

    // Wrong scope: DELETE needs metrics.write.
    let message = gate
        .refused(
            Method::DELETE,
            "/metrics/cpu",
            &token,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(message.contains("metrics.write"), "{message}");
    // No route for the path: closed.
    let message = gate
        .refused(Method::GET, "/admin/users", &token, StatusCode::FORBIDDEN)
        .await;
    assert!(
        message.contains("No gateway route allows GET /admin/users"),
        "{message}"
    );
    // A made-up method matches no route.
    gate.refused(
        Method::from_bytes(b"FROB").unwrap(),
        "/metrics/cpu",
        &token,
        StatusCode::FORBIDDEN,
    )
    .await;
    // The client's query cannot choose the scope (Caddy replaces it).
    gate.refused(
        Method::GET,
        "/admin/users?scope=metrics.read",
        &token,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A path the upstream could normalise into another route (reqwest itself would
    // resolve a `%2e%2e` segment before sending).
    let message = gate
        .refused(
            Method::GET,
            "/metrics/x%2F..%2Fadmin",
            &token,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(message.contains("normalising"), "{message}");
    // A method override would let the upstream act on another method than the one checked.
    let before = gate.upstream.seen().len();
    let r = reqwest::Client::new()
        .get(gate.caddy.url("/metrics/cpu"))
        .header("Authorization", format!("Api-Token {token}"))
        .header("X-HTTP-Method-Override", "DELETE")
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(gate.upstream.seen().len(), before);
    // No token, then a revoked one.
    let r = reqwest::Client::new()
        .get(gate.caddy.url("/metrics/cpu"))
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::UNAUTHORIZED).await;
    let path = format!("/api/v2/apiTokens/{id}");
    let r = alice.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    gate.refused(
        Method::GET,
        "/metrics/cpu",
        &token,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(gate.upstream.seen().is_empty());
}

#[tokio::test]
async fn caddy_relays_a_rate_limit_with_its_headers() {
    let gate = Gate::start().await;
    let alice = gate.app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate_limited(&["metrics.read"], 2).await;
    for _ in 0..2 {
        let r = gate.send(Method::GET, "/metrics/cpu", &token).await;
        assert_eq!(r.status(), StatusCode::OK);
        let seen = gate.upstream.seen();
        assert_eq!(seen.last().unwrap().headers["x-tessera-owner"], "alice");
    }
    let r = gate.send(Method::GET, "/metrics/cpu", &token).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["x-ratelimit-limit"], "2");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(gate.upstream.seen().len(), 2);
}
