//! Sign-in attempts allowed per minute per client address, on this node. (The per-username
//! budget is in the database, shared by every node: `Store::take_sign_in_attempt`.)
//!
//! Keys are bounded so that unauthenticated clients cannot make the server hold memory:
//! keys whose budget is full again are evicted once a minute (`evict_idle`), and at most
//! `max_keys` are tracked — when that many are in use even after an eviction, sign-in fails
//! closed (429) until some go idle, rather than storing more. Behind a proxy without
//! `--trusted-proxy`, every client has the proxy's address and so shares one budget.
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota, RateLimiter};

type Keyed<C> =
    RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Addresses tracked at most (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

pub struct LoginLimiter<C: Clock = DefaultClock> {
    by_address: Keyed<C>,
    clock: C,
    max_keys: usize,
}

impl LoginLimiter {
    pub fn new(per_address: NonZeroU32) -> LoginLimiter {
        LoginLimiter::with_clock(per_address, DefaultClock::default(), MAX_KEYS)
    }
}

impl<C: Clock + Clone> LoginLimiter<C> {
    pub fn with_clock(per_address: NonZeroU32, clock: C, max_keys: usize) -> LoginLimiter<C> {
        LoginLimiter {
            by_address: RateLimiter::dashmap_with_clock(
                Quota::per_minute(per_address),
                clock.clone(),
            ),
            clock,
            max_keys,
        }
    }

    /// Takes one attempt; `Err(seconds)` says when to retry. An IPv6 client is keyed by its
    /// /64, the block one subscriber usually holds, so it cannot spend a budget per address.
    pub fn check(&self, address: IpAddr) -> Result<(), u64> {
        let address = match address {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            v4 => v4,
        };
        if self.by_address.len() >= self.max_keys {
            self.by_address.retain_recent();
            if self.by_address.len() >= self.max_keys {
                // Full of keys in use: nothing more is stored; everyone waits.
                return Err(60);
            }
        }
        self.by_address
            .check_key(&address)
            .map_err(|not_until: NotUntil<C::Instant>| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs_f64().ceil() as u64
            })
    }

    /// Drops keys whose budget is full again (they would start fresh anyway).
    pub fn evict_idle(&self) {
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
    }

    /// Addresses tracked.
    pub fn tracked(&self) -> usize {
        self.by_address.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(max_keys: usize) -> (LoginLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let five = NonZeroU32::new(5).unwrap();
        (
            LoginLimiter::with_clock(five, clock.clone(), max_keys),
            clock,
        )
    }

    fn address(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn idle_keys_are_evicted() {
        let (limiter, clock) = limiter(MAX_KEYS);
        for i in 0..50 {
            limiter.check(address(i)).unwrap();
        }
        assert_eq!(limiter.tracked(), 50);
        limiter.evict_idle();
        assert_eq!(limiter.tracked(), 50, "budgets still spent are kept");
        clock.advance(Duration::from_secs(61));
        limiter.evict_idle();
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn past_the_cap_everyone_waits_until_keys_go_idle() {
        let (limiter, clock) = limiter(3);
        for i in 0..3 {
            limiter.check(address(i)).unwrap();
        }
        assert_eq!(limiter.check(address(3)), Err(60));
        assert_eq!(limiter.tracked(), 3, "the new key was not stored");
        assert_eq!(limiter.check(address(0)), Err(60));
        clock.advance(Duration::from_secs(61));
        limiter.check(address(3)).unwrap();
        limiter.check(address(0)).unwrap();
    }

    #[test]
    fn an_ipv6_client_has_one_budget_per_64() {
        let (limiter, _) = limiter(MAX_KEYS);
        for i in 0..5u16 {
            let addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i);
            limiter.check(IpAddr::V6(addr)).unwrap();
        }
        let other = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9);
        assert!(limiter.check(IpAddr::V6(other)).is_err(), "same /64");
        let next = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1);
        limiter.check(IpAddr::V6(next)).unwrap();
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn five_attempts_per_address_then_a_wait() {
        let (limiter, _) = limiter(MAX_KEYS);
        for _ in 0..5 {
            limiter.check(address(1)).unwrap();
        }
        let wait = limiter.check(address(1)).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
    }
}
