//! Issue 14: the users API (`/api/v2/tessera/users`): admins by session only, validation
//! next to the field, a generated password shown once, and an administrator who can
//! neither lock themselves out nor leave Tessera without an active administrator.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp, ADMIN_PASSWORD};

const USERS: &str = "/api/v2/tessera/users";

async fn violation(r: reqwest::Response, status: StatusCode) -> String {
    let body = envelope(r, status).await;
    body["error"]["constraintViolations"][0]["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_admin_adds_a_user_who_signs_in_with_the_password_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({"username": "carol", "displayName": "Carol C", "permissions": ["metrics.read", "slo.read"], "managementZones": ["Production"]});
    let r = admin.send_json(Method::POST, USERS, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        created["user"]["permissions"],
        json!(["metrics.read", "slo.read"])
    );
    assert_eq!(created["user"]["active"], true);
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 20);

    let carol = app.sign_in("carol", password).await;
    let r = carol
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "t", "scopes": ["entities.read"]}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "only the two permissions given"
    );
    carol.generate("t", &["slo.read"]).await;

    let listed: Value = admin
        .get(&format!("{USERS}?search=CAROL"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(listed["users"][0]["displayName"], "Carol C");
    assert!(listed["users"][0].get("passwordHash").is_none());
    let one: Value = admin
        .get(&format!("{USERS}/carol"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["username"], "carol");
    let events = app.audit_events().await;
    assert!(events.iter().any(|e| e.event == "user.added"
        && e.target.as_deref() == Some("carol")
        && e.actor == "admin"));
}

#[tokio::test]
async fn bad_input_is_refused_next_to_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (body, status, path) in [
        (
            json!({"username": "a b"}),
            StatusCode::BAD_REQUEST,
            "username",
        ),
        (
            json!({"username": "dave", "permissions": ["metrics.read", "nope"]}),
            StatusCode::BAD_REQUEST,
            "permissions[1]",
        ),
        (
            json!({"username": "dave", "displayName": " "}),
            StatusCode::BAD_REQUEST,
            "displayName",
        ),
        (
            json!({"username": "dave", "managementZones": ["ok", "*"]}),
            StatusCode::BAD_REQUEST,
            "managementZones[1]",
        ),
        (
            json!({"username": "admin"}),
            StatusCode::CONFLICT,
            "username",
        ),
    ] {
        let r = admin.send_json(Method::POST, USERS, body.clone()).await;
        assert_eq!(violation(r, status).await, path, "{body}");
    }
    let r = admin
        .send_json(
            Method::POST,
            USERS,
            json!({"username": "dave", "colour": "red"}),
        )
        .await;
    envelope(r, StatusCode::BAD_REQUEST).await;
    let r = admin
        .send_json(
            Method::PUT,
            &format!("{USERS}/nobody"),
            json!({"displayName": "x"}),
        )
        .await;
    envelope(r, StatusCode::NOT_FOUND).await;
    let listed: Value = admin.get(USERS).await.json().await.unwrap();
    assert_eq!(listed["totalCount"], 1, "nothing was created: {listed}");
}

#[tokio::test]
async fn only_a_signed_in_admin_manages_users_never_a_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    for r in [
        alice.get(USERS).await,
        alice
            .send_json(
                Method::POST,
                USERS,
                json!({"username": "eve", "admin": true}),
            )
            .await,
        alice
            .send_json(
                Method::PUT,
                &format!("{USERS}/alice"),
                json!({"admin": true}),
            )
            .await,
        alice
            .request(Method::POST, &format!("{USERS}/admin/password"))
            .send()
            .await
            .unwrap(),
    ] {
        envelope(r, StatusCode::FORBIDDEN).await;
    }
    let (_, token) = admin
        .generate(
            "all",
            &["apiTokens.read", "apiTokens.write", "settings.write"],
        )
        .await;
    let r = app
        .token_client(&token)
        .send(Method::GET, USERS, None)
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
    let r = reqwest::get(app.url(USERS)).await.unwrap();
    envelope(r, StatusCode::UNAUTHORIZED).await;
    // A session write without the CSRF header is refused.
    let r = admin
        .client
        .post(format!("{}{USERS}", admin.base))
        .json(&json!({"username": "eve"}))
        .send()
        .await
        .unwrap();
    envelope(r, StatusCode::FORBIDDEN).await;
    assert!(app.store().await.user("eve").await.unwrap().is_none());
}

