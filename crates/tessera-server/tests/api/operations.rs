//! Health, readiness, metrics, the OpenAPI document, graceful shutdown.
use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn_with(&[]).await;
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_count_requests_and_token_checks_by_outcome() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    app.check(&token, "metrics.read").await;
    app.check(&token, "slo.read").await;
    app.check("nonsense", "metrics.read").await;
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"tessera_token_checks_total{outcome="allowed"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"tessera_token_checks_total{outcome="missing_scope"} 1"#));
    assert!(text.contains(r#"tessera_token_checks_total{outcome="unauthorized"} 1"#));
    assert!(text.contains("tessera_http_requests_total{route=\"/api/v2/auth/check\""));
    assert!(text.contains("tessera_http_request_duration_seconds"));
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route() {
    let app = TestApp::spawn_with(&[]).await;
    let doc: Value = reqwest::get(app.url("/api/v2/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "POST /api/session",
        "GET /api/session",
        "DELETE /api/session",
        "GET /api/v2/apiTokens",
        "POST /api/v2/apiTokens",
        "POST /api/v2/apiTokens/lookup",
        "GET /api/v2/apiTokens/{id}",
        "PUT /api/v2/apiTokens/{id}",
        "DELETE /api/v2/apiTokens/{id}",
        "POST /api/v2/apiTokens/{id}/rotate",
        "GET /api/v2/apiTokens/{id}/usage",
        "GET /api/v2/settings/objects",
        "GET /api/v2/settings/objects/{objectId}",
        "PUT /api/v2/settings/objects/{objectId}",
        "GET /api/v2/tessera/users",
        "POST /api/v2/tessera/users",
        "GET /api/v2/tessera/users/{username}",
        "PUT /api/v2/tessera/users/{username}",
        "POST /api/v2/tessera/users/{username}/password",
        "GET /api/v2/tessera/webhooks/deliveries",
        "POST /api/v2/tessera/webhooks/test",
        "GET /api/v2/auditlogs",
        "GET /api/v2/auditlogs/{id}",
        "GET /api/v2/auth/check",
        "GET /api/v2/openapi.json",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(operations, expected);
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    assert!(doc["components"]["schemas"]["RotateTokenRequest"].is_object());
    // The tests' clock is a route of debug builds (TestApp turns it on), never documented.
    assert!(doc["paths"].get("/api/test/clock").is_none());
    assert!(doc["components"]["securitySchemes"]["ApiToken"].is_object());
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let mut app = TestApp::spawn_with(&[]).await;
    let status = app.terminate();
    assert!(status.success(), "{status:?}");
    assert!(app.logs().contains("shut down"));
}
