//! Issue 6: SIGKILL in the middle of concurrent token generation loses nothing that was
//! acknowledged, half-writes nothing, and leaves a sound database.
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::TestApp;

const CLIENTS: usize = 16;

#[derive(Default)]
struct Outcome {
    /// (name, token) for every 201 that reached the client.
    acknowledged: Vec<(String, String)>,
    /// Names whose request failed in any way (no 201 seen).
    failed: Vec<String>,
}

/// Generates tokens until the server stops answering.
async fn generate_until_gone(
    client: reqwest::Client,
    url: String,
    csrf: String,
    worker: usize,
    successes: Arc<AtomicUsize>,
) -> Outcome {
    let mut outcome = Outcome::default();
    for n in 0.. {
        let name = format!("w{worker}-{n}");
        let response = client
            .post(&url)
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"name": name, "scopes": ["metrics.read"]}))
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::CREATED => match r.json::<Value>().await {
                Ok(body) => {
                    let token = body["token"].as_str().unwrap().to_owned();
                    outcome.acknowledged.push((name, token));
                    successes.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => {
                    outcome.failed.push(name);
                    break;
                }
            },
            Ok(r) => panic!("{name}: unexpected {}", r.status()),
            Err(_) => {
                outcome.failed.push(name);
                break;
            }
        }
    }
    outcome
}

async fn integrity_check(db_url: &str) -> String {
    let mut conn = sqlx::SqliteConnection::connect(db_url).await.unwrap();
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_generation_loses_no_acknowledged_token() {
    let mut app = TestApp::spawn().await;
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for round in 0..3 {
        let admin = app.admin().await;
        let successes = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|w| {
                tokio::spawn(generate_until_gone(
                    admin.client.clone(),
                    app.url("/api/v2/apiTokens"),
                    admin.csrf.clone(),
                    round * 100 + w,
                    successes.clone(),
                ))
            })
            .collect();
        // Kill once every client is mid-stream: some answered, more in flight.
        while successes.load(Ordering::SeqCst) < 40 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        app = tokio::task::block_in_place(|| app.restart());
        for worker in workers {
            let outcome = worker.await.unwrap();
            acknowledged.extend(outcome.acknowledged);
            failed.extend(outcome.failed);
        }

        if app.on_sqlite() {
            assert_eq!(integrity_check(&app.db_url).await, "ok", "round {round}");
        }
        for (name, token) in &acknowledged {
            let status = app.check(token, "metrics.read").await.status();
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "acknowledged {name} lost in round {round}"
            );
        }
        // Whatever was stored is either acknowledged or one of the requests in flight,
        // and is whole: a name, its scopes, its owner.
        let admin = app.admin().await;
        let tokens = admin.all_tokens("+scopes").await;
        let acked: HashSet<&str> = acknowledged.iter().map(|(n, _)| n.as_str()).collect();
        let in_flight: HashSet<&str> = failed.iter().map(String::as_str).collect();
        let mut stored_unacknowledged = 0;
        for token in &tokens {
            let name = token["name"].as_str().unwrap();
            assert_eq!(token["scopes"], json!(["metrics.read"]), "{token}");
            assert_eq!(token["owner"], "admin", "{token}");
            if !acked.contains(name) {
                assert!(
                    in_flight.contains(name),
                    "stored token {name} was never requested"
                );
                stored_unacknowledged += 1;
            }
        }
        assert_eq!(tokens.len(), acked.len() + stored_unacknowledged);
        // Their secrets never reached anyone, so they can never be used; at most one per
        // client was in flight.
        assert!(stored_unacknowledged <= CLIENTS * (round + 1));
    }
}
