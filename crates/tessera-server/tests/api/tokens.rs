//! Every endpoint of the Access tokens API: success and each validation error.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

#[tokio::test]
async fn generate_returns_the_token_once_in_the_documented_format() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = admin
        .send_json(Method::POST, "/api/v2/apiTokens", json!({"name": " ci ", "scopes": ["metrics.read", "slo.read"], "expirationDate": "now+30d"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let id = body["id"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "dt0c01");
    assert_eq!(parts[1].len(), 24);
    assert_eq!(parts[2].len(), 64);
    assert!(parts[1..].iter().all(|p| p
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))));
    assert_eq!(id, format!("dt0c01.{}", parts[1]));
    assert!(body["expirationDate"].as_str().unwrap().ends_with('Z'));

    let one: Value = admin
        .get(&format!("/api/v2/apiTokens/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], "ci", "names are trimmed");
    assert_eq!(one["owner"], "admin");
    assert_eq!(one["personalAccessToken"], true);
    assert_eq!(one["enabled"], true);
    assert_eq!(one["scopes"], json!(["metrics.read", "slo.read"]));
    assert!(one["modifiedDate"].is_null());
    assert!(one.get("token").is_none());
    assert!(
        !one.to_string().contains(parts[2]),
        "the secret is never returned again"
    );
}

#[tokio::test]
async fn generate_validates_every_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cases = [
        (json!({"name": "  ", "scopes": ["metrics.read"]}), "name"),
        (
            json!({"name": "x".repeat(101), "scopes": ["metrics.read"]}),
            "name",
        ),
        (json!({"name": "n", "scopes": []}), "scopes"),
        (
            json!({"name": "n", "scopes": ["metrics.read", "metrics.ingest"]}),
            "scopes[1]",
        ),
        (
            json!({"name": "n", "scopes": ["metrics.read"], "expirationDate": "2001-01-01T00:00:00Z"}),
            "expirationDate",
        ),
        (
            json!({"name": "n", "scopes": ["metrics.read"], "expirationDate": "next tuesday"}),
            "expirationDate",
        ),
        (
            json!({"name": "n", "scopes": ["metrics.read"], "expirationDate": "now+0d"}),
            "expirationDate",
        ),
    ];
    for (body, path) in cases {
        let r = admin
            .send_json(Method::POST, "/api/v2/apiTokens", body.clone())
            .await;
        let e = envelope(r, StatusCode::BAD_REQUEST).await;
        let violations = e["error"]["constraintViolations"].as_array().unwrap();
        assert!(
            violations
                .iter()
                .any(|v| v["path"] == path && v["parameterLocation"] == "PAYLOAD_BODY"),
            "{body} → {e}"
        );
    }
    // Several problems at once are all reported.
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "", "scopes": [], "expirationDate": "x"}),
        )
        .await;
    let e = envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        e["error"]["constraintViolations"].as_array().unwrap().len(),
        3,
        "{e}"
    );
}

