//! Issue 6: `backup` takes a consistent copy under write load; `restore` brings back every
//! token, user and setting, refuses while a server runs, and refuses a bad file.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_restores_every_token_and_setting() {
    let app = TestApp::spawn().await;
    if !app.on_sqlite() {
        // PostgreSQL is backed up with pg_dump; the command says so instead of copying.
        let file = app.dir.path().join("backup.db");
        let (ok, out) = app.run(&["backup", file.to_str().unwrap()]);
        assert!(!ok && out.contains("pg_dump"), "{out}");
        let (ok, out) = app.run(&["restore", file.to_str().unwrap()]);
        assert!(!ok && out.contains("pg_dump"), "{out}");
        return;
    }
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    let mut before: Vec<(String, String)> = Vec::new();
    for i in 0..20 {
        before.push(
            alice
                .generate(&format!("before-{i}"), &["metrics.read"])
                .await,
        );
    }
    let (disabled, disabled_token) = alice.generate("disabled", &["slo.read"]).await;
    let r = alice
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{disabled}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Writers keep generating while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url, csrf, stop) = (
                admin.client.clone(),
                app.url("/api/v2/apiTokens"),
                admin.csrf.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let r = client
                        .post(&url)
                        .header("X-CSRF-Token", &csrf)
                        .json(&json!({"name": format!("load-{w}-{n}"), "scopes": ["metrics.read"]}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::CREATED);
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let file = app.dir.path().join("backup.db");
    let (ok, out) = tokio::task::block_in_place(|| app.run(&["backup", file.to_str().unwrap()]));
    assert!(ok, "{out}");
    assert!(out.contains("Backed up"), "{out}");
    stop.store(true, Ordering::SeqCst);
    let mut generated_under_load = 0;
    for w in writers {
        generated_under_load += w.await.unwrap();
    }
    assert!(generated_under_load > 0);

    // A second backup to the same file is refused; nothing is overwritten.
    let (ok, out) = app.run(&["backup", file.to_str().unwrap()]);
    assert!(!ok && out.contains("already exists"), "{out}");

    // What the backup should bring back: the tokens as they are now, minus the load
    // written after the snapshot (which we cannot know exactly, so compare by name).
    let at_backup_time = admin.all_tokens("+scopes,+expirationDate").await;

    // After the backup: a new token, PATs off, a deleted token.
    let (_, after_token) = alice.generate("after", &["metrics.read"]).await;
    let r = alice
        .request(
            Method::DELETE,
            &format!("/api/v2/apiTokens/{}", before[0].0),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    admin.set_pat_enabled(false).await;

    // Restore is refused while the server runs, and leaves everything as it was.
    let (ok, out) = app.run(&["restore", file.to_str().unwrap()]);
    assert!(
        !ok && out.contains("in use by a running Tessera server"),
        "{out}"
    );
    assert_eq!(
        app.check(&after_token, "metrics.read").await.status(),
        StatusCode::FORBIDDEN
    );

    let app = app.restart_with(|stopped| {
        let (ok, out) = stopped.run(&["restore", file.to_str().unwrap()]);
        assert!(ok, "{out}");
        assert!(
            out.contains("Restored") && out.contains("Kept the replaced database"),
            "{out}"
        );
    });

    // Every token from before the backup works again (PATs are on, as they were).
    for (id, token) in &before {
        assert_eq!(
            app.check(token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT,
            "{id}"
        );
    }
    // The disabled one is still disabled; the one made after the backup never existed.
    assert_eq!(
        app.check(&disabled_token, "slo.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.check(&after_token, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // alice can sign in with her password; her tokens and their fields are as they were.
    let alice = app.sign_in("alice", "alice-password-1").await;
    let admin = app.admin().await;
    let restored = admin.all_tokens("+scopes,+expirationDate").await;
    let names = |list: &[Value]| {
        list.iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect::<std::collections::HashSet<_>>()
    };
    let (restored_names, expected_names) = (names(&restored), names(&at_backup_time));
    assert!(
        restored_names.is_subset(&expected_names),
        "restored a token that never was"
    );
    for token in &at_backup_time {
        let name = token["name"].as_str().unwrap();
        if name.starts_with("load-") && !restored_names.contains(name) {
            continue; // written after the snapshot
        }
        let same = restored
            .iter()
            .find(|t| t["id"] == token["id"])
            .unwrap_or_else(|| panic!("{name} lost"));
        assert_eq!(same, token);
    }
    let mine: Value = alice
        .get(&format!("/api/v2/apiTokens/{disabled}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["enabled"], false);
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_tessera_backup() {
    let app = TestApp::spawn().await;
    if !app.on_sqlite() {
        return; // restore copies SQLite files; on PostgreSQL it is pg_restore's (above)
    }
    let (_, token) = app.admin().await.generate("keep", &["metrics.read"]).await;
    let garbage = app.dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database").unwrap();
    let other_sqlite = app.dir.path().join("other.db");
    {
        let url = format!("sqlite://{}?mode=rwc", other_sqlite.display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let app = app.restart_with(|stopped| {
        for (file, message) in [
            (&garbage, "not a"),
            (&other_sqlite, "not a Tessera database"),
        ] {
            let (ok, out) = stopped.run(&["restore", file.to_str().unwrap()]);
            assert!(!ok && out.contains(message), "{out}");
        }
        let (ok, out) = stopped.run(&["restore", "/nonexistent/backup.db"]);
        assert!(!ok, "{out}");
    });
    assert_eq!(
        app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_database_is_refused() {
    let app = TestApp::spawn().await;
    if !app.on_sqlite() {
        return; // any number of nodes share PostgreSQL (tests/api/cluster.rs)
    }
    let (ok, out) = app.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        !ok && out.contains("in use by a running Tessera server"),
        "{out}"
    );
}
