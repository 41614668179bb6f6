//! Changing tokens after generation: rename, rescope, toggle, look up, delete.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

#[tokio::test]
async fn update_renames_replaces_scopes_and_toggles() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, _) = admin.generate("old", &["metrics.read", "slo.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    assert_eq!(
        admin
            .send_json(Method::PUT, &path, json!({"enabled": false}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let one: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(one["enabled"], false);
    assert!(one["modifiedDate"].is_null(), "enabling does not modify");
    let r = admin
        .send_json(
            Method::PUT,
            &path,
            json!({"name": "new", "scopes": ["entities.read"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let one: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(one["name"], "new");
    assert_eq!(
        one["scopes"],
        json!(["entities.read"]),
        "scopes are a full replacement"
    );
    assert!(one["modifiedDate"].is_string());
    assert_eq!(one["enabled"], false, "untouched fields stay");
    for (body, path_field) in [
        (json!({"name": ""}), "name"),
        (json!({"scopes": []}), "scopes"),
        (json!({"scopes": ["x.y"]}), "scopes[0]"),
    ] {
        let e = envelope(
            admin.send_json(Method::PUT, &path, body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["error"]["constraintViolations"][0]["path"], path_field);
    }
    envelope(
        admin
            .send_json(Method::PUT, &path, json!({"owner": "bob"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let missing = format!("/api/v2/apiTokens/dt0c01.{}", "A".repeat(24));
    envelope(
        admin
            .send_json(Method::PUT, &missing, json!({"name": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let e = envelope(
        admin
            .send_json(Method::PUT, "/api/v2/apiTokens/nope", json!({"name": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        e["error"]["constraintViolations"][0]["parameterLocation"],
        "PATH"
    );
}

#[tokio::test]
async fn update_scopes_are_bound_to_the_owners_permissions() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (id, _) = alice.generate("t", &["metrics.read"]).await;
    let r = alice
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"scopes": ["slo.write"]}),
        )
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn lookup_finds_metadata_by_token_never_the_secret() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = admin.generate("t", &["metrics.read"]).await;
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens/lookup",
            json!({"token": token}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], id.as_str());
    assert!(!body.to_string().contains(&token));
    let unknown = tessera_server::domain::token::Token::generate();
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens/lookup",
            json!({"token": unknown.expose()}),
        )
        .await;
    envelope(r, StatusCode::NOT_FOUND).await;
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens/lookup",
            json!({"token": "garbage"}),
        )
        .await;
    let e = envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "token");
}

#[tokio::test]
async fn delete_is_permanent() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = admin.generate("t", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    assert_eq!(
        admin
            .request(Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    envelope(admin.get(&path).await, StatusCode::NOT_FOUND).await;
    envelope(
        admin.request(Method::DELETE, &path).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
