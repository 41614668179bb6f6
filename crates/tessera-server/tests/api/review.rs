//! Issue 13: holes an outside review found in who may do what — environment tokens that
//! outlive their creator's rights, sessions that outlive a password, answers that leak
//! before authorization, forged page keys. Each test failed on the code before its fix.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

const ALL_SCOPES: [&str; 17] = [
    "apiTokens.read",
    "apiTokens.write",
    "entities.read",
    "entities.write",
    "metrics.read",
    "metrics.write",
    "networkZones.read",
    "networkZones.write",
    "problems.read",
    "problems.write",
    "releases.read",
    "securityProblems.read",
    "securityProblems.write",
    "settings.read",
    "settings.write",
    "slo.read",
    "slo.write",
];

#[tokio::test]
async fn a_demoted_admin_can_neither_widen_nor_keep_using_an_environment_token() {
    let app = TestApp::spawn().await;
    app.cli(
        &["add", "ops", "--admin", "--password-stdin"],
        Some("ops-password-1\n"),
    );
    let ops = app.sign_in("ops", "ops-password-1").await;
    let r = ops
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "ci", "scopes": ["apiTokens.read"], "personalAccessToken": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let (id, token) = (
        created["id"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    assert_eq!(
        app.check(token, "apiTokens.read").await.status(),
        StatusCode::NO_CONTENT
    );

    app.cli(
        &["update", "ops", "--admin", "false", "--permissions", ""],
        None,
    );
    let path = format!("/api/v2/apiTokens/{id}");
    let stored: Value = ops.get(&path).await.json().await.unwrap();
    assert_eq!(
        stored["enabled"], false,
        "demotion disables their environment tokens"
    );
    // The CLI's change reaches the running server through the feed.
    app.eventually_check(token, "apiTokens.read", StatusCode::UNAUTHORIZED)
        .await;
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "token.disabled"
            && e.target.as_deref() == Some(id)
            && e.actor == "cli"));

    for body in [json!({"scopes": ALL_SCOPES}), json!({"enabled": true})] {
        let r = ops.send_json(Method::PUT, &path, body.clone()).await;
        envelope(r, StatusCode::FORBIDDEN).await;
    }
    // Narrowing, renaming, disabling and deleting their own stay allowed.
    for body in [
        json!({"name": "old ci"}),
        json!({"enabled": false}),
        json!({"scopes": ["apiTokens.read"]}),
    ] {
        let r = ops.send_json(Method::PUT, &path, body.clone()).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{body}");
    }
    let r = ops.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_pat_cannot_mint_or_widen_an_environment_token_even_an_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, pat) = admin
        .generate("admin pat", &["apiTokens.write", "apiTokens.read"])
        .await;
    let by_pat = app.token_client(&pat);
    let env_body = json!({"name": "env", "scopes": ["metrics.read"], "personalAccessToken": false});
    let r = by_pat
        .send(Method::POST, "/api/v2/apiTokens", Some(env_body.clone()))
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;

    // An environment token minted by a session may mint another one (not through a PAT).
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "env", "scopes": ["apiTokens.write", "metrics.read"], "personalAccessToken": false}),
        )
        .await;
    let env: Value = r.json().await.unwrap();
    let by_env = app.token_client(env["token"].as_str().unwrap());
    let r = by_env
        .send(Method::POST, "/api/v2/apiTokens", Some(env_body))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.unwrap();
    let path = format!("/api/v2/apiTokens/{}", second["id"].as_str().unwrap());
    let widen = json!({"scopes": ["metrics.read", "settings.write"]});
    let r = by_pat.send(Method::PUT, &path, Some(widen.clone())).await;
    envelope(r, StatusCode::FORBIDDEN).await;
    let r = by_pat
        .send(Method::PUT, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a PAT may still disable one"
    );
    let r = by_pat
        .send(Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
    let r = admin.send_json(Method::PUT, &path, widen).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "an admin's session may widen"
    );
}

