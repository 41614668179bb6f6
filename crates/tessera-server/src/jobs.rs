//! Background work of a running node: the lifecycle scheduler (`service::scheduler`) and
//! webhook delivery from the outbox. Both keep their state in the database, so they carry
//! on after a restart, and on several nodes each run and each event is one node's.
//!
//! Delivery takes the oldest pending event only (a lease on it, longer than an attempt
//! can take), so events reach the receiver in the order they were made; a failing receiver
//! holds the queue until it answers or the event is 24 h old.
use std::time::{Duration, Instant};

use crate::domain::signature;
use crate::domain::time::{self, Millis};
use crate::service::{webhooks, Service};
use crate::store::{Attempt, OutboxEvent, Outcome};

/// How long an attempt may take: the receiver's whole answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// An event's lease: longer than an attempt, so no two nodes send it at once.
const LEASE_MS: Millis = 30_000;
/// The longest a worker sleeps before looking at the queue again (events queued by
/// another node wake only that node).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Runs the lifecycle scheduler every `every` (and when the tests' clock moves).
pub fn spawn_scheduler(service: Service, node: String, every: Duration) {
    tokio::spawn(async move {
        let mut moves = time::clock_moves();
        loop {
            if let Err(e) = service.run_lifecycle(&node).await {
                tracing::warn!(error = %e, "the lifecycle scheduler's run failed; retrying next time");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = moves.changed() => {}
            }
        }
    });
}

/// Delivers webhook events as node `node` until the process ends.
pub fn spawn_delivery(service: Service, node: String) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tessera-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?;
    tokio::spawn(async move {
        let mut moves = time::clock_moves();
        loop {
            let now = time::now();
            match service
                .store()
                .claim_webhook(&node, now, now + LEASE_MS)
                .await
            {
                Ok(Some(event)) => {
                    if let Err(e) = attempt(&service, &client, &node, event).await {
                        tracing::warn!(error = %e, "recording a webhook attempt failed");
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading the webhook outbox failed"),
            }
            let wait = match service.store().next_webhook_due().await {
                Ok(Some(at)) => Duration::from_millis((at - time::now()).clamp(100, 5_000) as u64),
                _ => IDLE_POLL,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = service.webhooks_woken() => {}
                _ = moves.changed() => {}
            }
        }
    });
    Ok(())
}

/// One attempt at `event`, recorded with what follows from it.
async fn attempt(
    service: &Service,
    client: &reqwest::Client,
    node: &str,
    event: OutboxEvent,
) -> anyhow::Result<()> {
    let policy = service.lifecycle_policy().await?;
    let at = time::now();
    let started = Instant::now();
    let (status, error) = match &policy.webhook_url {
        None => (
            None,
            Some("No webhook URL is set; delivery was turned off".to_owned()),
        ),
        Some(url) => post(client, url, policy.webhook_secret.as_deref(), &event).await,
    };
    let outcome = if policy.webhook_url.is_none() {
        Outcome::Cancelled
    } else if status.is_some_and(|s| (200..300).contains(&s)) {
        Outcome::Delivered
    } else {
        match webhooks::retry_at(event.created_at, event.attempts + 1, time::now()) {
            Some(next) => Outcome::RetryAt(next),
            None => Outcome::GaveUp,
        }
    };
    if outcome != Outcome::Delivered {
        tracing::warn!(event = %event.id, kind = %event.kind, ?status, ?error, ?outcome, "webhook not delivered");
    }
    let attempt = Attempt {
        at,
        status,
        error,
        duration_ms: started.elapsed().as_millis() as i64,
    };
    service
        .store()
        .finish_webhook(&event.id, node, &attempt, outcome)
        .await?;
    Ok(())
}

/// POSTs the event, signed; the receiver's status, or why none came.
async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: Option<&str>,
    event: &OutboxEvent,
) -> (Option<u16>, Option<String>) {
    // The receiver's clock, not the tests': receivers refuse stale timestamps.
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(secret) = secret {
        let signed = signature::sign(secret, &event.id, timestamp, event.payload.as_bytes());
        request = request.header("webhook-signature", signed);
    }
    match request.body(event.payload.clone()).send().await {
        Ok(response) => {
            let status = response.status();
            let error = if status.is_redirection() {
                Some(format!("{status}: redirects are not followed"))
            } else if !status.is_success() {
                Some(format!("{status}"))
            } else {
                None
            };
            (Some(status.as_u16()), error)
        }
        Err(e) => (None, Some(describe(&e))),
    }
}

/// A transport error in a line an administrator can act on.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("No answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if e.is_connect() {
        let cause = std::error::Error::source(e).map_or(String::new(), |s| format!(": {s}"));
        format!("Could not connect{cause}")
    } else {
        e.to_string()
    }
}
