//! Issue 15: signed webhook events from a persistent outbox, delivered to a real receiver
//! (both databases; time moved with the test clock, never slept).
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Received, Receiver, Session, TestApp};
use crate::lifecycle::set_policy;

/// The Standard Webhooks form of a secret (`whsec_` and the base64 key).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DAY: Duration = Duration::from_secs(86_400);

/// A receiver and an admin whose lifecycle policy sends events to it (plus `extra`).
pub async fn receiving(app: &TestApp, extra: Value) -> (Session, Receiver) {
    let receiver = Receiver::start(SECRET).await;
    let admin = app.admin().await;
    let mut policy = json!({"webhookUrl": receiver.url, "webhookSecret": SECRET});
    policy
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = set_policy(&admin, policy).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    (admin, receiver)
}

pub async fn rotate(session: &Session, id: &str, grace: i64) -> Value {
    let path = format!("/api/v2/apiTokens/{id}/rotate");
    let r = session
        .send_json(Method::POST, &path, json!({ "graceSeconds": grace }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn events_are_signed_carry_no_secret_and_a_tampered_one_is_refused() {
    let app = TestApp::spawn().await;
    let (admin, receiver) = receiving(&app, json!({})).await;
    let (id, token) = admin.generate("ci", &["metrics.read"]).await;
    let new = rotate(&admin, &id, 60).await;
    let r = admin
        .send_json(Method::POST, "/api/v2/tessera/webhooks/test", json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let test_id = r.json::<Value>().await.unwrap()["id"].clone();
    receiver
        .wait_for(Duration::from_secs(10), |got| got.len() >= 3)
        .await;

    let got = receiver.accepted();
    let kinds: Vec<&str> = got.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, ["settings.changed", "token.rotated", "webhook.test"]);
    let now = chrono::Utc::now().timestamp();
    for r in &got {
        assert!(r.id.starts_with("msg_"), "{}", r.id);
        assert!((r.timestamp - now).abs() < 300, "a current timestamp");
        for secret in [SECRET, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &token] {
            assert!(!r.body.contains(secret), "no secret in {}", r.body);
        }
        assert!(!r.body.contains(new["token"].as_str().unwrap()));
        chrono::DateTime::parse_from_rfc3339(r.event["timestamp"].as_str().unwrap()).unwrap();
    }
    let changes = &got[0].event["data"]["changes"];
    assert_eq!(got[0].event["data"]["schemaId"], "tessera:tokens.lifecycle");
    assert!(changes
        .as_array()
        .unwrap()
        .contains(&json!({"op": "replace", "path": "/webhookSecret"})));
    let data = &got[1].event["data"];
    assert_eq!(
        (&data["tokenId"], &data["rotatedTo"], &data["graceSeconds"]),
        (&json!(id), &new["id"], &json!(60))
    );
    assert_eq!(
        (&data["owner"], &data["name"]),
        (&json!("admin"), &json!("ci"))
    );
    assert_eq!(got[2].id, test_id.as_str().unwrap());

    // The receiver verifies: the same request again passes, one byte changed does not.
    let original = &got[1];
    let tampered = original
        .body
        .replace("\"graceSeconds\":60", "\"graceSeconds\":61");
    assert_ne!(tampered, original.body);
    for (body, expected) in [
        (original.body.clone(), StatusCode::NO_CONTENT),
        (tampered, StatusCode::UNAUTHORIZED),
    ] {
        let r = reqwest::Client::new()
            .post(&receiver.url)
            .header("webhook-id", &original.id)
            .header("webhook-timestamp", original.timestamp.to_string())
            .header("webhook-signature", &original.signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }

    let view: Value = admin
        .get("/api/v2/tessera/webhooks/deliveries")
        .await
        .json()
        .await
        .unwrap();
    let newest = &view["deliveries"][0];
    assert_eq!(
        (&newest["type"], &newest["state"]),
        (&json!("webhook.test"), &json!("delivered"))
    );
    assert_eq!(newest["lastAttempt"]["status"], 204);
    assert_eq!(view["deliveries"].as_array().unwrap().len(), 3);
}

/// Advances the clock a step at a time until `done` holds for what the receiver accepted
/// (each step makes the next retry due), at most `steps` times.
pub async fn drive(
    app: &TestApp,
    receiver: &Receiver,
    steps: usize,
    done: impl Fn(&[Received]) -> bool,
) {
    for _ in 0..steps {
        let before = receiver.received().len();
        if receiver
            .arrives(Duration::from_secs(2), |_| done(&receiver.accepted()))
            .await
        {
            return;
        }
        app.advance_clock(Duration::from_secs(600)).await;
        receiver
            .arrives(Duration::from_secs(5), |got| got.len() > before)
            .await;
    }
    assert!(
        done(&receiver.accepted()),
        "not delivered: {:#?}",
        receiver.summary()
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_every_event_in_order_per_token_and_none_twice() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (forever, _) = admin.generate("forever", &["metrics.read"]).await;
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "soon", "scopes": ["metrics.read"], "expirationDate": "now+12h"}),
        )
        .await;
    let soon = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::start(SECRET).await;
    // Down twice, then a redirect (not followed), then answering.
    receiver.script(&[
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::FOUND,
    ]);
    let policy = json!({"webhookUrl": receiver.url, "webhookSecret": SECRET,
        "maxLifetimeDays": 10, "expiryWarningDays": [7, 1]});
    assert_eq!(set_policy(&admin, policy).await.status(), StatusCode::OK);
    // `forever` is capped to 10 days; `soon` (12 h) is within the 1-day threshold only.
    // Retries within minutes (events are given up after a day of failures).
    let first_three = |got: &[Received]| got.len() == 3;
    drive(&app, &receiver, 20, first_three).await;
    // The three refusals were retried until each event got through.
    let view: Value = admin
        .get("/api/v2/tessera/webhooks/deliveries")
        .await
        .json()
        .await
        .unwrap();
    let events = view["deliveries"].as_array().unwrap();
    assert!(events.iter().all(|d| d["state"] == "delivered"), "{view}");
    let attempts: i64 = events.iter().map(|d| d["attempts"].as_i64().unwrap()).sum();
    assert_eq!((events.len(), attempts), (3, 6), "{view}");

    // One step at a time, each awaited: moves merged into one would skip a threshold.
    let has = |kind: &'static str, token: String, days: Value| {
        move |got: &[Received]| {
            got.iter().any(|r| {
                r.answered.is_success()
                    && r.kind() == kind
                    && r.token_id() == Some(token.as_str())
                    && r.event["data"]["withinDays"] == days
            })
        }
    };
    let wait = Duration::from_secs(10);
    app.advance_clock(4 * DAY).await; // forever: 6 days left; soon expired
    receiver
        .wait_for(wait, has("token.expiring", forever.clone(), json!(7)))
        .await;
    receiver
        .wait_for(wait, has("token.expired", soon.clone(), Value::Null))
        .await;
    app.advance_clock(DAY * 11 / 2).await; // forever: half a day left
    receiver
        .wait_for(wait, has("token.expiring", forever.clone(), json!(1)))
        .await;
    app.advance_clock(DAY).await; // forever expired
    receiver
        .wait_for(wait, has("token.expired", forever.clone(), Value::Null))
        .await;

    let accepted = receiver.accepted();
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        all,
        "an event accepted twice: {:#?}",
        receiver.summary()
    );
    let of = |token: &str| -> Vec<(String, Value)> {
        accepted
            .iter()
            .filter(|r| r.token_id() == Some(token))
            .map(|r| (r.kind().to_owned(), r.event["data"]["withinDays"].clone()))
            .collect()
    };
    let kind = |k: &str, days: Value| (k.to_owned(), days);
    assert_eq!(
        of(&forever),
        [
            kind("token.policy_capped", Value::Null),
            kind("token.expiring", json!(7)),
            kind("token.expiring", json!(1)),
            kind("token.expired", Value::Null),
        ]
    );
    assert_eq!(
        of(&soon),
        [
            kind("token.expiring", json!(1)),
            kind("token.expired", Value::Null)
        ]
    );
    assert_eq!(accepted.len(), 7, "{:#?}", receiver.summary());
    // Each refused attempt (500, 503, a redirect) was of an event accepted later.
    let all = receiver.received();
    let refused: Vec<&Received> = all.iter().filter(|r| !r.answered.is_success()).collect();
    assert_eq!(refused.len(), 3, "{:#?}", receiver.summary());
    for r in refused {
        assert!(
            accepted.iter().any(|a| a.id == r.id),
            "{} never got through",
            r.id
        );
    }
    assert_eq!(receiver.redirects_followed(), 0);
}

