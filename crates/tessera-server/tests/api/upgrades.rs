//! Issue 18: schema versions. `--version` names them; a database migrated by a newer
//! Tessera makes a running older node unready and is refused by an older one at start
//! (both databases).
use reqwest::StatusCode;

use crate::helpers::{TestApp, BIN};

/// The newest migration shipped for a backend (its files are `<version>_<name>.sql`).
fn newest_migration(backend: &str) -> i64 {
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
    assert!(!out.status.success());
    assert!(err.contains("written by a newer Tessera"), "{err}");
    assert!(err.contains("schema version 999999"), "{err}");
}