#[tokio::test]
async fn a_password_change_or_a_disable_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let password = app.add_user("hana", &["metrics.read"], &[]);
    let first = app.sign_in("hana", &password).await;
    let second = app.sign_in("hana", &password).await;
    app.cli(
        &["passwd", "hana", "--password-stdin"],
        Some("hana-password-2\n"),
    );
    for session in [&first, &second] {
        assert_eq!(
            session.get("/api/session").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let third = app.sign_in("hana", "hana-password-2").await;
    app.cli(&["disable", "hana"], None);
    app.cli(&["enable", "hana"], None);
    assert_eq!(
        third.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED,
        "enable does not revive sessions that disable ended"
    );
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "user.password_changed"));
}

#[tokio::test]
async fn a_session_ends_after_its_absolute_lifetime_however_active() {
    let app = TestApp::spawn_with(&["--session-max", "2s"]).await;
    let admin = app.admin().await;
    let started = std::time::Instant::now();
    // Active the whole time: the idle limit (12 h) never applies.
    while started.elapsed() < std::time::Duration::from_millis(2_100) {
        assert_eq!(admin.get("/api/session").await.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert_eq!(
        admin.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_secure_cookie_uses_the_host_prefix_and_is_read_back() {
    let app = TestApp::spawn_with(&["--secure-cookie"]).await;
    let r = app
        .attempt_sign_in("admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-tessera_session="), "{set}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let pair = set.split(';').next().unwrap();
    let me = reqwest::Client::new()
        .get(app.url("/api/session"))
        .header("Cookie", format!("other=1; {pair}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // Without the prefix the cookie is not Tessera's session on a Secure deployment.
    let unprefixed = pair.trim_start_matches("__Host-");
    let me = reqwest::Client::new()
        .get(app.url("/api/session"))
        .header("Cookie", unprefixed)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn callers_learn_nothing_about_their_input_before_they_are_allowed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, reader) = admin.generate("reader", &["metrics.read"]).await;
    let bad_token = "Api-Token dt0c01.AAAAAAAAAAAAAAAAAAAAAAAA.nope";
    let check = |auth: Option<&str>| {
        let mut r = reqwest::Client::new().get(app.url("/api/v2/auth/check?scope=no.such"));
        if let Some(auth) = auth {
            r = r.header("Authorization", auth);
        }
        r.send()
    };
    envelope(
        check(Some(bad_token)).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    envelope(check(None).await.unwrap(), StatusCode::UNAUTHORIZED).await;
    let with_reader = check(Some(&format!("Api-Token {reader}"))).await.unwrap();
    envelope(with_reader, StatusCode::BAD_REQUEST).await;

    let client = app.token_client(&reader);
    let malformed = client
        .client
        .post(app.url("/api/v2/apiTokens"))
        .header("Authorization", format!("Api-Token {reader}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    envelope(malformed, StatusCode::FORBIDDEN).await;
    let bad_query = client
        .send(Method::GET, "/api/v2/apiTokens?pageSize=0", None)
        .await;
    envelope(bad_query, StatusCode::FORBIDDEN).await;
    let bad_settings = client
        .send(
            Method::PUT,
            "/api/v2/settings/objects/x",
            Some(json!({"nonsense": 1})),
        )
        .await;
    envelope(bad_settings, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_forged_page_key_with_a_huge_offset_is_a_400() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..3 {
        admin.generate(&format!("t{i}"), &["metrics.read"]).await;
    }
    let first: Value = admin
        .get("/api/v2/apiTokens?pageSize=1")
        .await
        .json()
        .await
        .unwrap();
    let key = first["nextPageKey"].as_str().unwrap();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut decoded: Value = serde_json::from_slice(&engine.decode(key).unwrap()).unwrap();
    for offset in [json!(u64::MAX), json!(i64::MAX), json!(1u64 << 63)] {
        decoded["at"]["offset"] = offset;
        let forged = engine.encode(serde_json::to_vec(&decoded).unwrap());
        let r = admin
            .get(&format!("/api/v2/apiTokens?nextPageKey={forged}"))
            .await;
        let body = envelope(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["constraintViolations"][0]["path"],
            "nextPageKey"
        );
    }
}
