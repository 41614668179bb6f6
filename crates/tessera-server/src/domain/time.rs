//! Times on the wire: ISO-8601 UTC with milliseconds out; ISO-8601, epoch milliseconds or
//! relative `now±<n><unit>` in. Units: `m` minutes, `h` hours, `d` days, `w` weeks,
//! `M` months, `y` years (calendar arithmetic for the last two).
use chrono::{DateTime, Duration, Months, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch; the storage form of every time.
pub type Millis = i64;

pub fn now() -> Millis {
    Utc::now().timestamp_millis() + test_clock::offset()
}

/// Changes each time the tests' clock moves (never in a release build): timers that wait
/// in real time re-check what is due when it does.
pub fn clock_moves() -> tokio::sync::watch::Receiver<Millis> {
    MOVES.subscribe()
}

static MOVES: std::sync::LazyLock<tokio::sync::watch::Sender<Millis>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// The tests' clock: debug builds only (tests run them; the release binary has none of
/// it). `advance` moves this process's time forward, so lifecycle rules (grace periods,
/// expiry) are tested without sleeping. Served at `POST /api/test/clock` when the server
/// runs with `TESSERA_TEST_CLOCK=1` (see `http::test_clock`).
#[cfg(debug_assertions)]
pub mod test_clock {
    use std::sync::atomic::{AtomicI64, Ordering};

    static OFFSET: AtomicI64 = AtomicI64::new(0);

    pub fn offset() -> super::Millis {
        OFFSET.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `ms` (never back: time in Tessera only grows).
    pub fn advance(ms: super::Millis) -> super::Millis {
        let offset = OFFSET.fetch_add(ms.max(0), Ordering::Relaxed) + ms.max(0);
        super::MOVES.send_replace(offset);
        offset
    }
}

#[cfg(not(debug_assertions))]
mod test_clock {
    pub const fn offset() -> super::Millis {
        0
    }
}

/// `2026-11-28T09:15:00.000Z`.
pub fn format(ms: Millis) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Plus,
    Minus,
}

/// An expiration date: ISO-8601 or `now+<n><unit>`, strictly in the future of `now`.
pub fn parse_expiration(value: &str, now: Millis) -> Result<Millis, &'static str> {
    let at = match value.trim().strip_prefix("now") {
        Some(rest) => relative(rest, now, Direction::Plus)
            .ok_or("Use an ISO-8601 date or now+<n><unit> with a unit of m, h, d, w, M or y")?,
        None => iso(value.trim())
            .ok_or("Use an ISO-8601 date such as 2027-01-31T00:00:00Z or now+30d")?,
    };
    if at <= now {
        return Err("Expiration date must be in the future");
    }
    Ok(at)
}

/// A `from`/`to` bound: ISO-8601, epoch milliseconds or `now-<n><unit>`.
pub fn parse_bound(value: &str, now: Millis) -> Result<Millis, &'static str> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("now") {
        return if rest.is_empty() {
            Ok(now)
        } else {
            relative(rest, now, Direction::Minus)
                .ok_or("Use now-<n><unit> with a unit of m, h, d, w, M or y")
        };
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().map_err(|_| "Timestamp is out of range");
    }
    iso(value).ok_or("Use an ISO-8601 date, epoch milliseconds or now-<n><unit>")
}

fn iso(value: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn relative(rest: &str, now: Millis, direction: Direction) -> Option<Millis> {
    let sign = match direction {
        Direction::Plus => '+',
        Direction::Minus => '-',
    };
    let rest = rest.strip_prefix(sign)?;
    let unit = rest.chars().last()?;
    let digits = &rest[..rest.len() - unit.len_utf8()];
    // Digits only: `u32::from_str` would also take a sign (`now++5d`).
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u32 = digits.parse().ok().filter(|n| *n > 0)?;
    let base = Utc.timestamp_millis_opt(now).single()?;
    let shifted = match unit {
        'm' | 'h' | 'd' | 'w' => {
            let per = match unit {
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                _ => 604_800,
            };
            let delta = Duration::try_seconds(i64::from(amount) * per)?;
            match direction {
                Direction::Plus => base.checked_add_signed(delta)?,
                Direction::Minus => base.checked_sub_signed(delta)?,
            }
        }
        'M' | 'y' => {
            let months = Months::new(if unit == 'y' {
                amount.checked_mul(12)?
            } else {
                amount
            });
            match direction {
                Direction::Plus => base.checked_add_months(months)?,
                Direction::Minus => base.checked_sub_months(months)?,
            }
        }
        _ => return None,
    };
    Some(shifted.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_795_000_000_000; // 2026-11-18T…

    #[test]
    fn formats_with_milliseconds_in_utc() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(1_500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn relative_expirations_add_calendar_units() {
        assert_eq!(parse_expiration("now+30d", NOW), Ok(NOW + 30 * 86_400_000));
        assert_eq!(parse_expiration("now+2h", NOW), Ok(NOW + 7_200_000));
        assert_eq!(parse_expiration("now+5m", NOW), Ok(NOW + 300_000));
        assert_eq!(parse_expiration("now+1w", NOW), Ok(NOW + 7 * 86_400_000));
        let year = parse_expiration("now+1y", NOW).unwrap();
        assert_eq!(year, parse_expiration("now+12M", NOW).unwrap());
        assert!(year - NOW >= 365 * 86_400_000);
    }

    #[test]
    fn expirations_must_be_in_the_future_and_well_formed() {
        assert!(parse_expiration("2001-01-01T00:00:00Z", NOW).is_err());
        assert!(parse_expiration("2099-01-01T00:00:00.000Z", NOW).is_ok());
        for bad in [
            "now+",
            "now+0d",
            "now+3x",
            "now-3d",
            "tomorrow",
            "",
            "now+99999999999y",
        ] {
            assert!(parse_expiration(bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_accept_three_forms() {
        assert_eq!(parse_bound("now-1h", NOW), Ok(NOW - 3_600_000));
        assert_eq!(parse_bound("1700000000000", NOW), Ok(1_700_000_000_000));
        assert_eq!(parse_bound("1970-01-01T00:00:01Z", NOW), Ok(1_000));
        assert_eq!(parse_bound("now", NOW), Ok(NOW));
        assert!(parse_bound("yesterday", NOW).is_err());
        assert!(parse_bound("now+1h", NOW).is_err());
    }
}
