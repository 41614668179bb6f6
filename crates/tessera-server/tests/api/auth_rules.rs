//! SPEC §4, one test per rule, in order, through the gateway check and the API.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::domain::token::{checksum, Token};

use crate::helpers::{envelope, TestApp};

async fn unauthorized_body(app: &TestApp, header: Option<&str>) -> serde_json::Value {
    let mut request = reqwest::Client::new().get(app.url("/api/v2/auth/check?scope=metrics.read"));
    if let Some(h) = header {
        request = request.header("Authorization", h);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Api-Token");
    envelope(response, StatusCode::UNAUTHORIZED).await
}

#[tokio::test]
async fn rule1_bad_header_is_401() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    let reference = unauthorized_body(&app, None).await;
    for header in [
        format!("Bearer {token}"),
        "Api-Token".to_owned(),
        "Api-Token ".to_owned(),
        "Api-Token not-a-token".to_owned(),
        format!("Api-Token {}", token.to_lowercase()),
        format!("Api-Token {token}x"),
    ] {
        assert_eq!(
            unauthorized_body(&app, Some(&header)).await,
            reference,
            "{header}"
        );
    }
    // Tokens in query strings are not accepted.
    let r = reqwest::get(app.url(&format!(
        "/api/v2/auth/check?scope=metrics.read&api-token={token}"
    )))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rule1_bad_checksum_is_401_with_the_same_body() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    let mut broken = token.clone().into_bytes();
    let last = broken.len() - 1;
    broken[last] = if broken[last] == b'A' { b'B' } else { b'A' };
    let broken = String::from_utf8(broken).unwrap();
    let reference = unauthorized_body(&app, None).await;
    assert_eq!(
        unauthorized_body(&app, Some(&format!("Api-Token {broken}"))).await,
        reference
    );
}

#[tokio::test]
async fn rule2_unknown_id_is_401() {
    let app = TestApp::spawn().await;
    let stranger = Token::generate();
    let reference = unauthorized_body(&app, None).await;
    assert_eq!(
        unauthorized_body(&app, Some(&format!("Api-Token {}", stranger.expose()))).await,
        reference
    );
}

#[tokio::test]
async fn rule2_wrong_secret_for_a_known_id_is_401() {
    let app = TestApp::spawn().await;
    let (id, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    // Same id, another secret with a correct checksum: only the digest can tell.
    let body = format!("{id}.{}", "A".repeat(57));
    let forged = format!("{body}{}", checksum(&body));
    assert_ne!(forged, token);
    assert!(Token::parse(&forged).is_ok());
    let reference = unauthorized_body(&app, None).await;
    assert_eq!(
        unauthorized_body(&app, Some(&format!("Api-Token {forged}"))).await,
        reference
    );
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn rule3_disabled_token_is_401_and_works_again_when_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = admin.generate("t", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    assert_eq!(
        admin
            .send_json(Method::PUT, &path, json!({"enabled": false}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin
            .send_json(Method::PUT, &path, json!({"enabled": true}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn rule3_expired_token_is_401_and_still_listed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Long enough that a busy machine still checks it before it expires.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(4);
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "short-lived", "scopes": ["metrics.read"], "expirationDate": soon.to_rfc3339()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        app.check(token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    let left = soon - chrono::Utc::now() + chrono::Duration::milliseconds(200);
    tokio::time::sleep(left.to_std().unwrap_or_default()).await;
    assert_eq!(
        app.check(token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let one = admin
        .get(&format!(
            "/api/v2/apiTokens/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.status(), StatusCode::OK);
}

#[tokio::test]
async fn rule4_inactive_owner_is_401() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate("t", &["metrics.read"]).await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.cli(&["disable", "alice"], None);
    app.eventually_check(&token, "metrics.read", StatusCode::UNAUTHORIZED)
        .await;
    app.cli(&["enable", "alice"], None);
    app.eventually_check(&token, "metrics.read", StatusCode::NO_CONTENT)
        .await;
}

#[tokio::test]
async fn rule5_pats_switched_off_is_403_and_on_again_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, token) = admin.generate("t", &["metrics.read"]).await;
    admin.set_pat_enabled(false).await;
    let body = envelope(
        app.check(&token, "metrics.read").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Personal access tokens are disabled"));
    admin.set_pat_enabled(true).await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn rule5_is_checked_before_the_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, token) = admin.generate("t", &["metrics.read"]).await;
    admin.set_pat_enabled(false).await;
    let body = envelope(app.check(&token, "slo.write").await, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disabled"));
}

#[tokio::test]
async fn rule6_missing_scope_is_403_naming_the_scope() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    let body = envelope(
        app.check(&token, "metrics.write").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "Token is missing required scope. Use one of: metrics.write (Write metrics)"
    );
    // The same rule guards the API itself.
    let api = app.token_client(&token);
    let body = envelope(
        api.send(Method::GET, "/api/v2/apiTokens", None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "Token is missing required scope. Use one of: apiTokens.read (Read API tokens)"
    );
}

#[tokio::test]
async fn rule7_owner_who_lost_the_permission_is_403() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    let (_, token) = alice.generate("t", &["metrics.read", "slo.read"]).await;
    assert_eq!(
        app.check(&token, "slo.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.cli(&["update", "alice", "--permissions", "metrics.read"], None);
    let r = app
        .eventually_check(&token, "slo.read", StatusCode::FORBIDDEN)
        .await;
    let body = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("slo.read"));
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn check_sets_owner_token_and_zone_headers() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (id, token) = alice.generate("t", &["metrics.read"]).await;
    let r = app.check(&token, "metrics.read").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["x-tessera-owner"], "alice");
    assert_eq!(r.headers()["x-tessera-token-id"], id.as_str());
    assert_eq!(r.headers()["x-tessera-management-zones"], "Production");
    let (_, admin_token) = app.admin().await.generate("t", &["metrics.read"]).await;
    let r = app.check(&admin_token, "metrics.read").await;
    assert_eq!(r.headers()["x-tessera-management-zones"], "*");
    let bad = app.check(&token, "metrics.nope").await;
    let body = envelope(bad, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["constraintViolations"][0]["path"], "scope");
}

#[tokio::test]
async fn a_token_cannot_delete_or_disable_itself() {
    let app = TestApp::spawn().await;
    let (id, token) = app
        .admin()
        .await
        .generate("t", &["apiTokens.write", "apiTokens.read"])
        .await;
    let api = app.token_client(&token);
    let path = format!("/api/v2/apiTokens/{id}");
    let body = envelope(
        api.send(Method::DELETE, &path, None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["error"]["constraintViolations"][0]["path"], "id");
    envelope(
        api.send(Method::PUT, &path, Some(json!({"enabled": false})))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        api.send(Method::GET, &path, None).await.status(),
        StatusCode::OK
    );
    // Renaming itself is fine.
    assert_eq!(
        api.send(Method::PUT, &path, Some(json!({"name": "renamed"})))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn last_use_is_recorded_but_throttled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = admin.generate("t", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    let before: serde_json::Value = admin.get(&path).await.json().await.unwrap();
    assert!(before["lastUsedDate"].is_null());
    for _ in 0..5 {
        assert_eq!(
            app.check(&token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let after = admin.token_after_use(&id).await;
    assert!(after["lastUsedDate"].is_string(), "{after}");
    assert_eq!(after["lastUsedIpAddress"], "127.0.0.1");
    let first = after["lastUsedDate"].clone();
    app.check(&token, "metrics.read").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let again: serde_json::Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(
        again["lastUsedDate"], first,
        "a second use within a minute is not written"
    );
}
