//! A real webhook receiver on a local port: it checks each request's Standard Webhooks
//! signature with the shared secret (its own HMAC code, not the server's), answers 401 to a
//! bad one, and otherwise answers as the test scripts it (failures first, then 204).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;

/// One request as it arrived and what the receiver answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
    pub event: Value,
    pub answered: StatusCode,
}

impl Received {
    pub fn kind(&self) -> &str {
        self.event["type"].as_str().unwrap_or_default()
    }

    pub fn token_id(&self) -> Option<&str> {
        self.event["data"]["tokenId"].as_str()
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Answers to give before the normal 204, in order.
    script: VecDeque<StatusCode>,
    /// Answer every request with 503 while set.
    down: bool,
    /// Requests that followed a redirect to `/elsewhere`.
    followed: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    secret: String,
    inner: Arc<Mutex<Inner>>,
}

/// The signature of `id.timestamp.body` with `secret` (`whsec_` + base64 key, or raw bytes).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = match secret.strip_prefix("whsec_") {
        Some(encoded) => b64.decode(encoded).unwrap(),
        None => secret.as_bytes().to_vec(),
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", b64.encode(mac.finalize().into_bytes()))
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1]) {
    let id = header(&headers, "webhook-id");
    let timestamp: i64 = header(&headers, "webhook-timestamp").parse().unwrap_or(0);
    let signature = header(&headers, "webhook-signature");
    // The convention allows several space-separated signatures; Tessera sends one.
    let expected = sign(&receiver.secret, &id, timestamp, &body);
    let genuine = signature.split(' ').any(|s| s == expected);
    let mut inner = receiver.inner.lock().unwrap();
    let answered = if !genuine {
        StatusCode::UNAUTHORIZED
    } else if inner.down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        inner.script.pop_front().unwrap_or(StatusCode::NO_CONTENT)
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    inner.received.push(Received {
        id,
        timestamp,
        signature,
        event: serde_json::from_str(&body).unwrap_or(Value::Null),
        body,
        answered,
    });
    // A redirect points somewhere that counts visits: none may come.
    (answered, [("location", "/elsewhere")])
}

impl Receiver {
    pub async fn start(secret: &str) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            secret: secret.to_owned(),
            inner: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .route(
                "/elsewhere",
                axum::routing::any(|State(r): State<Receiver>| async move {
                    r.inner.lock().unwrap().followed += 1;
                    StatusCode::NO_CONTENT
                }),
            )
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// The next answers, before the normal 204s.
    pub fn script(&self, answers: &[StatusCode]) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Events the receiver accepted (answered 2xx), in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        let all = self.received();
        all.into_iter()
            .filter(|r| r.answered.is_success())
            .collect()
    }

    pub fn redirects_followed(&self) -> usize {
        self.inner.lock().unwrap().followed
    }

    /// Whether `done` comes to hold for what arrived within `within`.
    pub async fn arrives(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = std::time::Instant::now() + within;
        while !done(&self.received()) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Waits until `done` holds; panics after `within` with everything that arrived.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Received]) -> bool) {
        if !self.arrives(within, done).await {
            panic!(
                "the receiver did not get what was expected; it got {:#?}",
                self.summary()
            );
        }
    }

    /// (type, token, answer) of each request, for failure messages.
    pub fn summary(&self) -> Vec<(String, Option<String>, StatusCode)> {
        self.received()
            .iter()
            .map(|r| {
                (
                    r.kind().to_owned(),
                    r.token_id().map(str::to_owned),
                    r.answered,
                )
            })
            .collect()
    }
}
