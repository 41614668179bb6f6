//! Issue 17: per-token rate limits (check and API, one window per minute, over all nodes)
//! and usage counts per hour.
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn a_rate_limit_is_set_shown_changed_removed_and_validated() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (id, _) = alice.generate_limited(&["metrics.read"], 3).await;
    let path = format!("/api/v2/apiTokens/{id}");
    let limit = |t: &Value| t["additionalMetadata"]["rateLimitPerMinute"].clone();
    let got: Value = alice.get(&path).await.json().await.unwrap();
    assert_eq!(limit(&got), json!(3));
    for bad in [json!(0), json!(1_000_001), json!(-1), json!("10")] {
        let body = json!({"name": "x", "scopes": ["metrics.read"], "rateLimitPerMinute": bad});
        let r = alice
            .send_json(Method::POST, "/api/v2/apiTokens", body)
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let r = alice
            .send_json(Method::PUT, &path, json!({"rateLimitPerMinute": bad}))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = alice
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "x", "scopes": ["metrics.read"], "rateLimitPerMinute": 0}),
        )
        .await;
    let body = envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "rateLimitPerMinute"
    );
    let r = alice
        .send_json(Method::PUT, &path, json!({"rateLimitPerMinute": 500}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        limit(&alice.get(&path).await.json().await.unwrap()),
        json!(500)
    );
    // Absent leaves it; null removes it.
    alice
        .send_json(Method::PUT, &path, json!({"name": "renamed"}))
        .await;
    assert_eq!(
        limit(&alice.get(&path).await.json().await.unwrap()),
        json!(500)
    );
    let r = alice
        .send_json(Method::PUT, &path, json!({"rateLimitPerMinute": null}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        limit(&alice.get(&path).await.json().await.unwrap()),
        Value::Null
    );
    // Each change is audited with what it replaced.
    let events = app.audit_events().await;
    let changes: Vec<_> = events
        .iter()
        .filter(|e| {
            e.event == "token.updated"
                && e.patch
                    .as_deref()
                    .unwrap_or("")
                    .contains("rateLimitPerMinute")
        })
        .collect();
    assert_eq!(changes.len(), 2, "{events:?}");
}

#[tokio::test]
async fn the_check_and_the_api_refuse_past_the_limit_until_the_minute_ends() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read", "apiTokens.read"]).await;
    let (id, token) = alice
        .generate_limited(&["metrics.read", "apiTokens.read"], 3)
        .await;
    // The whole test inside one minute.
    app.advance_to_next(Duration::from_secs(60)).await;
    for remaining in ["2", "1", "0"] {
        let r = app.check(&token, "metrics.read").await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&r, "x-ratelimit-limit"), "3");
        assert_eq!(header(&r, "x-ratelimit-remaining"), remaining);
        let reset: u64 = header(&r, "x-ratelimit-reset").parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        assert!(r.headers().get("retry-after").is_none());
    }
    let r = app.check(&token, "metrics.read").await;
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert_eq!(header(&r, "x-ratelimit-reset"), retry.to_string());
    let body = envelope(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("3 requests per minute"));
    // The API counts against the same limit.
    let api = app.token_client(&token);
    let r = api
        .send(Method::GET, &format!("/api/v2/apiTokens/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "x-ratelimit-limit"), "3");
    // A new minute, a new window.
    app.advance_clock(Duration::from_secs(60)).await;
    let r = api
        .send(Method::GET, &format!("/api/v2/apiTokens/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    // A token without a limit carries no rate headers.
    let (_, free) = alice.generate("free", &["metrics.read"]).await;
    let r = app.check(&free, "metrics.read").await;
    assert!(r.headers().get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn a_limited_token_cannot_lift_its_own_limit_nor_make_a_less_limited_token() {
    let app = TestApp::spawn().await;
    let alice = app
        .user(
            "alice",
            &["apiTokens.write", "apiTokens.read", "metrics.read"],
        )
        .await;
    let (id, token) = alice
        .generate_limited(&["apiTokens.write", "apiTokens.read", "metrics.read"], 100)
        .await;
    let api = app.token_client(&token);
    let path = format!("/api/v2/apiTokens/{id}");
    for lift in [json!(null), json!(101)] {
        let r = api
            .send(
                Method::PUT,
                &path,
                Some(json!({"rateLimitPerMinute": lift})),
            )
            .await;
        let body = envelope(r, StatusCode::FORBIDDEN).await;
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("own rate limit"));
    }
    // A token it generates is limited as it is, or more.
    let limit_of = |id: String| {
        let alice = &alice;
        async move {
            let t: Value = alice
                .get(&format!("/api/v2/apiTokens/{id}"))
                .await
                .json()
                .await
                .unwrap();
            t["additionalMetadata"]["rateLimitPerMinute"].clone()
        }
    };
    let generate = |body: Value| api.send(Method::POST, "/api/v2/apiTokens", Some(body));
    let r = generate(json!({"name": "child", "scopes": ["metrics.read"]})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let child: Value = r.json().await.unwrap();
    assert_eq!(
        limit_of(child["id"].as_str().unwrap().to_owned()).await,
        json!(100)
    );
    let r =
        generate(json!({"name": "c", "scopes": ["metrics.read"], "rateLimitPerMinute": 5})).await;
    let five: Value = r.json().await.unwrap();
    assert_eq!(
        limit_of(five["id"].as_str().unwrap().to_owned()).await,
        json!(5)
    );
    let r =
        generate(json!({"name": "c", "scopes": ["metrics.read"], "rateLimitPerMinute": 101})).await;
    let body = envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "rateLimitPerMinute"
    );
    // Rotating an unlimited token through it gives a token limited as it is.
    let (free, _) = alice.generate("free", &["metrics.read"]).await;
    let r = api
        .send(
            Method::POST,
            &format!("/api/v2/apiTokens/{free}/rotate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    assert_eq!(
        limit_of(rotated["id"].as_str().unwrap().to_owned()).await,
        json!(100)
    );
    // Lowering its own limit is fine; its owner may lift it.
    let r = api
        .send(Method::PUT, &path, Some(json!({"rateLimitPerMinute": 50})))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = alice
        .send_json(Method::PUT, &path, json!({"rateLimitPerMinute": null}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_rotated_token_shares_its_successors_window_during_the_grace_period() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (id, old) = alice.generate_limited(&["metrics.read"], 4).await;
    app.advance_to_next(Duration::from_secs(60)).await;
    let r = alice
        .send_json(
            Method::POST,
            &format!("/api/v2/apiTokens/{id}/rotate"),
            json!({"graceSeconds": 600}),
        )
        .await;
    let new = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut allowed = 0;
    for token in [&old, &new, &old, &new, &old, &new] {
        if app.check(token, "metrics.read").await.status() == StatusCode::NO_CONTENT {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 4, "old and new together get one limit");
}

#[tokio::test]
async fn usage_counts_requests_by_hour_scope_and_outcome_and_survives_a_restart() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read", "metrics.write"]).await;
    let (id, token) = alice.generate_limited(&["metrics.read"], 4).await;
    let path = format!("/api/v2/apiTokens/{id}/usage");
    // The counted requests inside one hour (and one rate-limit minute).
    app.advance_to_next(Duration::from_secs(3600)).await;
    for _ in 0..2 {
        assert_eq!(
            app.check(&token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        app.check(&token, "metrics.write").await.status(),
        StatusCode::FORBIDDEN
    );
    // An API call the token may not make (no apiTokens.read): refused under its scope.
    let api = app.token_client(&token);
    let r = api.send(Method::GET, "/api/v2/apiTokens", None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The limit (4) is used up: the next check and API call are limited.
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let r = api.send(Method::GET, "/api/v2/apiTokens", None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    let usage: Value = alice.get(&path).await.json().await.unwrap();
    assert_eq!(usage["tokenId"], id.as_str());
    assert_eq!(
        usage["total"],
        json!({"allowed": 2, "refused": 2, "limited": 2})
    );
    let hours = usage["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 1, "{usage}");
    assert_eq!(
        hours[0]["byScope"],
        json!({
            "*": {"allowed": 0, "refused": 0, "limited": 1},
            "apiTokens.read": {"allowed": 0, "refused": 1, "limited": 0},
            "metrics.read": {"allowed": 2, "refused": 0, "limited": 1},
            "metrics.write": {"allowed": 0, "refused": 1, "limited": 0},
        })
    );
    assert!(
        hours[0]["start"].as_str().unwrap().ends_with(":00:00.000Z"),
        "{usage}"
    );
    // Only who may see the token sees its usage.
    let bob = app.user("bob", &["metrics.read"]).await;
    assert_eq!(bob.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.admin().await.get(&path).await.status(), StatusCode::OK);

    // Counts not yet written when the server is stopped are written at shutdown.
    app.advance_clock(Duration::from_secs(60)).await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    let app = app.restart_after_sigterm();
    let alice = app.sign_in("alice", "alice-password-1").await;
    let usage: Value = alice.get(&path).await.json().await.unwrap();
    assert_eq!(usage["total"]["allowed"], 3, "{usage}");
}
