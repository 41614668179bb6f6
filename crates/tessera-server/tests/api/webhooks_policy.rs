//! Issue 15: the webhook settings (validation, who may see deliveries) and what changing
//! the receiver does to events waiting for it.
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Receiver, TestApp};
use crate::lifecycle::set_policy;
use crate::webhooks::{receiving, rotate, SECRET};

#[tokio::test]
async fn webhook_settings_and_the_deliveries_view_are_checked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // A URL needs a secret; a whsec_ secret must be what Standard Webhooks libraries read.
    for secret in [
        json!(null),
        json!("whsec_not-base64-at-all!"),
        json!("whsec_c2hvcnQ="),
    ] {
        let value = json!({"webhookUrl": "http://127.0.0.1:9/hook", "webhookSecret": secret});
        let r = set_policy(&admin, value).await;
        let body = crate::helpers::envelope(r, StatusCode::BAD_REQUEST).await;
        let violations = &body["error"]["constraintViolations"];
        assert_eq!(violations[0]["path"], "webhookSecret", "{secret}");
        assert_eq!(violations.as_array().unwrap().len(), 1);
    }
    let r = admin
        .send_json(Method::POST, "/api/v2/tessera/webhooks/test", json!({}))
        .await;
    let body = crate::helpers::envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "webhookUrl"
    );

    let user = app.user("bob", &["metrics.read"]).await;
    let r = user.get("/api/v2/tessera/webhooks/deliveries").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = user
        .send_json(Method::POST, "/api/v2/tessera/webhooks/test", json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_new_receiver_gets_what_waited_for_the_old_one_at_once() {
    let app = TestApp::spawn().await;
    let (admin, old) = receiving(&app, json!({})).await;
    old.wait_for(Duration::from_secs(10), |got| got.len() == 1)
        .await;
    old.set_down(true);
    let (id, _) = admin.generate("t", &["metrics.read"]).await;
    rotate(&admin, &id, 0).await;
    // Refused once: the next attempt is seconds away (minutes, after a few more).
    old.wait_for(Duration::from_secs(10), |got| got.len() == 2)
        .await;
    let new = Receiver::start(SECRET).await;
    let r = set_policy(&admin, json!({"webhookUrl": new.url})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // No clock moved: the waiting event goes to the new URL now, then the change itself.
    new.wait_for(Duration::from_secs(3), |got| got.len() == 2)
        .await;
    let kinds: Vec<String> = new.accepted().iter().map(|r| r.kind().to_owned()).collect();
    assert_eq!(kinds, ["token.rotated", "settings.changed"]);
    assert_eq!(old.received().len(), 2);
}

/// The README's Python receiver, run as written (but on a free port): it accepts Tessera's
/// events signed with its secret and refuses them signed with another.
#[tokio::test]
async fn the_readme_receiver_verifies_tessera_events() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let code = readme
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a Python block in the README");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let code = code.replace(r#"("", 8000)"#, &format!(r#"("127.0.0.1", {port})"#));
    let _python = Python(
        std::process::Command::new("python3")
            .args(["-c", &code])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3"),
    );
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let mut answers = Vec::new();
    for secret in [SECRET, "whsec_c29tZSBvdGhlciBzZWNyZXQgb2YgMjQgYnl0ZXM="] {
        let r = set_policy(&admin, json!({"webhookUrl": url, "webhookSecret": secret})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = admin
            .send_json(Method::POST, "/api/v2/tessera/webhooks/test", json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let id = r.json::<serde_json::Value>().await.unwrap()["id"].clone();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let status = loop {
            let view: serde_json::Value = admin
                .get("/api/v2/tessera/webhooks/deliveries")
                .await
                .json()
                .await
                .unwrap();
            let event = view["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["id"] == id)
                .cloned();
            // Python may still be starting: refused connections are retried.
            if let Some(status) = event.and_then(|d| d["lastAttempt"]["status"].as_u64()) {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no answer from the README receiver: {view}"
            );
            app.advance_clock(Duration::from_secs(60)).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        answers.push(status);
    }
    assert_eq!(answers, [204, 401]);
}

/// The receiver's process, ended with the test (also when it fails).
struct Python(std::process::Child);

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
