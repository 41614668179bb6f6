//! Issue 15: `POST /api/v2/apiTokens/{id}/rotate` — a new token replaces an old one, which
//! keeps working for the grace period and is then refused (on both databases; the grace
//! is passed with the debug build's test clock, not by waiting).
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, Session, TestApp};

async fn rotate(session: &Session, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/api/v2/apiTokens/{id}/rotate");
    session.send_json(Method::POST, &path, body).await
}

async fn rotated(session: &Session, id: &str, body: Value) -> (String, String, Value) {
    let r = rotate(session, id, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let new_id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    (new_id, token, created)
}

async fn metadata(session: &Session, id: &str) -> Value {
    session
        .get(&format!("/api/v2/apiTokens/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rotated_token_is_replaced_by_one_like_it_and_refused_at_once() {
    let app = TestApp::spawn().await;
    app.admin().await.set_pat_enabled(true).await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    let r = alice
        .send_json(Method::POST, "/api/v2/apiTokens",
            json!({"name": "exporter", "scopes": ["metrics.read", "slo.read"], "expirationDate": "now+30d"}))
        .await;
    let old: Value = r.json().await.unwrap();
    let (old_id, old_token) = (old["id"].as_str().unwrap(), old["token"].as_str().unwrap());
    let (new_id, new_token, created) = rotated(&alice, old_id, json!({})).await;
    assert_ne!(new_id, old_id);
    assert_eq!(
        app.check(old_token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.check(&new_token, "slo.read").await.status(),
        StatusCode::NO_CONTENT
    );

    let new = metadata(&alice, &new_id).await;
    assert_eq!(new["name"], "exporter");
    assert_eq!(new["owner"], "alice");
    assert_eq!(new["personalAccessToken"], true);
    assert_eq!(new["scopes"], json!(["metrics.read", "slo.read"]));
    assert_eq!(new["additionalMetadata"], json!({"rotatedFrom": old_id}));
    assert_eq!(
        metadata(&alice, old_id).await["additionalMetadata"],
        json!({"rotatedTo": new_id})
    );
    // The same lifetime length again: 30 days from now (to the second).
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["expirationDate"].as_str().unwrap()).unwrap();
    let created_at =
        chrono::DateTime::parse_from_rfc3339(new["creationDate"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created_at).num_seconds(), 30 * 86_400);

    // Once only; the new token can be rotated in its turn.
    let body = envelope(
        rotate(&alice, old_id, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&new_id),
        "{body}"
    );
    rotated(&alice, &new_id, json!({"expirationDate": "now+1d"})).await;
}

#[tokio::test]
async fn the_old_token_works_through_the_grace_period_and_not_after() {
    let app = TestApp::spawn().await;
    app.admin().await.set_pat_enabled(true).await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (old_id, old_token) = alice.generate("deploy", &["metrics.read"]).await;
    let (_, new_token, _) = rotated(&alice, &old_id, json!({"graceSeconds": 3600})).await;
    assert_eq!(
        app.check(&old_token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.advance_clock(Duration::from_secs(3590)).await;
    assert_eq!(
        app.check(&old_token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.advance_clock(Duration::from_secs(11)).await;
    assert_eq!(
        app.check(&old_token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.check(&new_token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    // And after a restart (the expiry is stored, not remembered).
    let app = app.restart();
    app.advance_clock(Duration::from_secs(3601)).await;
    assert_eq!(
        app.check(&old_token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_token_may_rotate_itself_and_the_audit_log_links_both() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let alice = app
        .user("alice", &["apiTokens.write", "metrics.read"])
        .await;
    let (id, token) = alice
        .generate("self", &["apiTokens.write", "metrics.read"])
        .await;
    let r = app
        .token_client(&token)
        .send(
            Method::POST,
            &format!("/api/v2/apiTokens/{id}/rotate"),
            Some(json!({"graceSeconds": 60})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let new_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let log: Value = admin
        .get(&format!("/api/v2/auditlogs?filter=entityId(\"{id}\")"))
        .await
        .json()
        .await
        .unwrap();
    let rotated = log["auditLogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().unwrap().starts_with("token.rotated"))
        .expect("token.rotated is audited");
    assert_eq!(rotated["eventType"], "UPDATE");
    assert_eq!(rotated["category"], "TOKEN");
    let ops = rotated["patch"].as_array().unwrap();
    assert!(
        ops.iter()
            .any(|op| op["path"] == "/rotatedTo" && op["value"] == new_id.as_str()),
        "{ops:?}"
    );
    let log: Value = admin
        .get(&format!("/api/v2/auditlogs?filter=entityId(\"{new_id}\")"))
        .await
        .json()
        .await
        .unwrap();
    assert!(log["auditLogs"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("rotatedFrom={id}")));
}

#[tokio::test]
async fn rotation_is_refused_where_a_new_token_would_be() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    let bob = app.user("bob", &["metrics.read"]).await;
    let (id, _) = alice.generate("both", &["metrics.read", "slo.read"]).await;

    // Out of range or unknown input: 400, with the field named.
    let body = envelope(
        rotate(&alice, &id, json!({"graceSeconds": 86_401})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "graceSeconds"
    );
    envelope(
        rotate(&alice, &id, json!({"graceSeconds": -1})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        rotate(&alice, &id, json!({"expirationDate": "yesterday"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        rotate(&alice, &id, json!({"grace": 5})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Someone else's token: not found, as for every other operation.
    envelope(rotate(&bob, &id, json!({})).await, StatusCode::NOT_FOUND).await;

    // The owner lost a permission the token carries: the new token could not have it.
    app.cli(&["update", "alice", "--permissions", "metrics.read"], None);
    let body = envelope(rotate(&alice, &id, json!({})).await, StatusCode::FORBIDDEN).await;
    assert!(body.to_string().contains("slo.read"), "{body}");

    // Disabled: enable it first (409), and the PAT switch holds (403).
    let (id, _) = alice.generate("off", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    alice
        .send_json(Method::PUT, &path, json!({"enabled": false}))
        .await;
    envelope(rotate(&alice, &id, json!({})).await, StatusCode::CONFLICT).await;
    alice
        .send_json(Method::PUT, &path, json!({"enabled": true}))
        .await;
    admin.set_pat_enabled(false).await;
    envelope(rotate(&alice, &id, json!({})).await, StatusCode::FORBIDDEN).await;
    admin.set_pat_enabled(true).await;
    rotated(&alice, &id, json!({})).await;
}
