//! Issue 11: a change whose client hangs up a few milliseconds after sending it is either in
//! force in the gateway check or not made at all — never committed and then ignored.
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{RawSession, Session, TestApp};

/// Sends `request` on a fresh connection and closes it `after` later, without reading.
async fn send_and_hang_up(app: &TestApp, request: String, after: Duration) {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // The delay is the test's input: it decides where in the handler the client leaves.
    tokio::time::sleep(after).await;
    drop(stream);
}

/// How long `request` takes from sending to the first byte of the answer, right now.
async fn round_trip(app: &TestApp, request: String) -> Duration {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await.unwrap();
    started.elapsed()
}

/// The stagger of the `i`th of `n` hang-ups: spread over twice the measured handler time
/// (at least 10 ms), so on a loaded machine some still leave after the commit and some
/// before — a fixed 0–10 ms window left all 80 before the commit on a busy CI runner.
fn stagger(i: usize, n: usize, handler: Duration) -> Duration {
    let span = (handler * 2).max(Duration::from_millis(10));
    span * ((i * 37) % n) as u32 / n as u32
}

/// Waits until what the database holds (`stored`, read before and after) is stable and the
/// checks agree with it; panics with the last disagreement after 3 s. The server polls the
/// feed only once an hour in these tests (see `setup`).
async fn in_force<S: PartialEq + std::fmt::Debug, C: std::fmt::Debug>(
    mut stored: impl AsyncFnMut() -> S,
    mut checks: impl AsyncFnMut() -> C,
    agree: impl Fn(&S, &C) -> bool,
) -> S {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let before = stored().await;
        let seen = checks().await;
        let stable = stored().await == before;
        if stable && agree(&before, &seen) {
            return before;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "committed changes are not in force: stored {before:?}, checks {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server that reads the feed only once an hour (so only a change's own completion can
/// apply it), PATs on, an admin session and its raw credentials.
async fn setup() -> (TestApp, Session, RawSession) {
    let app = TestApp::spawn_with(&["--feed-poll", "1h"]).await;
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let raw = app
        .raw_session("admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    (app, admin, raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_changes_whose_client_hangs_up_are_in_force_or_not_made() {
    let (app, admin, raw) = setup().await;
    let mut tokens = Vec::new();
    for i in 0..80 {
        tokens.push(admin.generate(&format!("t{i}"), &["metrics.read"]).await);
    }
    let (spare, _) = admin.generate("spare", &["metrics.read"]).await;
    let handler = round_trip(
        &app,
        raw.request("DELETE", &format!("/api/v2/apiTokens/{spare}"), None),
    )
    .await;
    // Four rounds of 20, each spreading its hang-ups over a window four times wider: a
    // round's handlers run concurrently and take longer than the one measured alone, so
    // on a loaded machine the first window alone can end before any commit.
    for (round, chunk) in tokens.chunks(20).enumerate() {
        let hang_ups = chunk.iter().enumerate().map(|(i, (id, _))| {
            let request = if i % 2 == 0 {
                raw.request("DELETE", &format!("/api/v2/apiTokens/{id}"), None)
            } else {
                raw.request(
                    "PUT",
                    &format!("/api/v2/apiTokens/{id}"),
                    Some(r#"{"enabled":false}"#),
                )
            };
            send_and_hang_up(
                &app,
                request,
                stagger(i, 20, handler * 4u32.pow(round as u32)),
            )
        });
        futures::future::join_all(hang_ups).await;
    }

    let store = app.store().await;
    let usable = in_force(
        async || {
            let mut usable = Vec::new();
            for (id, _) in &tokens {
                usable.push(store.token(id).await.unwrap().is_some_and(|t| t.enabled));
            }
            usable
        },
        async || {
            let mut allowed = Vec::new();
            for (_, token) in &tokens {
                let status = app.check(token, "metrics.read").await.status();
                allowed.push(status == StatusCode::NO_CONTENT);
            }
            allowed
        },
        |usable, allowed| usable == allowed,
    )
    .await;
    let made = usable.iter().filter(|u| !**u).count();
    assert!(made > 0, "no change was committed: the test did not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turning_pats_off_with_a_hang_up_is_in_force_or_not_made() {
    let (app, admin, raw) = setup().await;
    let (_, token) = admin.generate("probe", &["metrics.read"]).await;
    let store = app.store().await;
    let switch = format!(
        "/api/v2/settings/objects/{}",
        tessera_server::http::settings::OBJECT_ID
    );
    let off = Some(r#"{"value":{"patEnabled":false}}"#);
    let handler = round_trip(&app, raw.request("PUT", &switch, off)).await;
    let mut made = 0;
    for i in 0..30 {
        admin.set_pat_enabled(true).await;
        let request = raw.request("PUT", &switch, off);
        send_and_hang_up(&app, request, stagger(i, 30, handler)).await;
        let enabled = in_force(
            async || store.pat_enabled().await.unwrap(),
            async || app.check(&token, "metrics.read").await.status(),
            |enabled, status| {
                *status
                    == if *enabled {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::FORBIDDEN
                    }
            },
        )
        .await;
        made += usize::from(!enabled);
    }
    assert!(made > 0, "no change was committed: the test did not run");
}
