//! A throwaway database per test on the PostgreSQL pass.

/// `TESSERA_TEST_POSTGRES_URL` when this run is on PostgreSQL (`make test` runs the suite
/// once on each backend): a URL whose user may create databases.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A new, empty database on the test cluster, for one test's server.
pub async fn fresh_postgres_database(admin: &str) -> String {
    use sqlx::Connection;
    let name = format!("tessera_{}", rand_suffix());
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to TESSERA_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    // Same server and credentials, another database: replace the path of the URL.
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, n)
}
