//! Issue 18: schema versions. `--version` names them; a database migrated by a newer
//! Tessera makes a running older node unready and is refused by an older one at start
//! (both databases).
use reqwest::StatusCode;

use crate::helpers::{TestApp, BIN};

/// The newest migration shipped for a backend (its files are `<version>_<name>.sql`).
pub fn newest_migration(backend: &str) -> i64 {
    let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split('_')
                .next()?
                .parse()
                .ok()
        })
        .max()
        .unwrap()
}

#[test]
fn version_names_the_schema_versions_of_both_databases() {
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "tessera-server {} (database schema: SQLite {}, PostgreSQL {})",
        env!("CARGO_PKG_VERSION"),
        newest_migration("sqlite"),
        newest_migration("postgres")
    );
    assert_eq!(text.trim(), expected);
}

/// What a newer Tessera's migration leaves in the database.
async fn migrate_past_this_binary(app: &TestApp) {
    let sql =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (999999, 'from a newer Tessera', TRUE, $1, 0)";
    if app.on_sqlite() {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        let sql = sql.replace("$1", "?");
        sqlx::query(&sql)
            .bind(vec![0u8])
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query(sql)
            .bind(vec![0u8])
            .execute(&pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_database_from_a_newer_tessera_makes_a_node_unready_and_is_refused_at_start() {
    let mut app = TestApp::spawn().await;
    let readyz = || async { reqwest::get(app.url("/readyz")).await.unwrap() };
    assert_eq!(readyz().await.status(), StatusCode::OK);
    migrate_past_this_binary(&app).await;
    let r = readyz().await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let reason = r.text().await.unwrap();
    assert!(reason.contains("newer than this binary"), "{reason}");

    app.terminate(); // an older node restarting on the upgraded database
    let mut node = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database-url", &app.db_url])
        .env("TESSERA_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while node.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = node.kill();
            panic!("the node started on a database newer than it");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let out = node.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // EX_CONFIG, which the systemd unit does not restart on.
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("written by a newer Tessera"), "{err}");
    assert!(err.contains("schema version 999999"), "{err}");
}

/// The fixtures of the schema before issue 15 (SQLite 6, PostgreSQL 3), written by that
/// commit's binary (tests/fixtures/make-fixtures.sh).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/a588cb9");

/// A database of the backend under test holding the fixture, and the fixture's secrets.
async fn fixture_database() -> (String, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (url, secrets) = match crate::helpers::postgres_admin_url() {
        Some(admin) => {
            let url = crate::helpers::fresh_postgres_database(&admin).await;
            let dump = std::fs::read_to_string(format!("{FIXTURES}/postgres.sql")).unwrap();
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::raw_sql(&dump).execute(&mut conn).await.unwrap();
            (url, "postgres.json")
        }
        None => {
            let file = dir.path().join("tessera.db");
            std::fs::copy(format!("{FIXTURES}/sqlite.db"), &file).unwrap();
            (format!("sqlite://{}", file.display()), "sqlite.json")
        }
    };
    let text = std::fs::read_to_string(format!("{FIXTURES}/{secrets}")).unwrap();
    (url, serde_json::from_str(&text).unwrap(), dir)
}

#[tokio::test]
async fn a_database_of_the_previous_schema_works_after_the_upgrade() {
    let (url, fixture, _dir) = fixture_database().await;
    // The fixture's session was made when the fixture was; sessions would have ended since.
    let app = TestApp::on_database(
        url,
        &["--session-idle", "36500d", "--session-max", "36500d"],
    );
    let store = app.store().await;
    let known = crate::upgrades::newest_migration(if app.on_sqlite() {
        "sqlite"
    } else {
        "postgres"
    });
    assert_eq!(
        store.schema_version().await.unwrap(),
        Some(known),
        "migrated at start"
    );

    let token = |name: &str| {
        fixture["tokens"][name]["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (name, scope, status) in [
        ("forever", "metrics.read", StatusCode::NO_CONTENT),
        ("dated", "slo.read", StatusCode::NO_CONTENT),
        ("dated", "metrics.read", StatusCode::FORBIDDEN),
        ("off", "metrics.read", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(
            app.check(&token(name), scope).await.status(),
            status,
            "{name} {scope}"
        );
    }
    // The session made before the upgrade, and a new sign-in with the old password.
    let session = &fixture["session"];
    let me = reqwest::Client::new()
        .get(app.url("/api/session"))
        .header(
            "cookie",
            format!("tessera_session={}", session["cookie"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["user"]["username"], "alice", "{me}");
    let alice = app
        .sign_in("alice", fixture["alicePassword"].as_str().unwrap())
        .await;
    let mine: serde_json::Value = alice
        .get("/api/v2/apiTokens?fields=+lastUsedDate,+expirationDate")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["totalCount"], 3, "{mine}");
    let forever = fixture["tokens"]["forever"]["id"].as_str().unwrap();
    let used = mine["apiTokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == forever);
    assert!(
        used.is_some_and(|t| t["lastUsedDate"].is_string()),
        "{mine}"
    );
    // Settings: PATs on, the lifecycle policy's thresholds; new tokens work too.
    let admin = app.admin().await;
    let policy: serde_json::Value = admin
        .get(crate::lifecycle::LIFECYCLE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy["value"]["expiryWarningDays"],
        serde_json::json!([14, 3])
    );
    let (_, fresh) = alice.generate("after the upgrade", &["metrics.read"]).await;
    assert_eq!(
        app.check(&fresh, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "token.generated"));
}
