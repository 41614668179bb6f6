//! Token generation commits requests that arrive together in one transaction: each request
//! is still answered on its own, a neighbour refused by policy fails nothing else, and every
//! token answered 201 is in force at once and audited once.
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_generated_together_are_answered_each_on_their_own() {
    let app = TestApp::spawn().await;
    let admin = Arc::new(app.admin().await);
    let alice = Arc::new(app.user("alice", &["metrics.read"]).await);
    admin.set_pat_enabled(true).await;

    // A third asks for a scope alice lacks (403), a sixth has no name (400), the rest are fine.
    let requests: Vec<_> = (0..60)
        .map(|i| {
            let (session, body, expected) = match i % 6 {
                0 | 3 => (
                    alice.clone(),
                    json!({"name": format!("t{i}"), "scopes": ["metrics.write"]}),
                    StatusCode::FORBIDDEN,
                ),
                1 | 4 => (
                    alice.clone(),
                    json!({"name": format!("t{i}"), "scopes": ["metrics.read"]}),
                    StatusCode::CREATED,
                ),
                2 => (
                    admin.clone(),
                    json!({"name": " ", "scopes": ["metrics.read"]}),
                    StatusCode::BAD_REQUEST,
                ),
                _ => (
                    admin.clone(),
                    json!({"name": format!("t{i}"), "scopes": ["metrics.read"]}),
                    StatusCode::CREATED,
                ),
            };
            tokio::spawn(async move {
                let r = session
                    .send_json(Method::POST, "/api/v2/apiTokens", body)
                    .await;
                let status = r.status();
                (expected, status, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut created = Vec::new();
    for request in requests {
        let (expected, status, body) = request.await.unwrap();
        assert_eq!(status, expected, "{body}");
        if status == StatusCode::CREATED {
            created.push((
                body["id"].as_str().unwrap().to_owned(),
                body["token"].as_str().unwrap().to_owned(),
            ));
        } else {
            let violations = body["error"]["constraintViolations"].as_array().unwrap();
            assert_eq!(violations.len(), 1, "{body}");
        }
    }
    assert_eq!(created.len(), 30);
    for (_, token) in &created {
        assert_eq!(
            app.check(token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let audit = app.audit_events().await;
    for (id, _) in &created {
        let rows = audit
            .iter()
            .filter(|e| e.event == "token.generated" && e.target.as_deref() == Some(id))
            .count();
        assert_eq!(rows, 1, "audit rows of {id}");
    }
    let generated = audit
        .iter()
        .filter(|e| e.event == "token.generated")
        .count();
    assert_eq!(
        generated,
        created.len(),
        "a refused request was audited as generated"
    );
}

/// On PostgreSQL a batch that inserted before it checked could hold the feed lock while it
/// waited on a user row that a change of that user held while it waited on the feed lock:
/// a deadlock, answered 500. Generations by two users while an admin keeps changing one of
/// them and the PAT switch: every answer is a decision, never a server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generations_meeting_user_and_settings_changes_never_fail() {
    let app = TestApp::spawn().await;
    let admin = Arc::new(app.admin().await);
    let alice = Arc::new(app.user("alice", &["metrics.read"]).await);
    let bob = Arc::new(app.user("bob", &["metrics.read"]).await);
    for round in 0..15 {
        let mut calls = Vec::new();
        for i in 0..12 {
            let who = if i % 2 == 0 {
                alice.clone()
            } else {
                bob.clone()
            };
            calls.push(tokio::spawn(async move {
                let body = json!({"name": format!("r{round}-{i}"), "scopes": ["metrics.read"]});
                who.send_json(Method::POST, "/api/v2/apiTokens", body)
                    .await
                    .status()
            }));
        }
        let (a, b) = (admin.clone(), admin.clone());
        calls.push(tokio::spawn(async move {
            let body = json!({"displayName": format!("Bob {round}")});
            a.send_json(Method::PUT, "/api/v2/tessera/users/bob", body)
                .await
                .status()
        }));
        calls.push(tokio::spawn(async move {
            b.set_pat_enabled(round % 2 == 1).await;
            StatusCode::OK
        }));
        for call in calls {
            let status = call.await.unwrap();
            assert!(!status.is_server_error(), "round {round}: {status}");
        }
    }
}