#[tokio::test]
async fn an_admin_cannot_demote_or_disable_themselves_nor_the_last_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for body in [json!({"admin": false}), json!({"active": false})] {
        let r = admin
            .send_json(Method::PUT, &format!("{USERS}/admin"), body.clone())
            .await;
        let field = body.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(violation(r, StatusCode::CONFLICT).await, field);
    }
    // The CLI is bound by the last-admin rule too.
    let (ok, out) = app.cli_result(&["update", "admin", "--admin", "false"], None);
    assert!(!ok && out.contains("last active administrator"), "{out}");

    // With a second admin, one may demote the other, but not the last one left.
    let r = admin
        .send_json(
            Method::POST,
            USERS,
            json!({"username": "root2", "admin": true}),
        )
        .await;
    let password = r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let root2 = app.sign_in("root2", &password).await;
    let r = root2
        .send_json(
            Method::PUT,
            &format!("{USERS}/admin"),
            json!({"admin": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let demoted = app.sign_in("admin", ADMIN_PASSWORD).await;
    envelope(demoted.get(USERS).await, StatusCode::FORBIDDEN).await;
    let (ok, out) = app.cli_result(&["disable", "root2"], None);
    assert!(!ok && out.contains("last active administrator"), "{out}");
}

#[tokio::test]
async fn a_password_reset_is_shown_once_and_ends_the_old_password_and_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let password = app.add_user("frank", &["metrics.read"], &[]);
    let frank = app.sign_in("frank", &password).await;
    let r = admin
        .request(Method::POST, &format!("{USERS}/frank/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let new_password = r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_password, password);
    assert_eq!(
        frank.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.attempt_sign_in("frank", &password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.sign_in("frank", &new_password).await;
}

#[tokio::test]
async fn disabling_a_user_through_the_api_stops_their_tokens_and_enabling_restores_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (_, token) = alice.generate("t", &["metrics.read"]).await;
    let path = format!("{USERS}/alice");
    let r = admin
        .send_json(Method::PUT, &path, json!({"active": false}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = admin
        .send_json(
            Method::PUT,
            &path,
            json!({"active": true, "permissions": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Enabled again, but the permission was taken away: rule 7.
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// Two admins demoting each other at once: one wins, Tessera keeps an active admin, and
/// neither request fails with a server error (on PostgreSQL the rule takes a lock first).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for round in 0..5 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        let mut sessions = Vec::new();
        for name in [&x, &y] {
            let r = admin
                .send_json(
                    Method::POST,
                    USERS,
                    json!({"username": name, "admin": true}),
                )
                .await;
            let password = r.json::<Value>().await.unwrap()["password"]
                .as_str()
                .unwrap()
                .to_owned();
            sessions.push(app.sign_in(name, &password).await);
        }
        // The original admin steps aside, so x and y are the only active admins.
        let r = sessions[0]
            .send_json(
                Method::PUT,
                &format!("{USERS}/admin"),
                json!({"admin": false}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let (to_y, to_x) = (format!("{USERS}/{y}"), format!("{USERS}/{x}"));
        let (a, b) = tokio::join!(
            sessions[0].send_json(Method::PUT, &to_y, json!({"admin": false})),
            sessions[1].send_json(Method::PUT, &to_x, json!({"admin": false})),
        );
        let statuses = [a.status(), b.status()];
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(s)),
            "{statuses:?}"
        );
        let admins: Vec<_> = app
            .store()
            .await
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.admin && u.active)
            .collect();
        assert_eq!(admins.len(), 1, "round {round}");
        // Hand back to the original admin for the next round.
        let winner = if a.status() == StatusCode::OK {
            &sessions[0]
        } else {
            &sessions[1]
        };
        let r = winner
            .send_json(
                Method::PUT,
                &format!("{USERS}/admin"),
                json!({"admin": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let last = admins[0].username.clone();
        let r = admin
            .send_json(
                Method::PUT,
                &format!("{USERS}/{last}"),
                json!({"admin": false}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
}

/// The same through two command lines at once (trusted: no acting user's row is read, so
/// only the rule's own lock keeps them apart on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_command_lines_demoting_the_last_two_admins_leave_one() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    for round in 0..6 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        for name in [&x, &y] {
            app.cli(&["add", name, "--admin"], None);
        }
        app.cli(&["update", "admin", "--admin", "false"], None);
        let runs: Vec<_> = [x.clone(), y.clone()]
            .into_iter()
            .map(|name| {
                let app = app.clone();
                std::thread::spawn(move || {
                    app.cli_result(&["update", &name, "--admin", "false"], None)
                })
            })
            .collect();
        let results: Vec<(bool, String)> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|(ok, _)| *ok).count(),
            1,
            "{results:?}"
        );
        let admins: Vec<_> = app
            .store()
            .await
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.admin && u.active)
            .collect();
        assert_eq!(admins.len(), 1, "round {round}: {results:?}");
        app.cli(&["update", "admin", "--admin", "true"], None);
        app.cli(&["update", &admins[0].username, "--admin", "false"], None);
    }
}
