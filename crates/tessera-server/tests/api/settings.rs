//! The token settings object and who may read and change it.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

const LIST: &str =
    "/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings&scopes=environment";

#[tokio::test]
async fn a_new_installation_has_pats_off_and_admins_turn_them_on() {
    let app = TestApp::spawn_with(&[]).await;
    let admin = app.admin().await;
    let list: Value = admin.get(LIST).await.json().await.unwrap();
    assert_eq!(list["totalCount"], 1);
    let item = &list["items"][0];
    assert_eq!(item["schemaId"], "builtin:tokens.token-settings");
    assert_eq!(item["scope"], "environment");
    assert_eq!(item["value"], json!({"patEnabled": false}));
    let id = item["objectId"].as_str().unwrap();
    let path = format!("/api/v2/settings/objects/{id}");
    let r = admin
        .send_json(Method::PUT, &path, json!({"value": {"patEnabled": true}}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(one["value"]["patEnabled"], true);
    let session: Value = admin.get("/api/session").await.json().await.unwrap();
    assert_eq!(session["patEnabled"], true);
    let events = app.audit_events().await;
    let change = events
        .iter()
        .find(|e| e.event == "settings.changed")
        .expect("audited");
    assert_eq!(change.actor, "admin");
    assert_eq!(change.detail.as_deref(), Some("patEnabled=true"));
}

#[tokio::test]
async fn the_setting_and_tokens_survive_a_restart() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin().await.generate("t", &["metrics.read"]).await;
    let app = app.restart();
    let list: Value = app.admin().await.get(LIST).await.json().await.unwrap();
    assert_eq!(list["items"][0]["value"]["patEnabled"], true);
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn only_admins_read_or_change_token_settings() {
    let app = TestApp::spawn().await;
    let alice = app
        .user(
            "alice",
            &["settings.read", "settings.write", "apiTokens.read"],
        )
        .await;
    envelope(alice.get(LIST).await, StatusCode::FORBIDDEN).await;
    let (_, token) = alice
        .generate("t", &["settings.read", "settings.write"])
        .await;
    let api = app.token_client(&token);
    envelope(
        api.send(Method::GET, LIST, None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // An admin's token needs the scope.
    let admin = app.admin().await;
    let (_, admin_token) = admin.generate("t", &["settings.read"]).await;
    let api = app.token_client(&admin_token);
    let list: Value = api
        .send(Method::GET, LIST, None)
        .await
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["objectId"].as_str().unwrap().to_owned();
    let r = api
        .send(
            Method::PUT,
            &format!("/api/v2/settings/objects/{id}"),
            Some(json!({"value": {"patEnabled": false}})),
        )
        .await;
    let e = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("settings.write"));
}

#[tokio::test]
async fn unknown_schemas_and_objects_are_404_and_bad_values_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    envelope(
        admin
            .get("/api/v2/settings/objects?schemaIds=builtin:alerting.profile")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    envelope(
        admin.get("/api/v2/settings/objects/nope").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = admin.get(LIST).await.json().await.unwrap();
    let path = format!(
        "/api/v2/settings/objects/{}",
        list["items"][0]["objectId"].as_str().unwrap()
    );
    envelope(
        admin
            .send_json(Method::PUT, &path, json!({"value": {"patEnabled": "yes"}}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        admin
            .send_json(Method::PUT, &path, json!({"value": {}}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    envelope(
        admin
            .send_json(
                Method::PUT,
                "/api/v2/settings/objects/nope",
                json!({"value": {"patEnabled": true}}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_toggle_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, token) = admin.generate("t", &["metrics.read"]).await;
    for _ in 0..5 {
        admin.set_pat_enabled(false).await;
        assert_eq!(
            app.check(&token, "metrics.read").await.status(),
            StatusCode::FORBIDDEN
        );
        admin.set_pat_enabled(true).await;
        assert_eq!(
            app.check(&token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
}
