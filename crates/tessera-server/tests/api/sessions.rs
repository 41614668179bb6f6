//! Browser sessions: cookie, CSRF, expiry, sign-out, rate limiting, audit.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp, ADMIN_PASSWORD};

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_returns_the_session() {
    let app = TestApp::spawn().await;
    let r = app.attempt_sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tessera_session="));
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Secure"), "not configured for TLS");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["admin"], true);
    assert_eq!(
        body["user"]["permissions"].as_array().unwrap().len(),
        18,
        "admins hold every permission"
    );
    assert_eq!(body["patEnabled"], true);
    assert!(body["csrfToken"].as_str().unwrap().len() >= 32);

    let secure = TestApp::spawn_with(&["--secure-cookie"]).await;
    let r = secure.attempt_sign_in("admin", ADMIN_PASSWORD).await;
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn bad_credentials_get_one_generic_message_and_are_audited() {
    let app = TestApp::spawn().await;
    app.add_user("carol", &[], &[]);
    app.cli(&["disable", "carol"], None);
    let wrong = envelope(
        app.attempt_sign_in("admin", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = envelope(
        app.attempt_sign_in("nobody", "wrong-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let disabled = envelope(
        app.attempt_sign_in("carol", "carol-password-1").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, disabled);
    assert_eq!(wrong["error"]["message"], "Invalid username or password");
    let events = app.audit_events().await;
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.event == "signin.failed")
        .collect();
    assert_eq!(failed.len(), 3);
    assert!(failed
        .iter()
        .all(|e| e.client_addr.as_deref() == Some("127.0.0.1")));
    assert!(events
        .iter()
        .any(|e| e.event == "signin.succeeded" && e.actor == "admin"));
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token_and_token_requests_do_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({"name": "n", "scopes": ["apiTokens.write", "metrics.read"]});
    let url = app.url("/api/v2/apiTokens");
    let r = admin.client.post(&url).json(&body).send().await.unwrap();
    let e = envelope(r, StatusCode::FORBIDDEN).await;
    assert!(e["error"]["message"].as_str().unwrap().contains("CSRF"));
    let r = admin
        .client
        .post(&url)
        .header("X-CSRF-Token", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::FORBIDDEN).await;
    let (id, token) = admin
        .generate("n", &["apiTokens.write", "metrics.read"])
        .await;
    let r = admin
        .client
        .delete(app.url(&format!("/api/v2/apiTokens/{id}")))
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::FORBIDDEN).await;
    // Reads need none; token-authenticated writes need none.
    assert_eq!(
        admin.get("/api/v2/apiTokens").await.status(),
        StatusCode::OK
    );
    let api = app.token_client(&token);
    let r = api
        .send(
            Method::POST,
            "/api/v2/apiTokens",
            Some(json!({"name": "m", "scopes": ["metrics.read"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let r = app.attempt_sign_in("admin", ADMIN_PASSWORD).await;
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let get = || {
        client
            .get(app.url("/api/session"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    let out = client
        .delete(app.url("/api/session"))
        .header("cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The old cookie value is worthless now, even if a client kept it.
    envelope(get().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "signout"));
}

#[tokio::test]
async fn sessions_expire_after_inactivity() {
    let app = TestApp::spawn_with(&["--session-idle", "1s"]).await;
    let admin = app.admin().await;
    assert_eq!(admin.get("/api/session").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    envelope(admin.get("/api/session").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_user_holds_a_bounded_number_of_sessions() {
    let app = TestApp::spawn_with(&["--max-sessions-per-user", "2"]).await;
    let first = app.admin().await;
    let _second = app.admin().await;
    assert_eq!(first.get("/api/session").await.status(), StatusCode::OK);
    let third = app.admin().await;
    envelope(first.get("/api/session").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(third.get("/api/session").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_username() {
    let app = TestApp::spawn_with(&["--login-attempts-per-user", "5"]).await;
    for _ in 0..5 {
        assert_eq!(
            app.attempt_sign_in("admin", "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.attempt_sign_in("admin", ADMIN_PASSWORD).await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    envelope(r, StatusCode::TOO_MANY_REQUESTS).await;
    // Other users are not locked out by attempts on admin.
    app.add_user("dora", &[], &[]);
    assert_eq!(
        app.attempt_sign_in("dora", "dora-password-1")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(&["--login-attempts-per-address", "3"]).await;
    for name in ["a1", "a2", "a3"] {
        assert_eq!(
            app.attempt_sign_in(name, "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.attempt_sign_in("a4", "wrong").await;
    assert!(r.headers().contains_key("retry-after"));
    envelope(r, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn session_reports_pat_state_and_permissions_of_a_non_admin() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    let s: Value = alice.get("/api/session").await.json().await.unwrap();
    assert_eq!(s["user"]["admin"], false);
    assert_eq!(
        s["user"]["permissions"],
        json!(["metrics.read", "slo.read"])
    );
    assert_eq!(s["user"]["managementZones"], json!(["Production"]));
    assert_eq!(s["user"]["allZones"], false);
}