#[tokio::test]
async fn malformed_bodies_get_the_envelope_not_a_framework_message() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let url = app.url("/api/v2/apiTokens");
    let send = |body: &'static str, content_type: &'static str| {
        admin
            .client
            .post(url.clone())
            .header("X-CSRF-Token", &admin.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    envelope(
        send("{not json", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        send(
            r#"{"name":"n","scopes":["metrics.read"],"colour":"red"}"#,
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        send(
            r#"{"name":"n","scopes":"metrics.read"}"#,
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let e = envelope(
        send(r#"{"name":"n","scopes":["metrics.read"]}"#, "text/plain")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        e["error"]["constraintViolations"][0]["parameterLocation"],
        "HEADER"
    );
    let big = format!(
        r#"{{"name":"{}","scopes":["metrics.read"]}}"#,
        "x".repeat(100_000)
    );
    let r = admin
        .client
        .post(url.clone())
        .header("X-CSRF-Token", &admin.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    let r = admin
        .client
        .patch(url.clone())
        .header("X-CSRF-Token", &admin.csrf)
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::METHOD_NOT_ALLOWED).await;
    envelope(
        admin.get("/api/v2/nothing-here").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn scopes_are_bound_to_the_callers_permissions() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let r = alice
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "n", "scopes": ["metrics.read", "slo.write"]}),
        )
        .await;
    let e = envelope(r, StatusCode::FORBIDDEN).await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "scopes[1]");
    assert!(e["error"]["constraintViolations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("slo.write"));
    // Through a token, too: the owner's permissions bound what it may create.
    let admin = app.admin().await;
    let (_, token) = alice.generate("writer", &["metrics.read"]).await;
    drop(admin);
    let api = app.token_client(&token);
    let r = api
        .send(
            Method::POST,
            "/api/v2/apiTokens",
            Some(json!({"name": "n", "scopes": ["metrics.read"]})),
        )
        .await;
    envelope(r, StatusCode::FORBIDDEN).await; // lacks apiTokens.write
}

#[tokio::test]
async fn only_admins_create_tokens_that_are_not_personal() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let body = json!({"name": "env", "scopes": ["metrics.read"], "personalAccessToken": false});
    envelope(
        alice
            .send_json(Method::POST, "/api/v2/apiTokens", body.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let admin = app.admin().await;
    let r = admin
        .send_json(Method::POST, "/api/v2/apiTokens", body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap();
    // Not a PAT: keeps working while PATs are switched off.
    admin.set_pat_enabled(false).await;
    assert_eq!(
        app.check(token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    let one: Value = admin
        .get(&format!(
            "/api/v2/apiTokens/{}",
            created["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["personalAccessToken"], false);
}

#[tokio::test]
async fn tokens_created_through_the_api_belong_to_the_calling_tokens_owner() {
    let app = TestApp::spawn().await;
    let alice = app
        .user(
            "alice",
            &["apiTokens.read", "apiTokens.write", "metrics.read"],
        )
        .await;
    let (_, token) = alice
        .generate(
            "automation",
            &["apiTokens.write", "apiTokens.read", "metrics.read"],
        )
        .await;
    let api = app.token_client(&token);
    let r = api
        .send(
            Method::POST,
            "/api/v2/apiTokens",
            Some(json!({"name": "child", "scopes": ["metrics.read"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one: Value = api
        .send(Method::GET, &format!("/api/v2/apiTokens/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["owner"], "alice");
}

#[tokio::test]
async fn generation_is_refused_while_pats_are_off() {
    let app = TestApp::spawn_with(&[]).await;
    let admin = app.admin().await;
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "n", "scopes": ["metrics.read"]}),
        )
        .await;
    let e = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(e["error"]["message"].as_str().unwrap().contains("disabled"));
}

#[tokio::test]
async fn two_hundred_concurrent_generations_are_distinct_and_usable() {
    let app = TestApp::spawn().await;
    let admin = std::sync::Arc::new(app.admin().await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            admin.generate(&format!("t{i}"), &["metrics.read"]).await
        }));
    }
    let mut tokens = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let (id, token) = task.await.unwrap();
        ids.insert(id);
        tokens.insert(token);
    }
    assert_eq!(tokens.len(), 200);
    assert_eq!(ids.len(), 200);
    for token in &tokens {
        assert_eq!(
            app.check(token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
}

#[tokio::test]
async fn non_admins_only_see_and_touch_their_own_tokens() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let bob = app.user("bob", &["metrics.read"]).await;
    let (alice_id, _) = alice.generate("alice's", &["metrics.read"]).await;
    let (bob_id, _) = bob.generate("bob's", &["metrics.read"]).await;
    let list: Value = alice.get("/api/v2/apiTokens").await.json().await.unwrap();
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["apiTokens"][0]["id"], alice_id.as_str());
    let list: Value = alice
        .get("/api/v2/apiTokens?apiTokenSelector=owner(%22bob%22)")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["totalCount"], 0,
        "a selector cannot widen what a non-admin sees"
    );
    let bob_path = format!("/api/v2/apiTokens/{bob_id}");
    envelope(alice.get(&bob_path).await, StatusCode::NOT_FOUND).await;
    envelope(
        alice
            .send_json(Method::PUT, &bob_path, json!({"enabled": false}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    envelope(
        alice
            .request(Method::DELETE, &bob_path)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // Admins see everyone's.
    let list: Value = app
        .admin()
        .await
        .get("/api/v2/apiTokens")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["totalCount"], 2);
    assert_eq!(bob.get(&bob_path).await.status(), StatusCode::OK);
}
