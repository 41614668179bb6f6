//! Issue 6: slow and stalled clients are cut off and never stop others from being served.
//! (Body size, `pageSize` and sessions per user are bounded too: see tokens.rs,
//! listing.rs and sessions.rs.)
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

fn host(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes (or `limit` passes); returns what arrived and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&received).into_owned(),
                    Some(started.elapsed()),
                )
            }
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slowloris_connections_are_closed_and_others_are_served_meanwhile() {
    let app = TestApp::spawn_with(&["--header-timeout", "1s"]).await;
    let addr = host(&app);
    // 200 clients that each send a request line and then one header every 300 ms, forever.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let trickle = tokio::spawn(async move {
        let mut closed = 0;
        for round in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            closed = 0;
            for stream in &mut slow {
                let line = format!("X-Slow-{round}: 1\r\n");
                if stream.write_all(line.as_bytes()).await.is_err() {
                    closed += 1;
                }
            }
        }
        (closed, slow)
    });

    // Meanwhile, ordinary clients are served.
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let r = client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (closed_by_writes, slow) = trickle.await.unwrap();
    // After 6 s of trickling, every slow connection has been closed by the server.
    let mut reads = tokio::task::JoinSet::new();
    for mut stream in slow {
        reads.spawn(async move { read_until_closed(&mut stream, Duration::from_secs(2)).await });
    }
    let closed = reads
        .join_all()
        .await
        .iter()
        .filter(|(_, at)| at.is_some())
        .count();
    assert_eq!(
        closed, 200,
        "closed by the server: {closed} (writes failed on {closed_by_writes})"
    );
}

#[tokio::test]
async fn a_body_that_stalls_gets_a_408_envelope_and_the_connection_is_freed() {
    let app = TestApp::spawn_with(&["--body-timeout", "1s"]).await;
    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    stream
        .write_all(
            b"POST /api/session HTTP/1.1\r\nHost: tessera\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("\"code\":408"), "{response}");
    assert!(closed.is_some(), "connection kept open after the timeout");
    // The stalled client cost nobody else anything.
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_sends_a_byte_does_not_block_shutdown_forever() {
    let mut app = TestApp::spawn_with(&["--header-timeout", "30s", "--shutdown-grace", "2s"]).await;
    let _idle = TcpStream::connect(host(&app)).await.unwrap();
    let mut partial = TcpStream::connect(host(&app)).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // terminate() fails the test if the server is still running 10 s after SIGTERM.
    let status = tokio::task::block_in_place(|| app.terminate());
    assert!(status.success(), "{status:?}");
}
