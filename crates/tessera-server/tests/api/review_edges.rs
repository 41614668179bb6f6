//! Issue 13: bounded memory for what unauthenticated clients send, an unambiguous zones
//! header, and configuration that `--help` tells in full. Each test failed before its fix.
use reqwest::{Method, StatusCode};

use crate::helpers::{envelope, TestApp, BIN};

#[tokio::test]
async fn made_up_methods_and_paths_do_not_create_metric_series() {
    let app = TestApp::spawn_with(&[]).await;
    let client = reqwest::Client::new();
    for i in 0..20 {
        let method = Method::from_bytes(format!("M{i}X").as_bytes()).unwrap();
        for path in [
            "/api/v2/apiTokens",
            "/healthz",
            &format!("/api/nope{i}"),
            &format!("/x{i}"),
        ] {
            client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
        }
        client
            .get(app.url(&format!("/api/nope{i}")))
            .send()
            .await
            .unwrap();
    }
    let metrics = client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("tessera_http_requests_total{"))
        .collect();
    assert!(!series.is_empty(), "{metrics}");
    for line in &series {
        assert!(
            !line.contains("M1") && !line.contains("nope") && !line.contains("/x1"),
            "{line}"
        );
        assert!(
            ["1xx", "2xx", "3xx", "4xx", "5xx"]
                .iter()
                .any(|c| line.contains(&format!("status=\"{c}\""))),
            "status is a class: {line}"
        );
    }
    assert!(
        series.iter().any(|l| l.contains("method=\"other\"")),
        "{metrics}"
    );
    assert!(
        series.len() < 30,
        "{} series from 100 requests: {series:#?}",
        series.len()
    );
}

#[tokio::test]
async fn a_username_that_cannot_exist_is_refused_before_the_limiter_keeps_it() {
    let app = TestApp::spawn_with(&["--login-attempts-per-user", "5"]).await;
    for name in ["x".repeat(60_000), "two words".into(), String::new()] {
        let r = app.attempt_sign_in(&name, "whatever-password").await;
        let body = envelope(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["constraintViolations"][0]["path"], "username");
    }
    // Refused usernames take nothing from the per-username budget of real ones.
    for _ in 0..5 {
        let r = app.attempt_sign_in("admin", "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn zones_are_percent_encoded_with_explicit_values_for_none_and_all() {
    let app = TestApp::spawn().await;
    let zoned = app.add_user("ines", &["metrics.read"], &["Zürich", "eu west"]);
    let ines = app.sign_in("ines", &zoned).await;
    let (_, token) = ines.generate("t", &["metrics.read"]).await;
    let r = app.check(&token, "metrics.read").await;
    assert_eq!(
        r.headers()["x-tessera-management-zones"],
        "Z%C3%BCrich,eu%20west"
    );

    let bare = app.add_user("jon", &["metrics.read"], &[]);
    let jon = app.sign_in("jon", &bare).await;
    let (_, token) = jon.generate("t", &["metrics.read"]).await;
    let r = app.check(&token, "metrics.read").await;
    assert_eq!(
        r.headers()["x-tessera-management-zones"],
        "-",
        "no zones is said, not empty"
    );

    for zones in ["*", "-", "Prod,*"] {
        let (ok, text) = app.cli_result(&["add", "kim", "--zones", zones], None);
        assert!(!ok && text.contains("zone"), "{zones}: {text}");
        let (ok, text) = app.cli_result(&["update", "jon", "--zones", zones], None);
        assert!(!ok && text.contains("zone"), "{zones}: {text}");
    }
}

#[test]
fn help_names_every_setting_and_its_variable() {
    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    // A flag's entry: its line and the next (clap puts the help on the line below).
    let entry = |flag: &str| -> String {
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|l| {
                let l = l.trim();
                l == flag || l.starts_with(&format!("{flag} "))
            })
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        lines[at..(at + 2).min(lines.len())].join("\n")
    };
    for (flag, env) in [
        ("--listen", "TESSERA_LISTEN"),
        ("--database-url", "TESSERA_DATABASE_URL"),
        ("--assets", "TESSERA_ASSETS"),
        ("--secure-cookie", "TESSERA_SECURE_COOKIE"),
        ("--session-idle", "TESSERA_SESSION_IDLE"),
        ("--session-max", "TESSERA_SESSION_MAX"),
        ("--feed-poll", "TESSERA_FEED_POLL"),
        ("--admin-password", "TESSERA_ADMIN_PASSWORD"),
        ("--admin-password-file", "TESSERA_ADMIN_PASSWORD_FILE"),
        ("--demo-password", "TESSERA_DEMO_PASSWORD"),
        ("--demo", "TESSERA_DEMO"),
        ("--header-timeout", "TESSERA_HEADER_TIMEOUT"),
        ("--trusted-proxy", "TESSERA_TRUSTED_PROXY"),
        ("--log-format", "TESSERA_LOG_FORMAT"),
        ("--log", "TESSERA_LOG"),
    ] {
        let entry = entry(flag);
        assert!(entry.contains(&format!("env: {env}")), "{flag}:\n{entry}");
    }
    assert!(
        entry("--demo").contains("demo users"),
        "--demo says what it does"
    );
    assert!(!entry("--header-timeout").contains("demo"));
    // Secrets from the environment are never echoed by --help.
    let secret = std::process::Command::new(BIN)
        .arg("--help")
        .env("TESSERA_ADMIN_PASSWORD", "do-not-print-me")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&secret.stdout).contains("do-not-print-me"));
}

#[tokio::test]
async fn the_admin_password_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin-password");
    std::fs::write(&file, "from-a-file-123\n").unwrap();
    let app = TestApp::spawn_with(&["--admin-password-file", file.to_str().unwrap()]).await;
    // The test harness sets TESSERA_ADMIN_PASSWORD too: the file wins, being explicit.
    let r = app.attempt_sign_in("admin", "from-a-file-123").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_symlinked_database_path_takes_the_same_lock() {
    let app = TestApp::spawn_with(&[]).await;
    if !app.on_sqlite() {
        return; // the lock file is SQLite's
    }
    let link = tempfile::tempdir().unwrap();
    let alias = link.path().join("alias.db");
    std::os::unix::fs::symlink(app.dir.path().join("tessera.db"), &alias).unwrap();
    let url = format!("sqlite://{}", alias.display());
    let mut second = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database-url", &url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A second server either refuses at once or keeps running: wait for the exit a while.
    let mut status = None;
    for _ in 0..100 {
        status = second.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let Some(status) = status else {
        second.kill().unwrap();
        panic!("a second server started on the same database through a symlink");
    };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut text).unwrap();
    assert!(!status.success() && text.contains("in use"), "{text}");
    let r = app
        .attempt_sign_in("admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
