//! Issue 12: `tessera-server migrate-db` moves a single-node SQLite installation onto
//! PostgreSQL (runs in the PostgreSQL pass of `make test`).
use reqwest::{Method, StatusCode};
use serde_json::json;

use tessera_server::store::meter::UsageRow;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_db_moves_a_single_node_installation_and_every_token_still_works() {
    let Some(admin_url) = crate::helpers::postgres_admin_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("single.db").display());
    let single = TestApp::on_database(sqlite.clone(), &[]);
    let admin = single.admin().await;
    admin.set_pat_enabled(true).await;
    let lifecycle =
        "/api/v2/settings/objects/dGVzc2VyYTp0ZXNzZXJhOnRva2Vucy5saWZlY3ljbGU6ZW52aXJvbm1lbnQ";
    // The receiver is down: the policy's own settings.changed event waits in the outbox.
    let receiver = crate::helpers::Receiver::start(crate::webhooks::SECRET).await;
    receiver.set_down(true);
    let policy = json!({"value": {"maxLifetimeDays": 400, "webhookUrl": receiver.url,
        "webhookSecret": crate::webhooks::SECRET}});
    let r = admin.send_json(Method::PUT, lifecycle, policy).await;
    assert_eq!(r.status(), StatusCode::OK);
    receiver
        .wait_for(std::time::Duration::from_secs(10), |got| !got.is_empty())
        .await;
    let undelivered = receiver.received()[0].id.clone();
    let alice = single.user("alice", &["metrics.read", "slo.read"]).await;
    let (used_id, used) = generate_within_policy(&alice, "used", "metrics.read").await;
    let (_, plain) = generate_within_policy(&alice, "plain", "slo.read").await;
    let (off_id, off) = generate_within_policy(&alice, "off", "metrics.read").await;
    let r = alice
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{off_id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    single.check(&used, "metrics.read").await;
    let used_before = alice.token_after_use(&used_id).await;
    let usage_path = format!("/api/v2/apiTokens/{used_id}/usage");
    let usage_before: serde_json::Value = alice.get(&usage_path).await.json().await.unwrap();
    assert_eq!(usage_before["total"]["allowed"], 1, "{usage_before}");
    drop((alice, admin, single)); // the node is stopped before the move

    let target = crate::helpers::fresh_postgres_database(&admin_url).await;
    let run = |to: &str| {
        std::process::Command::new(crate::helpers::BIN)
            .args(["migrate-db", "--from", &sqlite, "--to", to])
            .output()
            .unwrap()
    };
    let out = run(&target);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Copied 2 users, 3 tokens"), "{text}");

    receiver.set_down(false);
    let moved = TestApp::on_database(target.clone(), &[]);
    // Usage counts came along (read before this node counts a check of its own).
    let alice = moved.sign_in("alice", "alice-password-1").await;
    let usage_after: serde_json::Value = alice.get(&usage_path).await.json().await.unwrap();
    assert_eq!(usage_after["hours"], usage_before["hours"], "{usage_after}");
    // Delivered from the new database, under the same webhook-id.
    receiver
        .wait_for(std::time::Duration::from_secs(20), |got| {
            got.iter()
                .any(|r| r.answered.is_success() && r.id == undelivered)
        })
        .await;
    assert_eq!(
        moved.check(&used, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        moved.check(&plain, "slo.read").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        moved.check(&off, "metrics.read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Password hashes came along; so did last use.
    let after: serde_json::Value = alice
        .get(&format!("/api/v2/apiTokens/{used_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["lastUsedDate"], used_before["lastUsedDate"]);
    // The lifecycle policy came along, its secret included.
    let admin = moved.admin().await;
    let read: serde_json::Value = admin.get(lifecycle).await.json().await.unwrap();
    assert_eq!(read["value"]["maxLifetimeDays"], 400);
    assert_eq!(read["value"]["webhookSecretSet"], true);
    assert!(moved
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "token.generated"));

    // A target that is not empty is refused, and left as it was.
    let again = run(&target);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("not empty"),
        "{err}"
    );
    assert_eq!(
        moved.check(&used, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

/// A token that expires within the policy this test sets (400 days).
async fn generate_within_policy(
    session: &crate::helpers::Session,
    name: &str,
    scope: &str,
) -> (String, String) {
    let body = json!({"name": name, "scopes": [scope], "expirationDate": "now+30d"});
    let r = session
        .send_json(Method::POST, "/api/v2/apiTokens", body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// Issue 16: SSO identities move too, due for re-validation at once on the new database
/// (their tokens must not act unchecked after the move); so do usage counts, however many
/// (more than one statement's worth here), in the same transaction.
#[tokio::test]
async fn migrate_db_carries_sso_identities_due_at_once_and_all_usage() {
    let Some(admin_url) = crate::helpers::postgres_admin_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("single.db").display());
    let single = TestApp::on_database(sqlite.clone(), &[]);
    single.add_user("carol", &["metrics.read"], &[]);
    drop(single);
    let source = tessera_server::store::open(&sqlite).await.unwrap();
    source
        .save_sso_identity("carol", "sealed-token", 1_000)
        .await
        .unwrap();
    let usage: Vec<UsageRow> = (0..2_500)
        .map(|i| UsageRow {
            token_id: format!("dt0c01.T{}", i % 3),
            hour: 3_600_000 * (i / 3),
            scope: if i % 2 == 0 { "metrics.read" } else { "*" }.to_owned(),
            allowed: i,
            refused: 1,
            limited: 0,
        })
        .collect();
    source.add_usage(&usage).await.unwrap();
    drop(source);
    let target = crate::helpers::fresh_postgres_database(&admin_url).await;
    let (ok, out) = migrate(&sqlite, &target);
    assert!(ok, "{out}");
    assert!(
        out.contains("2500 usage rows and 1 SSO identities"),
        "{out}"
    );
    let moved = tessera_server::store::open(&target).await.unwrap();
    assert_eq!(
        moved.sso_identities().await.unwrap(),
        [("carol".to_owned(), "sealed-token".to_owned())]
    );
    // Checked "never": the first re-validation pass takes it.
    let due = moved.claim_sso_check(1, 2, 3).await.unwrap();
    assert_eq!(due.map(|d| d.0).as_deref(), Some("carol"));
    let key = |r: &UsageRow| (r.token_id.clone(), r.hour, r.scope.clone());
    let mut copied = moved.all_usage().await.unwrap();
    copied.sort_by_key(key);
    let mut expected = usage;
    expected.sort_by_key(key);
    assert_eq!(copied, expected);

    // A target holding nothing but an SSO identity is not empty either.
    let other = crate::helpers::fresh_postgres_database(&admin_url).await;
    let store = tessera_server::store::open(&other).await.unwrap();
    store.save_sso_identity("dave", "sealed", 1).await.unwrap();
    let (ok, out) = migrate(&sqlite, &other);
    assert!(!ok && out.contains("not empty"), "{out}");
    assert!(store.all_usage().await.unwrap().is_empty());
}

/// Runs `migrate-db`; whether it succeeded, and what it printed.
fn migrate(from: &str, to: &str) -> (bool, String) {
    let out = std::process::Command::new(crate::helpers::BIN)
        .args(["migrate-db", "--from", from, "--to", to])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
