//! Background work of a running node: the lifecycle scheduler (`service::scheduler`) and
//! webhook delivery from the outbox. Both keep their state in the database, so they carry
//! on after a restart, and on several nodes each run and each event is one node's.
//!
//! Delivery takes one event at a time under a lease (longer than an attempt can take, in
//! the database's clock): the oldest due event that is first of its token's pending ones,
//! so each token's events reach the receiver in the order they were made, and an event the
//! receiver keeps refusing holds up only its token's.
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
            match service.store().claim_webhook(&node, now, LEASE_MS).await {
                Ok(Some(event)) => match attempt(&service, &client, &node, event).await {
                    Ok(()) => continue,
                    // Not recorded: the lease stays ours and the event is sent again, so
                    // not at once (the database may be struggling).
                    Err(e) => tracing::warn!(error = %e, "recording a webhook attempt failed"),
                },
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading the webhook outbox failed"),
            }
            // Due now but not ours (another node's lease, or a race): look again shortly.
            let wait = match service.store().next_webhook_due().await {
                Ok(Some(at)) => Duration::from_millis((at - time::now()).clamp(250, 5_000) as u64),
                Ok(None) => IDLE_POLL,
                Err(_) => Duration::from_secs(1),
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
    let (status, error) = match (&policy.webhook_url, &policy.webhook_secret) {
        (None, _) => (
            None,
            Some("No webhook URL is set; delivery was turned off".to_owned()),
        ),
        // Never sent unsigned (a policy saved before a URL needed a secret).
        (Some(_), None) => (
            None,
            Some("No webhook secret is set; events are only sent signed".to_owned()),
        ),
        (Some(url), Some(secret)) => post(client, url, secret, &event).await,
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
    // Each failure is in the deliveries view; the log says so once an event is given up.
    match outcome {
        Outcome::Delivered => {}
        Outcome::GaveUp => {
            tracing::warn!(event = %event.id, kind = %event.kind, ?status, ?error, "webhook event given up after 24 h")
        }
        _ => {
            tracing::info!(event = %event.id, kind = %event.kind, ?status, ?error, ?outcome, "webhook not delivered")
        }
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
    secret: &str,
    event: &OutboxEvent,
) -> (Option<u16>, Option<String>) {
    // The receiver's clock, not the tests': receivers refuse stale timestamps.
    let timestamp = chrono::Utc::now().timestamp();
    let signed = signature::sign(secret, &event.id, timestamp, event.payload.as_bytes());
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed);
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
        Err(e) => (None, Some(describe(e))),
    }
}

/// A transport error in a line an administrator can act on: every cause, never the URL
/// (a receiver's URL may carry a credential in its path).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("No answer within {} s", ATTEMPT_TIMEOUT.as_secs());
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}
