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
    let r = set_policy(&admin, json!({"webhookUrl": "http://127.0.0.1:9/hook"})).await;
    let body = crate::helpers::envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "webhookSecret"
    );
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
