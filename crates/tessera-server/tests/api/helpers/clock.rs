//! The debug build's test clock, moved from the tests (`POST /api/test/clock`).
use std::time::Duration;

use super::TestApp;

impl TestApp {
    /// Moves this server's clock forward (the debug build's test clock), so that grace
    /// periods and expiry are tested without waiting.
    pub async fn advance_clock(&self, by: Duration) {
        let r = reqwest::Client::new()
            .post(self.url("/api/test/clock"))
            .json(&serde_json::json!({ "advanceMs": by.as_millis() as i64 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "the test clock is on");
    }

    /// Moves this server's clock to one second past the start of the next period (a
    /// minute, an hour), so a test of counting windows runs inside one.
    pub async fn advance_to_next(&self, period: Duration) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let period = period.as_millis();
        let to_next = period - now % period + 1_000;
        self.advance_clock(Duration::from_millis(to_next as u64))
            .await;
    }
}
