//! The users API at its edges (found by review): concurrent changes of one user, names no
//! user can have, changes that change nothing, names that hide characters.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{envelope, TestApp};

const USERS: &str = "/api/v2/tessera/users";

/// On PostgreSQL the actor's row was read with a shared lock and then, being also the
/// target, locked for update: two such changes at once deadlocked (a 500 for one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_one_user_never_fail() {
    let app = TestApp::spawn().await;
    let admin = std::sync::Arc::new(app.admin().await);
    for round in 0..10 {
        let calls: Vec<_> = (0..4)
            .map(|i| {
                let admin = admin.clone();
                tokio::spawn(async move {
                    let body = json!({"displayName": format!("Admin {round}.{i}")});
                    admin
                        .send_json(Method::PUT, &format!("{USERS}/admin"), body)
                        .await
                        .status()
                })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), StatusCode::OK, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_name_no_user_can_have_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["%00", "a%20b", "%C3%A9", "x%2Fy"] {
        envelope(
            admin.get(&format!("{USERS}/{name}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let r = admin
            .send_json(
                Method::PUT,
                &format!("{USERS}/{name}"),
                json!({"active": false}),
            )
            .await;
        envelope(r, StatusCode::NOT_FOUND).await;
        let r = admin
            .request(Method::POST, &format!("{USERS}/{name}/password"))
            .send()
            .await
            .unwrap();
        envelope(r, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn a_change_that_changes_nothing_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.add_user("carol", &["metrics.read"], &[]);
    let before = app.audit_events().await.len();
    let r = admin
        .send_json(Method::PUT, &format!("{USERS}/carol"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.audit_events().await.len(), before);
}

#[tokio::test]
async fn display_names_may_not_hide_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["evil\u{202E}txt", "zero\u{200B}width", "bell\u{7}", " "] {
        let r = admin
            .send_json(
                Method::POST,
                USERS,
                json!({"username": "dora", "displayName": name}),
            )
            .await;
        let body = envelope(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["constraintViolations"][0]["path"], "displayName",
            "{name:?}"
        );
    }
    let (ok, out) = app.cli_result(&["add", "dora", "--display-name", "evil\u{202E}txt"], None);
    assert!(!ok && out.contains("display name"), "{out}");
    let r = admin
        .send_json(
            Method::POST,
            USERS,
            json!({"username": "dora", "displayName": "  Dora Ø  "}),
        )
        .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["user"]["displayName"],
        "Dora Ø"
    );
}
