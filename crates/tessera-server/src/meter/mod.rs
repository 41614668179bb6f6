//! What the gate counts: per-token rate limits (`rate`) and usage counts (`usage`), and
//! the loop that writes usage in batches.
pub mod rate;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use tessera_api::Scope;

use crate::auth::TokenPrincipal;
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::store::Store;
pub use rate::RateState;
pub use usage::Outcome;

/// How often counted usage is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Meter {
    pub rates: rate::RateLimiter,
    pub usage: usage::UsageRecorder,
}

/// `X-RateLimit-*` (and on a refusal `Retry-After`) for a limited token's answer.
pub fn set_headers(headers: &mut axum::http::HeaderMap, state: &RateState, now: Millis) {
    let reset = state.reset_secs(now);
    headers.insert("x-ratelimit-limit", state.limit.into());
    headers.insert("x-ratelimit-remaining", state.remaining.into());
    headers.insert("x-ratelimit-reset", reset.into());
    if !state.allowed {
        headers.insert(axum::http::header::RETRY_AFTER, reset.into());
    }
}

impl Meter {
    /// The token's rate limit for one request: None when it has none. A refusal is counted
    /// (scope `scope`, `*` when not known yet) and answered with 429 and its headers.
    pub async fn limit(
        &self,
        store: &Arc<dyn Store>,
        principal: &TokenPrincipal,
        scope: Option<Scope>,
    ) -> Result<Option<RateState>, ApiError> {
        let Some(limit) = principal.token.rate_limit else {
            return Ok(None);
        };
        let key = principal
            .token
            .rotated_to
            .as_deref()
            .unwrap_or(&principal.token_id);
        let state =
            self.rates
                .acquire(store, key, limit)
                .await
                .map_err(|rate::Refused::Store(e)| {
                    tracing::warn!(error = %e, "reserving a rate limit window failed");
                    ApiError::Unavailable(
                        "The database cannot be reached; try again shortly".into(),
                    )
                })?;
        let now = time::now();
        if !state.allowed {
            self.usage
                .record(&principal.token_id, scope, Outcome::Limited, now);
            return Err(ApiError::RateLimited(state, now));
        }
        Ok(Some(state))
    }

    pub fn record(&self, token_id: &str, scope: Option<Scope>, outcome: Outcome) {
        self.usage.record(token_id, scope, outcome, time::now());
    }
}

/// Writes usage every `FLUSH_EVERY` and prunes old windows and usage (the shutdown writes
/// the last batch).
pub fn spawn_flusher(meter: Arc<Meter>, store: Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune: Millis = 0;
        loop {
            tick.tick().await;
            if let Err(e) = meter.usage.flush(&*store).await {
                tracing::warn!(error = %e, "writing token usage failed; kept for the next try");
            }
            let now = time::now();
            if now - last_prune >= 60_000 {
                last_prune = now;
                meter.rates.forget_old(now);
                let keep = now - usage::KEEP_DAYS * 24 * usage::HOUR_MS;
                // Ten minutes of windows are kept: a node whose clock is behind still
                // counts into a window the others would otherwise have pruned.
                if let Err(e) = store.prune_meter(now - 10 * rate::WINDOW_MS, keep).await {
                    tracing::warn!(error = %e, "pruning rate windows and usage failed");
                }
            }
        }
    });
}
