//! Issue 12: a node that has lost its database (the others have not) refuses checks once it
//! cannot confirm it is current, and nginx (`proxy_next_upstream http_503` in the shipped
//! config) answers from a node that can — a revocation holds through the proxy all along.
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Relay, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nginx_routes_around_a_node_that_cannot_confirm_it_is_current() {
    let args = ["--max-staleness", "1s", "--trusted-proxy", "127.0.0.1"];
    let a = TestApp::spawn_with(&args).await;
    if a.on_sqlite() {
        return;
    }
    let admin = a.admin().await;
    admin.set_pat_enabled(true).await;
    let relay = Relay::start(Relay::target_of(&a.db_url)).await;
    let b = TestApp::on_database(relay.url_for(&a.db_url), &args);
    let upstream = crate::nginx::Upstream::start().await;
    let nodes = [&a, &b].map(|n| n.base.trim_start_matches("http://").to_owned());
    let (nginx, _) = crate::nginx::Nginx::start_cluster(&[&nodes[0], &nodes[1]], upstream.addr);
    let alice = a.user("alice", &["metrics.read"]).await;
    let (id, token) = alice.generate("t", &["metrics.read"]).await;
    let through = || async {
        reqwest::Client::new()
            .get(nginx.url("/metrics/cpu"))
            .header("Authorization", format!("Api-Token {token}"))
            .send()
            .await
            .unwrap()
            .status()
    };
    b.eventually_check(&token, "metrics.read", StatusCode::NO_CONTENT)
        .await;
    let admin_on_b = b.admin().await;
    assert_eq!(
        admin_on_b.get("/api/v2/auditlogs").await.status(),
        StatusCode::OK
    );

    relay.cut();
    let cut = Instant::now();
    while b.check(&token, "metrics.read").await.status() != StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            cut.elapsed() < Duration::from_secs(10),
            "b never noticed it lost its database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..12 {
        assert_eq!(through().await, StatusCode::OK, "{}", nginx.error_log());
    }
    // Admin reads on a stale node could miss a demotion made elsewhere: refused too.
    for path in ["/api/v2/auditlogs", "/api/v2/tessera/users"] {
        let status = admin_on_b.get(path).await.status();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
    // Revoked on a; b cannot hear of it, so it must not be the one that answers.
    let r = admin
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for _ in 0..12 {
        assert_eq!(
            through().await,
            StatusCode::UNAUTHORIZED,
            "{}",
            nginx.error_log()
        );
    }
    assert_eq!(
        b.check(&token, "metrics.read").await.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "b was stale throughout"
    );
}
