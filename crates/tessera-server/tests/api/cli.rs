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
    // The feed is polled once an hour: only sign-in's own catch-up can know the new user.
    let app = TestApp::spawn_with(&["--feed-poll", "1h"]).await;
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

#[tokio::test]
async fn a_user_disabled_with_the_cli_is_refused_by_the_running_server_within_a_second() {
    let app = TestApp::spawn().await;
    let gwen = app.user("gwen", &["metrics.read"]).await;
    let (_, token) = gwen.generate("t", &["metrics.read"]).await;
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    app.cli(&["disable", "gwen"], None);
    let disabled = std::time::Instant::now();
    let deadline = disabled + std::time::Duration::from_secs(1);
    let mut status = StatusCode::NO_CONTENT;
    while std::time::Instant::now() < deadline {
        status = app.check(&token, "metrics.read").await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
    }
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "still accepted {:?} after the CLI disabled its owner",
        disabled.elapsed()
    );
    // And the session they had is refused too.
    assert_eq!(
        gwen.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn a_database_url_of_another_scheme_gets_one_line_naming_the_supported_ones() {
    for args in [
        &["user", "list"][..],
        &["--listen", "127.0.0.1:0"][..],
        &["backup", "/tmp/never-written.db"][..],
    ] {
        let out = std::process::Command::new(crate::helpers::BIN)
            .args(args)
            .args([
                "--database-url",
                "mysql://tessera:s3cret@db.example/tessera",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("unsupported database URL scheme `mysql:`")
                && text.contains("sqlite://")
                && text.contains("postgres://"),
            "{args:?}: {text}"
        );
        assert!(
            !text.contains("s3cret"),
            "the password is not repeated: {text}"
        );
        assert_eq!(text.trim().lines().count(), 1, "{args:?}: {text}");
    }
}
