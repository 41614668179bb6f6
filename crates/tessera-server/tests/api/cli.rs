//! `tessera-server user …` on the same database as a running server.
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn add_list_and_passwd_manage_users() {
    let app = TestApp::spawn_with(&[]).await;
    let printed = app.cli(
        &[
            "add",
            "erin",
            "--permissions",
            "metrics.read,slo.read",
            "--zones",
            "Staging",
        ],
        None,
    );
    let generated = printed
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password")
        .to_owned();
    assert_eq!(
        app.attempt_sign_in("erin", &generated).await.status(),
        StatusCode::OK
    );
    let list = app.cli(&["list"], None);
    let erin = list
        .lines()
        .find(|l| l.starts_with("erin "))
        .expect("erin listed");
    assert!(
        erin.contains("metrics.read,slo.read") && erin.contains("Staging"),
        "{list}"
    );
    assert!(list
        .lines()
        .any(|l| l.starts_with("admin ") && l.contains("(all)")));

    app.cli(
        &["passwd", "erin", "--password-stdin"],
        Some("a-new-password\n"),
    );
    assert_eq!(
        app.attempt_sign_in("erin", &generated).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.attempt_sign_in("erin", "a-new-password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_user_added_while_the_server_runs_can_sign_in_and_work_at_once() {
    // The periodic re-read is an hour away: only sign-in itself can know the new user.
    let app = TestApp::spawn_with(&["--user-refresh", "1h"]).await;
    app.admin().await.set_pat_enabled(true).await;
    let frank = app.user("frank", &["metrics.read"]).await;
    let me = frank.get("/api/session").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(
        me["user"]["permissions"],
        serde_json::json!(["metrics.read"])
    );
    let (_, token) = frank.generate("t", &["metrics.read"]).await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn bad_input_fails_with_a_clear_message_and_changes_nothing() {
    let app = TestApp::spawn_with(&[]).await;
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (&["add", "admin"], None, "already exists"),
        (&["add", "bad name"], None, "Username may only contain"),
        (
            &["add", "frank", "--permissions", "metrics.ingest"],
            None,
            "unknown scope",
        ),
        (
            &["add", "gina", "--password-stdin"],
            Some("short\n"),
            "at least 8 characters",
        ),
        (&["disable", "nobody"], None, "no user `nobody`"),
    ];
    for (args, stdin, message) in cases {
        let (ok, text) = app.cli_result(args, stdin);
        assert!(!ok, "{args:?} should fail");
        assert!(text.contains(message), "{args:?}: {text}");
    }
    let list = app.cli(&["list"], None);
    assert_eq!(list.lines().count(), 2, "only the header and admin: {list}");
}
