//! Per-token rate limits over all nodes: fixed one-minute windows (UTC minutes of the
//! node's clock), shared through the database by reservation.
//!
//! A node serves a limited token's requests from a local allowance and refills it by
//! reserving a chunk (a tenth of the limit, at least 1) of the window in the database with
//! one atomic update, which never hands out more than the limit. So:
//! - over all nodes, a window never allows more than the limit, whatever the number of
//!   nodes or how requests spread over them — given node clocks in step (NTP): with a skew
//!   of s seconds, nodes count into different windows for s seconds around each minute;
//! - a node may hold back at most one unused chunk, so with N nodes a client may be
//!   refused after as few as `limit − (N − 1) × chunk` requests, i.e. up to 10 % of the
//!   limit per other node that has served the token this minute;
//! - the hot path touches the database only once per chunk, never for an unlimited token.
//!
//! A node that dies loses its unused chunk (the client gets fewer, never more). A token in
//! the grace period after its rotation counts against its successor's window, so rotating
//! does not double the limit.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::time::{self, Millis};
use crate::store::Store;

pub const WINDOW_MS: Millis = 60_000;
/// How long a request waits for a reservation before it is answered 503 (the database
/// is slow or away); the reservation itself carries on.
const RESERVE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why no decision could be made.
#[derive(Debug)]
pub enum Refused {
    Store(String),
}

/// The answer for one request of a limited token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub allowed: bool,
    pub limit: u32,
    /// Requests left this window over all nodes, as far as this node knows.
    pub remaining: u32,
    /// When the window ends, epoch milliseconds.
    pub reset_at: Millis,
}

impl RateState {
    /// Seconds until the window ends, at least 1 (`Retry-After`, `X-RateLimit-Reset`).
    pub fn reset_secs(&self, now: Millis) -> u64 {
        ((self.reset_at - now).max(0) as u64).div_ceil(1000).max(1)
    }
}

#[derive(Debug, Default)]
struct Allowance {
    window: Millis,
    limit: u32,
    /// Reserved here and not used yet.
    left: u32,
    /// The window's total reserved over all nodes at the last reservation.
    used: u32,
    /// The database had nothing left for this window.
    exhausted: bool,
}

#[derive(Default)]
struct Entry {
    allowance: Mutex<Allowance>,
    /// One refill at a time per token, so concurrent requests do not all reserve.
    refill: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
pub struct RateLimiter {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

fn chunk(limit: u32) -> u32 {
    limit.div_ceil(10).max(1)
}

impl RateLimiter {
    fn entry(&self, token_id: &str) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get(token_id) {
            return e.clone();
        }
        entries.entry(token_id.to_owned()).or_default().clone()
    }

    /// Takes one request from the local allowance, if it has one for this window.
    fn take_local(entry: &Entry, window: Millis, limit: u32) -> Option<RateState> {
        let mut a = entry.allowance.lock().unwrap_or_else(|e| e.into_inner());
        if a.window != window || a.limit != limit {
            *a = Allowance {
                window,
                limit,
                ..Allowance::default()
            };
        }
        let state = |allowed: bool, a: &Allowance| RateState {
            allowed,
            limit,
            remaining: limit.saturating_sub(a.used) + a.left,
            reset_at: window + WINDOW_MS,
        };
        if a.left > 0 {
            a.left -= 1;
            return Some(state(true, &a));
        }
        a.exhausted.then(|| state(false, &a))
    }

    /// Decides one request of token `key` (the token, or the successor of a rotated one)
    /// limited to `limit` a minute.
    pub async fn acquire(
        &self,
        store: &Arc<dyn Store>,
        key: &str,
        limit: u32,
    ) -> Result<RateState, Refused> {
        let window_of = |now: Millis| now - now.rem_euclid(WINDOW_MS);
        let entry = self.entry(key);
        if let Some(state) = Self::take_local(&entry, window_of(time::now()), limit) {
            return Ok(state);
        }
        let refill = entry.refill.clone().lock_owned().await;
        // The clock again: the minute may have turned while this request waited.
        let window = window_of(time::now());
        // Another request may have refilled while this one waited.
        if let Some(state) = Self::take_local(&entry, window, limit) {
            return Ok(state);
        }
        // The reservation runs on its own: a request that gives up (its client hung up,
        // or the wait below ran out) must not lose what the database has handed out.
        let (store, id, credited) = (store.clone(), key.to_owned(), entry.clone());
        let reservation = tokio::spawn(async move {
            let _refill = refill;
            let grant = store.reserve_rate(&id, window, chunk(limit), limit).await?;
            let mut a = credited.allowance.lock().unwrap_or_else(|e| e.into_inner());
            if a.window == window && a.limit == limit {
                a.left += grant.granted;
                a.used = grant.used;
                a.exhausted = grant.granted == 0;
            }
            Ok::<_, crate::store::StoreError>(())
        });
        match tokio::time::timeout(RESERVE_WAIT, reservation).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(Refused::Store(e.to_string())),
            Ok(Err(e)) => return Err(Refused::Store(e.to_string())),
            Err(_) => return Err(Refused::Store("the reservation took too long".into())),
        }
        Ok(
            Self::take_local(&entry, window, limit).unwrap_or(RateState {
                allowed: false,
                limit,
                remaining: 0,
                reset_at: window + WINDOW_MS,
            }),
        )
    }

    /// Drops allowances of windows before `now`'s (run now and then, off the hot path).
    pub fn forget_old(&self, now: Millis) {
        let window = now - now.rem_euclid(WINDOW_MS);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| {
            Arc::strong_count(e) > 1
                || e.allowance
                    .lock()
                    .map(|a| a.window >= window)
                    .unwrap_or(false)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_a_tenth_of_the_limit_and_never_zero() {
        assert_eq!(chunk(1), 1);
        assert_eq!(chunk(9), 1);
        assert_eq!(chunk(60), 6);
        assert_eq!(chunk(61), 7);
        assert_eq!(chunk(1_000_000), 100_000);
    }

    #[test]
    fn reset_is_rounded_up_to_whole_seconds() {
        let s = RateState {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_at: 60_000,
        };
        assert_eq!(s.reset_secs(0), 60);
        assert_eq!(s.reset_secs(59_001), 1);
        assert_eq!(s.reset_secs(59_999), 1);
        assert_eq!(s.reset_secs(60_000), 1);
    }
}
