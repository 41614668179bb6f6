//! Issue 17: a token's rate limit holds over several nodes (PostgreSQL pass only; on
//! SQLite one node owns its file and the test returns at once). The tolerance argued in
//! `meter/rate.rs`: never more than the limit in a window; at most one chunk (a tenth of
//! the limit) per other node held back.
use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::TestApp;

const LIMIT: u32 = 50;
const CHUNK: u32 = LIMIT / 10;

/// Moves every node's test clock to one second past the start of the next minute, so the
/// whole test runs in one window.
async fn start_of_a_minute(nodes: &[&TestApp]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let to_next = 60_000 - now % 60_000 + 1_000;
    for node in nodes {
        node.advance_clock(Duration::from_millis(to_next)).await;
    }
}

async fn allowed(node: &TestApp, token: &str, requests: usize) -> u32 {
    let mut allowed = 0;
    for _ in 0..requests {
        match node.check(token, "metrics.read").await.status() {
            StatusCode::NO_CONTENT => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    allowed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_holds_over_two_nodes() {
    let a = TestApp::spawn_with(&[]).await;
    if a.on_sqlite() {
        return;
    }
    a.admin().await.set_pat_enabled(true).await;
    let b = a.join(&[]);
    let alice = a.user("alice", &["metrics.read"]).await;
    let (_, spread) = alice.generate_limited(&["metrics.read"], LIMIT).await;
    let (_, one_sided) = alice.generate_limited(&["metrics.read"], LIMIT).await;
    // Both tokens known to both nodes before the window starts.
    b.eventually_check(&spread, "metrics.read", StatusCode::NO_CONTENT)
        .await;
    b.eventually_check(&one_sided, "metrics.read", StatusCode::NO_CONTENT)
        .await;
    start_of_a_minute(&[&a, &b]).await;

    // Requests spread over both nodes, concurrently, far past the limit: exactly the limit
    // is allowed (each node uses up what it reserved).
    let (on_a, on_b) = tokio::join!(
        allowed(&a, &spread, 3 * LIMIT as usize),
        allowed(&b, &spread, 3 * LIMIT as usize)
    );
    println!("spread: {on_a} on a + {on_b} on b of {LIMIT}");
    assert_eq!(on_a + on_b, LIMIT, "{on_a} + {on_b}");
    assert!(on_a > 0 && on_b > 0);

    // A client that leaves node a after three requests: a holds the rest of its chunk,
    // so b allows at most LIMIT - CHUNK, and never more than the limit in all.
    let first = allowed(&a, &one_sided, 3).await;
    let then = allowed(&b, &one_sided, 2 * LIMIT as usize).await;
    println!("one-sided: {first} on a, then {then} on b of {LIMIT}");
    assert_eq!(first, 3);
    assert!(first + then <= LIMIT);
    assert!(first + then >= LIMIT - CHUNK, "{first} + {then}");
}