#[tokio::test]
async fn events_pending_when_the_server_is_killed_are_delivered_after_restart() {
    let app = TestApp::spawn().await;
    let (admin, receiver) = receiving(&app, json!({})).await;
    receiver
        .wait_for(Duration::from_secs(10), |got| got.len() == 1)
        .await;
    receiver.set_down(true);

    let mut rotated = Vec::new();
    for i in 0..3 {
        let (id, _) = admin.generate(&format!("t{i}"), &["metrics.read"]).await;
        rotate(&admin, &id, 0).await;
        rotated.push(id);
    }
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter()
                .any(|r| r.answered == StatusCode::SERVICE_UNAVAILABLE)
        })
        .await;
    let app = app.restart(); // SIGKILL
    receiver.set_down(false);
    let done = |got: &[Received]| got.iter().filter(|r| r.kind() == "token.rotated").count() == 3;
    drive(&app, &receiver, 10, done).await;
    // Each once (different tokens' events have no order among them).
    let mut delivered: Vec<String> = receiver
        .accepted()
        .iter()
        .filter(|r| r.kind() == "token.rotated")
        .filter_map(|r| r.token_id().map(str::to_owned))
        .collect();
    delivered.sort();
    rotated.sort();
    assert_eq!(delivered, rotated);
}

#[tokio::test]
async fn tokens_unused_for_the_policys_days_are_disabled_audited_and_reported() {
    let app = TestApp::spawn().await;
    let (admin, receiver) = receiving(&app, json!({"disableUnusedAfterDays": 30})).await;
    let (used, used_token) = admin.generate("used", &["metrics.read"]).await;
    let (idle, idle_token) = admin.generate("idle", &["metrics.read"]).await;
    app.advance_clock(DAY * 20).await;
    assert_eq!(
        app.check(&used_token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    // Sessions end after days; the tokens go on.
    app.admin().await.token_after_use(&used).await;
    app.advance_clock(DAY * 15).await;
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter().any(|r| r.kind() == "token.disabled_unused")
        })
        .await;
    app.eventually_check(&idle_token, "metrics.read", StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        app.check(&used_token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    let disabled: Vec<_> = receiver
        .accepted()
        .into_iter()
        .filter(|r| r.kind() == "token.disabled_unused")
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].token_id(), Some(idle.as_str()));
    assert_eq!(disabled[0].event["data"]["unusedAfterDays"], 30);
    let audited: Vec<_> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.event == "token.disabled_unused")
        .collect();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].target.as_deref(), Some(idle.as_str()));
    assert_eq!(audited[0].actor, "system");
}
