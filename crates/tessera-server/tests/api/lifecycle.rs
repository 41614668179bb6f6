//! Issue 15: the lifecycle policy object (`tessera:tokens.lifecycle`) through the settings
//! objects API — validation, the write-only secret, the maximum lifetime for new tokens
//! and the capping of existing ones (both databases; time moved with the test clock).
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, Session, TestApp};

pub const LIFECYCLE: &str =
    "/api/v2/settings/objects/dGVzc2VyYTp0ZXNzZXJhOnRva2Vucy5saWZlY3ljbGU6ZW52aXJvbm1lbnQ";

pub async fn set_policy(admin: &Session, value: Value) -> reqwest::Response {
    admin
        .send_json(Method::PUT, LIFECYCLE, json!({ "value": value }))
        .await
}

async fn generate(session: &Session, expiration: Option<&str>) -> reqwest::Response {
    let mut body = json!({"name": "t", "scopes": ["metrics.read"]});
    if let Some(at) = expiration {
        body["expirationDate"] = json!(at);
    }
    session
        .send_json(Method::POST, "/api/v2/apiTokens", body)
        .await
}

fn days_from_now(value: &Value) -> f64 {
    let at = chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap();
    (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()) as f64 / 86_400_000.0
}

#[tokio::test]
async fn the_policy_is_a_settings_object_whose_secret_is_never_read_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let list: Value = admin
        .get("/api/v2/settings/objects")
        .await
        .json()
        .await
        .unwrap();
    let schemas: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["schemaId"].as_str().unwrap())
        .collect();
    assert_eq!(
        schemas,
        ["builtin:tokens.token-settings", "tessera:tokens.lifecycle"]
    );
    let policy: Value = admin.get(LIFECYCLE).await.json().await.unwrap();
    assert_eq!(policy["value"]["expiryWarningDays"], json!([7, 1]));
    assert_eq!(policy["value"]["maxLifetimeDays"], Value::Null);

    let secret = crate::webhooks::SECRET;
    let r = set_policy(
        &admin,
        json!({"webhookUrl": "http://127.0.0.1:9/hook", "webhookSecret": secret}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = admin.get(LIFECYCLE).await.text().await.unwrap();
    assert!(!text.contains(secret), "{text}");
    let read: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(read["value"]["webhookSecret"], Value::Null);
    assert_eq!(read["value"]["webhookSecretSet"], true);
    // What was read can be written back without losing the secret; "" removes it.
    assert_eq!(
        set_policy(&admin, read["value"].clone()).await.status(),
        StatusCode::OK
    );
    let again: Value = admin.get(LIFECYCLE).await.json().await.unwrap();
    assert_eq!(again["value"]["webhookSecretSet"], true);
    set_policy(&admin, json!({"webhookSecret": ""})).await;
    let gone: Value = admin.get(LIFECYCLE).await.json().await.unwrap();
    assert_eq!(gone["value"]["webhookSecretSet"], false);
    // Audited without the secret.
    let events = app.audit_events().await;
    let changed: Vec<_> = events
        .iter()
        .filter(|e| e.target.as_deref() == Some("tessera:tokens.lifecycle"))
        .collect();
    assert!(!changed.is_empty());
    assert!(changed.iter().all(|e| !format!("{e:?}").contains(secret)));
}

#[tokio::test]
async fn bad_values_are_refused_field_by_field_and_only_admins_write() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = envelope(
        set_policy(
            &admin,
            json!({"maxLifetimeDays": 0, "expiryWarningDays": [7, 400], "webhookUrl": "ftp://x",
            "webhookSecret": "short", "disableUnusedAfterDays": -1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let paths: Vec<&str> = body["error"]["constraintViolations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "maxLifetimeDays",
            "disableUnusedAfterDays",
            "expiryWarningDays",
            "webhookUrl",
            "webhookSecret"
        ]
    );
    envelope(
        set_policy(&admin, json!({"patEnabled": true})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        set_policy(&admin, json!({"colour": "red"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let alice = app
        .user("alice", &["settings.read", "settings.write"])
        .await;
    envelope(
        set_policy(&alice, json!({"maxLifetimeDays": 1})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let policy: Value = admin.get(LIFECYCLE).await.json().await.unwrap();
    assert_eq!(
        policy["value"]["maxLifetimeDays"],
        Value::Null,
        "nothing was written"
    );
}

#[tokio::test]
async fn new_tokens_must_expire_within_the_maximum_lifetime_admins_included() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let alice = app.user("alice", &["metrics.read"]).await;
    assert_eq!(
        set_policy(&admin, json!({"maxLifetimeDays": 30}))
            .await
            .status(),
        StatusCode::OK
    );
    for (who, expiration) in [(&alice, None), (&alice, Some("now+31d")), (&admin, None)] {
        let body = envelope(generate(who, expiration).await, StatusCode::BAD_REQUEST).await;
        let v = &body["error"]["constraintViolations"][0];
        assert_eq!(v["path"], "expirationDate");
        assert!(
            v["message"].as_str().unwrap().contains("at most 30 days"),
            "{v}"
        );
    }
    assert_eq!(
        generate(&alice, Some("now+30d")).await.status(),
        StatusCode::CREATED
    );
    // Rotation stays within it: the old lifetime again is shortened, a date asked for must fit.
    set_policy(&admin, json!({"maxLifetimeDays": null})).await;
    let old: Value = generate(&alice, Some("now+90d"))
        .await
        .json()
        .await
        .unwrap();
    set_policy(&admin, json!({"maxLifetimeDays": 60})).await;
    let path = format!("/api/v2/apiTokens/{}/rotate", old["id"].as_str().unwrap());
    let r = alice
        .send_json(Method::POST, &path, json!({"expirationDate": "now+61d"}))
        .await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    let r = alice.send_json(Method::POST, &path, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let days = days_from_now(&r.json::<Value>().await.unwrap()["expirationDate"]);
    assert!((59.9..=60.0).contains(&days), "{days}");
}

#[tokio::test]
async fn lowering_the_maximum_caps_longer_lived_tokens_each_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.set_pat_enabled(true).await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let mut made = Vec::new();
    for expiration in [None, Some("now+60d"), Some("now+10d")] {
        made.push(
            generate(&alice, expiration)
                .await
                .json::<Value>()
                .await
                .unwrap(),
        );
    }
    let expiry = |t: &Value| {
        let path = format!("/api/v2/apiTokens/{}", t["id"].as_str().unwrap());
        let alice = &alice;
        async move { alice.get(&path).await.json::<Value>().await.unwrap()["expirationDate"].clone() }
    };
    assert_eq!(
        set_policy(&admin, json!({"maxLifetimeDays": 30}))
            .await
            .status(),
        StatusCode::OK
    );
    for t in &made[..2] {
        let days = days_from_now(&expiry(t).await);
        assert!((29.9..=30.0).contains(&days), "capped to 30 days: {days}");
    }
    assert!(
        (9.9..=10.0).contains(&days_from_now(&expiry(&made[2]).await)),
        "a shorter one is left alone"
    );
    // Its owner is told, on each token (the PAT page shows a notice from this).
    let mine: Value = alice
        .get("/api/v2/apiTokens?fields=+additionalMetadata")
        .await
        .json()
        .await
        .unwrap();
    let shortened: Vec<bool> = mine["apiTokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["additionalMetadata"]["policyCappedDate"].is_string())
        .collect();
    assert_eq!(shortened.iter().filter(|s| **s).count(), 2, "{mine}");
    let capped = || async {
        app.audit_events()
            .await
            .into_iter()
            .filter(|e| e.event == "token.policy_capped")
            .count()
    };
    assert_eq!(capped().await, 2);
    // Raising it caps nothing; lowering it again caps the two again.
    set_policy(&admin, json!({"maxLifetimeDays": 40})).await;
    assert_eq!(capped().await, 2);
    set_policy(&admin, json!({"maxLifetimeDays": 20})).await;
    assert_eq!(capped().await, 4);
    // The capped token that never expired before is refused once its new date passes.
    let never = made[0]["token"].as_str().unwrap();
    assert_eq!(
        app.check(never, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.advance_clock(Duration::from_secs(20 * 86_400 + 60))
        .await;
    assert_eq!(
        app.check(never, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The `tessera_tokens_expiring{within="7d"}` gauge of `/metrics`.
async fn expiring_gauge(app: &TestApp) -> String {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("tessera_tokens_expiring{within=\"7d\"} "))
        .unwrap_or_else(|| panic!("no expiring gauge in:\n{text}"))
        .to_owned()
}

#[tokio::test]
async fn metrics_count_the_enabled_tokens_expiring_within_seven_days() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for at in ["now+3d", "now+30d", "now+6d"] {
        assert_eq!(
            generate(&admin, Some(at)).await.status(),
            StatusCode::CREATED
        );
    }
    admin.generate("never", &["metrics.read"]).await;
    let r = generate(&admin, Some("now+29d")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(expiring_gauge(&app).await, "2");
    app.advance_clock(Duration::from_secs(25 * 86_400)).await;
    // 3 and 6 days have passed; 30 days is now 5 away; the disabled one does not count.
    assert_eq!(expiring_gauge(&app).await, "1");
}
