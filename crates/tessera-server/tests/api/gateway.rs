//! Issue 7: nginx `auth_request` with the shipped config protects an upstream with Tessera
//! tokens. Real nginx, real Tessera, a recording upstream.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};
use crate::nginx::{Nginx, Upstream};

pub struct Gateway {
    pub app: TestApp,
    pub upstream: Upstream,
    pub nginx: Nginx,
}

impl Gateway {
    pub async fn start() -> Gateway {
        let app = TestApp::spawn_with(&["--trusted-proxy", "127.0.0.1"]).await;
        app.admin().await.set_pat_enabled(true).await;
        let upstream = Upstream::start().await;
        let nginx = Nginx::start(app.base.trim_start_matches("http://"), upstream.addr);
        Gateway {
            app,
            upstream,
            nginx,
        }
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().request(method, self.nginx.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Api-Token {token}"));
        }
        request.send().await.unwrap()
    }

    /// What Tessera itself answers for this check, to compare with what nginx relays.
    async fn direct(&self, token: &str, scope: &str) -> (StatusCode, Value) {
        let r = self.app.check(token, scope).await;
        (r.status(), r.json().await.unwrap())
    }

    /// Asserts nginx refused with exactly Tessera's answer and the upstream saw nothing.
    async fn assert_refused(&self, method: Method, path: &str, token: &str, scope: &str) {
        let before = self.upstream.seen().len();
        let r = self.send(method, path, Some(token)).await;
        let (status, body) = self.direct(token, scope).await;
        assert!(status.is_client_error(), "Tessera allowed {scope}");
        assert_eq!(r.status(), status, "{}", self.nginx.error_log());
        assert_eq!(envelope(r, status).await, body);
        assert_eq!(self.upstream.seen().len(), before, "upstream reached");
    }
}

#[tokio::test]
async fn a_token_with_the_scope_reaches_the_upstream_as_its_owner() {
    let gw = Gateway::start().await;
    let alice = gw
        .app
        .user("alice", &["metrics.read", "metrics.write"])
        .await;
    let (id, token) = alice.generate("reader", &["metrics.read"]).await;

    let r = reqwest::Client::new()
        .get(gw.nginx.url("/metrics/cpu?from=now-1h"))
        .header("Authorization", format!("Api-Token {token}"))
        // A client trying to pass as someone else, in every spelling nginx might pass on.
        .header("X-Tessera-Owner", "admin")
        .header("x-tessera-token-id", "forged")
        .header("X-Tessera-Management-Zones", "*")
        .header("X_Tessera_Owner", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", gw.nginx.error_log());
    let seen = gw.upstream.seen();
    assert_eq!(seen.len(), 1);
    let h = &seen[0].headers;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/metrics/cpu")
    );
    assert_eq!(
        h.get_all("x-tessera-owner").iter().collect::<Vec<_>>(),
        ["alice"]
    );
    assert_eq!(
        h.get_all("x-tessera-token-id").iter().collect::<Vec<_>>(),
        [id.as_str()]
    );
    assert_eq!(
        h.get_all("x-tessera-management-zones")
            .iter()
            .collect::<Vec<_>>(),
        ["Production"]
    );
    assert!(!h.contains_key("x_tessera_owner"), "{h:?}");
    assert!(
        !h.contains_key("authorization"),
        "the token must not reach the upstream"
    );

    // The check recorded the client's address that nginx forwarded (a trusted proxy).
    let me = alice.token_after_use(&id).await;
    assert_eq!(me["lastUsedIpAddress"], "127.0.0.1");
}

#[tokio::test]
async fn a_missing_scope_is_refused_with_tesseras_403_and_the_upstream_is_not_reached() {
    let gw = Gateway::start().await;
    let alice = gw
        .app
        .user("alice", &["metrics.read", "metrics.write"])
        .await;
    let (_, token) = alice.generate("reader", &["metrics.read"]).await;
    gw.assert_refused(
        Method::DELETE,
        "/metrics/custom.metric",
        &token,
        "metrics.write",
    )
    .await;
    let r = gw
        .send(Method::DELETE, "/metrics/custom.metric", Some(&token))
        .await;
    let body = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("metrics.write"),
        "{body}"
    );
    // The methods map to scopes: the same token may read.
    assert_eq!(
        gw.send(Method::GET, "/metrics", Some(&token))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn no_token_gets_tesseras_401_and_an_unmapped_route_is_closed() {
    let gw = Gateway::start().await;
    let r = gw.send(Method::GET, "/metrics/cpu", None).await;
    assert_eq!(r.headers()["www-authenticate"], "Api-Token");
    envelope(r, StatusCode::UNAUTHORIZED).await;

    let (_, token) = gw
        .app
        .admin()
        .await
        .generate("all", &["metrics.read", "metrics.write"])
        .await;
    for (method, path) in [(Method::GET, "/admin"), (Method::POST, "/metrics/cpu")] {
        let r = gw.send(method, path, Some(&token)).await;
        let body = envelope(r, StatusCode::FORBIDDEN).await;
        assert_eq!(
            body["error"]["message"],
            "No scope is mapped for this route"
        );
    }
    assert!(gw.upstream.seen().is_empty());
}

#[tokio::test]
async fn disabling_deleting_and_switching_off_take_effect_on_the_next_request() {
    let gw = Gateway::start().await;
    let admin = gw.app.admin().await;
    let (first, first_token) = admin.generate("first", &["metrics.read"]).await;
    let (second, second_token) = admin.generate("second", &["metrics.read"]).await;
    let (_, third_token) = admin.generate("third", &["metrics.read"]).await;
    for token in [&first_token, &second_token, &third_token] {
        assert_eq!(
            gw.send(Method::GET, "/metrics", Some(token)).await.status(),
            StatusCode::OK
        );
    }

    let r = admin
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{first}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    gw.assert_refused(Method::GET, "/metrics", &first_token, "metrics.read")
        .await;

    let r = admin
        .request(Method::DELETE, &format!("/api/v2/apiTokens/{second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    gw.assert_refused(Method::GET, "/metrics", &second_token, "metrics.read")
        .await;

    admin.set_pat_enabled(false).await;
    gw.assert_refused(Method::GET, "/metrics", &third_token, "metrics.read")
        .await;
    let r = gw.send(Method::GET, "/metrics", Some(&third_token)).await;
    let body = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disabled by an administrator"));

    admin.set_pat_enabled(true).await;
    assert_eq!(
        gw.send(Method::GET, "/metrics", Some(&third_token))
            .await
            .status(),
        StatusCode::OK
    );
}

/// Checks a new token once with this `X-Forwarded-For` and returns its last-used address.
async fn last_used_address(app: &TestApp, forwarded_for: &str) -> Value {
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let (id, token) = admin.generate("t", &["metrics.read"]).await;
    let r = reqwest::Client::new()
        .get(app.url("/api/v2/auth/check?scope=metrics.read"))
        .header("Authorization", format!("Api-Token {token}"))
        .header("X-Forwarded-For", forwarded_for)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    admin.token_after_use(&id).await["lastUsedIpAddress"].clone()
}

#[tokio::test]
async fn forwarded_for_is_read_only_from_a_trusted_proxy() {
    let behind_proxy = TestApp::spawn_with(&["--trusted-proxy", "127.0.0.0/8"]).await;
    assert_eq!(
        last_used_address(&behind_proxy, "6.6.6.6, 198.51.100.7").await,
        "198.51.100.7"
    );
    // Without --trusted-proxy the header is ignored.
    let direct = TestApp::spawn().await;
    assert_eq!(
        last_used_address(&direct, "198.51.100.7").await,
        "127.0.0.1"
    );
}
