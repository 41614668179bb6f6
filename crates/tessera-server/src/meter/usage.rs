//! Per-token request counts by hour and scope, counted in memory on the hot path and added
//! to the database in batches (`flush`). A batch that fails to write is kept and added to
//! the next one, and the last batch is written at shutdown, so counts are not lost while
//! the database answers. Callers that may be cancelled (a request whose client hangs up)
//! run `flush` in a task of its own.
use std::collections::HashMap;
use std::sync::Mutex;

use tessera_api::Scope;

use crate::domain::time::Millis;
use crate::store::meter::UsageRow;
use crate::store::{Store, StoreResult};

pub const HOUR_MS: Millis = 3_600_000;
/// How long usage is kept.
pub const KEEP_DAYS: i64 = 30;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// Refused for a missing scope or permission (403).
    Refused,
    /// Refused by the token's rate limit (429).
    Limited,
}

/// Counts of one token: a short list, as a token is used with few scopes in an hour.
type Counts = Vec<(Millis, &'static str, [i64; 3])>;

/// Adds `n` to the counts of `hour` and `scope`.
fn add(counts: &mut Counts, hour: Millis, scope: &'static str, n: [i64; 3]) {
    match counts
        .iter_mut()
        .find(|(h, s, _)| *h == hour && *s == scope)
    {
        Some((_, _, m)) => m.iter_mut().zip(n).for_each(|(m, n)| *m += n),
        None => counts.push((hour, scope, n)),
    }
}

#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<String, Counts>>,
    /// One flush at a time: the last one at shutdown waits for one in flight.
    flushing: tokio::sync::Mutex<()>,
}

impl UsageRecorder {
    /// Counts one request; `scope` None is a request refused before its scope was known.
    pub fn record(&self, token_id: &str, scope: Option<Scope>, outcome: Outcome, now: Millis) {
        let hour = now - now.rem_euclid(HOUR_MS);
        let scope = scope.map_or("*", |s| s.as_str());
        let mut one = [0; 3];
        one[outcome as usize] = 1;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        // Looked up by &str first: the id is copied only for a token's first request.
        let counts = match pending.get_mut(token_id) {
            Some(c) => c,
            None => pending.entry(token_id.to_owned()).or_default(),
        };
        add(counts, hour, scope, one);
    }

    fn take(&self) -> HashMap<String, Counts> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn put_back(&self, batch: HashMap<String, Counts>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (token, counts) in batch {
            let list = pending.entry(token).or_default();
            for (hour, scope, n) in counts {
                add(list, hour, scope, n);
            }
        }
    }

    /// Writes what was counted since the last flush in one statement; on failure it is
    /// kept for the next one.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let _one = self.flushing.lock().await;
        let batch = self.take();
        let mut rows: Vec<UsageRow> = batch
            .iter()
            .flat_map(|(token, counts)| {
                counts.iter().map(move |(hour, scope, n)| UsageRow {
                    token_id: token.clone(),
                    hour: *hour,
                    scope: (*scope).to_owned(),
                    allowed: n[0],
                    refused: n[1],
                    limited: n[2],
                })
            })
            .collect();
        // One order on every node: concurrent upserts of the same rows cannot deadlock.
        rows.sort_by(|a, b| (&a.token_id, a.hour, &a.scope).cmp(&(&b.token_id, b.hour, &b.scope)));
        // Large batches go in parts: a statement's parameters are limited (6 per row).
        const PART: usize = 5_000;
        for (i, part) in rows.chunks(PART).enumerate() {
            if let Err(e) = store.add_usage(part).await {
                // Rows written before the failure are not put back (they are stored).
                let written: std::collections::HashSet<(&str, Millis, &str)> = rows[..i * PART]
                    .iter()
                    .map(|r| (r.token_id.as_str(), r.hour, r.scope.as_str()))
                    .collect();
                let mut rest = batch;
                for (token, counts) in rest.iter_mut() {
                    counts.retain(|(h, s, _)| !written.contains(&(token.as_str(), *h, *s)));
                }
                self.put_back(rest);
                return Err(e);
            }
        }
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(r: &UsageRecorder) -> Vec<(String, Millis, &'static str, [i64; 3])> {
        let mut all: Vec<_> = r
            .pending
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(t, c)| c.iter().map(|(h, s, n)| (t.clone(), *h, *s, *n)))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn counts_are_kept_per_token_hour_scope_and_outcome() {
        let r = UsageRecorder::default();
        let read = Some(Scope::parse("metrics.read").unwrap());
        r.record("a", read, Outcome::Allowed, 10);
        r.record("a", read, Outcome::Allowed, HOUR_MS - 1);
        r.record("a", read, Outcome::Refused, 20);
        r.record("a", None, Outcome::Limited, 30);
        r.record("a", read, Outcome::Allowed, HOUR_MS);
        r.record("b", read, Outcome::Limited, 40);
        assert_eq!(
            pending(&r),
            vec![
                ("a".into(), 0, "*", [0, 0, 1]),
                ("a".into(), 0, "metrics.read", [2, 1, 0]),
                ("a".into(), HOUR_MS, "metrics.read", [1, 0, 0]),
                ("b".into(), 0, "metrics.read", [0, 0, 1]),
            ]
        );
        // A batch put back adds to what was counted meanwhile.
        let batch = r.take();
        r.record("a", read, Outcome::Allowed, 50);
        r.put_back(batch);
        assert_eq!(pending(&r)[1], ("a".into(), 0, "metrics.read", [3, 1, 0]));
    }
}
