//! Issue 14 / SPEC §12: the Audit logs API v2 over Tessera's audit rows — Dynatrace's
//! fields and enumerations, the filter language, keyset paging, and admins only.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, Session, TestApp};

async fn audit(session: &Session, query: &str) -> Value {
    let r = session.get(&format!("/api/v2/auditlogs{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn entries_carry_dynatrace_fields_and_what_changed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, _) = admin.generate("before", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    let r = admin
        .send_json(
            Method::PUT,
            &path,
            json!({"name": "after", "enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.attempt_sign_in("admin", "wrong-password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let log = audit(&admin, "").await;
    let entries = log["auditLogs"].as_array().unwrap();
    assert_eq!(log["totalCount"].as_u64().unwrap() as usize, entries.len());
    let stamps: Vec<i64> = entries
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {stamps:?}"
    );
    let find = |message: &str| {
        entries
            .iter()
            .find(|e| e["message"].as_str().unwrap().starts_with(message))
            .unwrap_or_else(|| panic!("no {message} in {entries:?}"))
            .clone()
    };
    let renamed = find("token.updated");
    assert_eq!(
        (renamed["eventType"].as_str(), renamed["category"].as_str()),
        (Some("UPDATE"), Some("TOKEN"))
    );
    assert_eq!(renamed["entityId"], id.as_str());
    assert_eq!(renamed["user"], "admin");
    assert_eq!(renamed["userType"], "USER_NAME");
    assert_eq!(renamed["success"], true);
    assert_eq!(
        renamed["patch"],
        json!([{"op": "replace", "path": "/name", "value": "after", "oldValue": "before"}])
    );
    let disabled = find("token.disabled");
    assert_eq!(
        disabled["patch"],
        json!([{"op": "replace", "path": "/enabled", "value": false, "oldValue": true}])
    );
    let failed = find("signin.failed");
    assert_eq!(
        (
            failed["eventType"].as_str(),
            failed["category"].as_str(),
            failed["success"].as_bool()
        ),
        (Some("LOGIN"), Some("WEB_UI"), Some(false))
    );
    assert!(failed["userOrigin"].as_str().is_some());
    let settings = find("settings.changed");
    assert_eq!(settings["category"], "CONFIG");
    assert_eq!(settings["patch"][0]["path"], "/patEnabled");

    let one: Value = admin
        .get(&format!(
            "/api/v2/auditlogs/{}",
            renamed["logId"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one, renamed);
    envelope(
        admin.get("/api/v2/auditlogs/999999").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    envelope(
        admin.get("/api/v2/auditlogs/abc").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn the_filter_narrows_by_type_category_user_and_entity() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    let (id, _) = alice.generate("a", &["metrics.read"]).await;
    let r = alice
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    admin.generate("b", &["metrics.read"]).await;

    let q = |f: &str| format!("?filter={}", enc(f));
    let messages = |log: &Value| -> Vec<String> {
        log["auditLogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let log = audit(&admin, &q(r#"eventType("UPDATE"),category("TOKEN")"#)).await;
    assert_eq!(messages(&log), vec!["token.disabled"]);
    let log = audit(&admin, &q(r#"eventType("CREATE","DELETE"),user("alice")"#)).await;
    assert_eq!(messages(&log).len(), 1);
    assert!(messages(&log)[0].starts_with("token.generated"));
    let part = &id[7..15];
    let log = audit(&admin, &q(&format!(r#"entityId("{part}")"#))).await;
    assert_eq!(log["totalCount"], 2, "generated and disabled");
    assert_eq!(
        audit(&admin, &q(r#"eventType("READ")"#)).await["totalCount"],
        0
    );
    assert_eq!(audit(&admin, "?to=now-1h").await["totalCount"], 0);
    for (bad, path) in [
        (q(r#"eventType("NOPE")"#), "filter"),
        (q(r#"colour("red")"#), "filter"),
        (q(r#"user("a""#), "filter"),
        ("?sort=name".to_owned(), "sort"),
        ("?pageSize=5001".to_owned(), "pageSize"),
        ("?from=yesterday".to_owned(), "from"),
        ("?nextPageKey=garbage".to_owned(), "nextPageKey"),
        ("?nextPageKey=x&pageSize=2".to_owned(), "nextPageKey"),
    ] {
        let body = envelope(
            admin.get(&format!("/api/v2/auditlogs{bad}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(
            body["error"]["constraintViolations"][0]["path"], path,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn pages_are_stable_while_entries_are_added() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..7 {
        admin.generate(&format!("t{i}"), &["metrics.read"]).await;
    }
    let filter = format!(
        "?pageSize=3&sort=timestamp&filter={}",
        enc(r#"eventType("CREATE"),category("TOKEN")"#)
    );
    let mut page = audit(&admin, &filter).await;
    assert_eq!(page["totalCount"], 7);
    let mut seen = Vec::new();
    loop {
        seen.extend(
            page["auditLogs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["logId"].as_str().unwrap().to_owned()),
        );
        admin.generate("late", &["metrics.read"]).await; // newer than the window's end
        match page["nextPageKey"].as_str() {
            Some(key) => page = audit(&admin, &format!("?nextPageKey={key}")).await,
            None => break,
        }
        assert_eq!(page["totalCount"], 7, "the total stays the first page's");
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(unique.len(), 7);
    let ids: Vec<i64> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
}

#[tokio::test]
async fn only_admins_read_the_audit_log_and_only_admins_hold_its_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["apiTokens.read", "metrics.read"]).await;
    envelope(alice.get("/api/v2/auditlogs").await, StatusCode::FORBIDDEN).await;
    envelope(
        reqwest::get(app.url("/api/v2/auditlogs")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Not grantable to someone who is not an administrator, by the API or the CLI.
    let r = alice
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "x", "scopes": ["auditLogs.read"]}),
        )
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
    let r = admin
        .send_json(
            Method::PUT,
            "/api/v2/tessera/users/alice",
            json!({"permissions": ["auditLogs.read"]}),
        )
        .await;
    let body = envelope(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "permissions"
    );
    let (ok, out) = app.cli_result(
        &["update", "alice", "--permissions", "auditLogs.read"],
        None,
    );
    assert!(
        !ok && out.contains("Only administrators hold auditLogs.read"),
        "{out}"
    );

    let (_, without) = admin.generate("no audit", &["apiTokens.read"]).await;
    let (_, with) = admin.generate("audit", &["auditLogs.read"]).await;
    let r = app
        .token_client(&without)
        .send(Method::GET, "/api/v2/auditlogs", None)
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
    let r = app
        .token_client(&with)
        .send(Method::GET, "/api/v2/auditlogs", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A demoted admin's token stops reading it (rule 7) once the CLI's change is in force
    // (the feed poll: well under a second).
    app.add_user("root2", &[], &[]);
    app.cli(&["update", "root2", "--admin", "true"], None);
    app.cli(&["update", "admin", "--admin", "false"], None);
    let started = std::time::Instant::now();
    loop {
        let r = app
            .token_client(&with)
            .send(Method::GET, "/api/v2/auditlogs", None)
            .await;
        if r.status() == StatusCode::FORBIDDEN {
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "still allowed after 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Stored permissions outlive a demotion; auditLogs.read among them grants nothing: a PAT
/// of the demoted user cannot be widened to it.
#[tokio::test]
async fn a_demoted_admin_cannot_widen_a_token_to_the_audit_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({"username": "root3", "admin": true, "permissions": ["auditLogs.read", "metrics.read"]});
    let r = admin
        .send_json(Method::POST, "/api/v2/tessera/users", body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let password = r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .send_json(
            Method::PUT,
            "/api/v2/tessera/users/root3",
            json!({"admin": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let root3 = app.sign_in("root3", &password).await;
    let (id, _) = root3.generate("t", &["metrics.read"]).await;
    let r = root3
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"scopes": ["metrics.read", "auditLogs.read"]}),
        )
        .await;
    let body = envelope(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        body["error"]["constraintViolations"][0]["path"],
        "scopes[1]"
    );
    // And the demotion took it out of the stored permissions.
    let user: Value = admin
        .get("/api/v2/tessera/users/root3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["permissions"], json!(["metrics.read"]));
}

/// An environment token outlives its creator's demotion (another admin may enable it
/// again); reading the audit log needs an owner who is an administrator now.
#[tokio::test]
async fn an_environment_token_of_a_demoted_admin_cannot_read_the_log() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = json!({"name": "env", "scopes": ["auditLogs.read"], "personalAccessToken": false});
    let r = admin
        .send_json(Method::POST, "/api/v2/apiTokens", body)
        .await;
    let created: Value = r.json().await.unwrap();
    let (id, token) = (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    );
    let r = app
        .token_client(&token)
        .send(Method::GET, "/api/v2/auditlogs", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/tessera/users",
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
            "/api/v2/tessera/users/admin",
            json!({"admin": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = root2
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{id}"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "an admin may enable it again"
    );
    let r = app
        .token_client(&token)
        .send(Method::GET, "/api/v2/auditlogs", None)
        .await;
    envelope(r, StatusCode::FORBIDDEN).await;
}
