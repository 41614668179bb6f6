//! Issue 15 on several nodes (PostgreSQL pass only): each webhook event is delivered by
//! one node, once, and each scheduler run is one node's.
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Received, TestApp};
use crate::webhooks::{receiving, rotate};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_two_nodes_each_event_arrives_once() {
    let a = TestApp::spawn().await;
    if a.on_sqlite() {
        return;
    }
    let b = a.join(&[]);
    let (admin_a, receiver) = receiving(&a, json!({"expiryWarningDays": [1]})).await;
    let admin_b = b.admin().await;
    let mut rotated = Vec::new();
    for i in 0..12 {
        let (session, node) = if i % 2 == 0 {
            (&admin_a, &a)
        } else {
            (&admin_b, &b)
        };
        let (id, _) = session.generate(&format!("t{i}"), &["metrics.read"]).await;
        rotate(session, &id, 0).await;
        rotated.push(id);
        // Both nodes' clocks move alike, so both schedulers want to run each time.
        node.advance_clock(Duration::from_secs(1)).await;
    }
    // A token inside the 1-day threshold: both nodes' schedulers see it due.
    let r = admin_a
        .send_json(
            reqwest::Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "soon", "scopes": ["metrics.read"], "expirationDate": "now+6h"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let soon = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        for node in [&a, &b] {
            node.advance_clock(Duration::from_secs(120)).await;
        }
    }
    let warned = |got: &[Received]| {
        got.iter()
            .any(|r| r.kind() == "token.expiring" && r.token_id() == Some(soon.as_str()))
    };
    let done = |got: &[Received]| {
        warned(got) && got.iter().filter(|r| r.kind() == "token.rotated").count() >= 12
    };
    receiver.wait_for(Duration::from_secs(20), done).await;
    // Another round of runs, then nothing left to send: a duplicate would have arrived.
    for node in [&a, &b] {
        node.advance_clock(Duration::from_secs(120)).await;
    }
    let idle = async || {
        let view: serde_json::Value = admin_b
            .get("/api/v2/tessera/webhooks/deliveries")
            .await
            .json()
            .await
            .unwrap();
        let items = view["deliveries"].as_array().unwrap().clone();
        !items.is_empty() && items.iter().all(|d| d["state"] == "delivered")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !idle().await {
        assert!(std::time::Instant::now() < deadline, "events still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let got = receiver.received();
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let all = ids.len();
    ids.dedup();
    assert_eq!(
        ids.len(),
        all,
        "an event sent twice: {:#?}",
        receiver.summary()
    );
    let mut seen: Vec<String> = got
        .iter()
        .filter(|r| r.kind() == "token.rotated")
        .filter_map(|r| r.token_id().map(str::to_owned))
        .collect();
    seen.sort();
    rotated.sort();
    assert_eq!(seen, rotated);
    let warnings = got.iter().filter(|r| r.kind() == "token.expiring").count();
    assert_eq!(warnings, 1, "{:#?}", receiver.summary());
}
