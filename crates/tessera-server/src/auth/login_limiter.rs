//! Sign-in attempts allowed per minute, per username and per client address.
//!
//! Keys are bounded three ways, so that unauthenticated clients cannot make the server hold
//! memory: a username is validated (≤ 64 characters) before it becomes a key; keys whose
//! budget is full again are evicted once a minute (`evict_idle`); and each limiter tracks at
//! most `max_keys` keys — when that many are in use even after an eviction, sign-in fails
//! closed (429) until some go idle, rather than storing more. (Filling 100,000 username
//! keys within a minute takes 5,000 addresses at the per-address limit.) Behind a proxy without `--trusted-proxy`, every client has the proxy's
//! address and so shares one per-address budget.
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota, RateLimiter};

type Keyed<K, C> = RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Keys each limiter tracks at most (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

pub struct LoginLimiter<C: Clock = DefaultClock> {
    by_user: Keyed<String, C>,
    by_address: Keyed<IpAddr, C>,
    clock: C,
    max_keys: usize,
}

impl LoginLimiter {
    pub fn new(per_user: NonZeroU32, per_address: NonZeroU32) -> LoginLimiter {
        LoginLimiter::with_clock(per_user, per_address, DefaultClock::default(), MAX_KEYS)
    }
}

impl<C: Clock + Clone> LoginLimiter<C> {
    pub fn with_clock(
        per_user: NonZeroU32,
        per_address: NonZeroU32,
        clock: C,
        max_keys: usize,
    ) -> LoginLimiter<C> {
        LoginLimiter {
            by_user: RateLimiter::dashmap_with_clock(Quota::per_minute(per_user), clock.clone()),
            by_address: RateLimiter::dashmap_with_clock(
                Quota::per_minute(per_address),
                clock.clone(),
            ),
            clock,
            max_keys,
        }
    }

    /// Takes one attempt from both buckets; `Err(seconds)` says when to retry. `username`
    /// must already be a valid username (bounded length).
    pub fn check(&self, username: &str, address: IpAddr) -> Result<(), u64> {
        self.take(&self.by_address, &address)?;
        self.take(&self.by_user, &username.to_owned())
    }

    fn take<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K, C>, key: &K) -> Result<(), u64> {
        if limiter.len() >= self.max_keys {
            limiter.retain_recent();
            if limiter.len() >= self.max_keys {
                // Full of keys in use: nothing more is stored; everyone waits.
                return Err(60);
            }
        }
        limiter
            .check_key(key)
            .map_err(|not_until: NotUntil<C::Instant>| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs_f64().ceil() as u64
            })
    }

    /// Drops keys whose budget is full again (they would start fresh anyway).
    pub fn evict_idle(&self) {
        self.by_user.retain_recent();
        self.by_user.shrink_to_fit();
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
    }

    /// Keys tracked, per username and per address.
    pub fn tracked(&self) -> (usize, usize) {
        (self.by_user.len(), self.by_address.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(max_keys: usize) -> (LoginLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let five = NonZeroU32::new(5).unwrap();
        let limiter = LoginLimiter::with_clock(
            five,
            NonZeroU32::new(1000).unwrap(),
            clock.clone(),
            max_keys,
        );
        (limiter, clock)
    }

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn idle_keys_are_evicted() {
        let (limiter, clock) = limiter(MAX_KEYS);
        for i in 0..50 {
            limiter.check(&format!("user{i}"), HOME).unwrap();
        }
        assert_eq!(limiter.tracked(), (50, 1));
        limiter.evict_idle();
        assert_eq!(limiter.tracked().0, 50, "budgets still spent are kept");
        clock.advance(Duration::from_secs(61));
        limiter.evict_idle();
        assert_eq!(limiter.tracked(), (0, 0));
    }

    #[test]
    fn past_the_cap_a_new_key_waits_until_old_ones_are_idle() {
        let (limiter, clock) = limiter(3);
        for name in ["a", "b", "c"] {
            limiter.check(name, HOME).unwrap();
        }
        assert_eq!(limiter.check("d", HOME), Err(60));
        assert_eq!(limiter.tracked().0, 3, "the new key was not stored");
        // Full of keys in use, the limiter fails closed for everyone until they go idle.
        assert_eq!(limiter.check("a", HOME), Err(60));
        clock.advance(Duration::from_secs(61));
        limiter.check("d", HOME).unwrap();
        limiter.check("a", HOME).unwrap();
    }

    #[test]
    fn five_attempts_per_username_then_a_wait() {
        let (limiter, _) = limiter(MAX_KEYS);
        for _ in 0..5 {
            limiter.check("alice", HOME).unwrap();
        }
        let wait = limiter.check("alice", HOME).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
    }
}
