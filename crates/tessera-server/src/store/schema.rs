//! Schema versions (issue 18): migrations only move forward and run at start. A database
//! migrated by a newer Tessera is refused at start with a clear message, and a node left
//! running on an older binary after another node upgraded the database turns unready.
use sqlx::migrate::{MigrateError, Migrator};

pub static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest schema version this binary knows for `migrator`.
pub fn latest(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// `--version`: the binary's version and the schema versions it writes.
pub fn describe() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (database schema: SQLite {}, PostgreSQL {})",
            env!("CARGO_PKG_VERSION"),
            latest(&SQLITE),
            latest(&POSTGRES)
        )
    })
}

/// The database has a schema this binary does not know. The process then ends with
/// [`NewerSchema::EXIT_CODE`], which the systemd unit does not restart on (restarting
/// cannot help: the binary must be upgraded).
#[derive(Debug, thiserror::Error)]
#[error(
    "the database has schema version {found}, which this binary does not know (it knows up \
     to {known}): it was written by a newer Tessera (upgrade tessera-server; migrations only \
     move forward) or is not Tessera's database"
)]
pub struct NewerSchema {
    pub found: i64,
    pub known: i64,
}

impl NewerSchema {
    /// EX_CONFIG of sysexits.h: the configuration (here, the database) does not fit.
    pub const EXIT_CODE: u8 = 78;
}

/// Runs `migrator`'s pending migrations; a database that has a migration this binary does
/// not know was written by a newer Tessera, which is said in those words.
pub async fn migrate<'a, A>(migrator: &Migrator, pool: A) -> anyhow::Result<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    match migrator.run(pool).await {
        Err(MigrateError::VersionMissing(found)) => Err(NewerSchema {
            found,
            known: latest(migrator),
        }
        .into()),
        other => Ok(other?),
    }
}

/// Why this node should not serve: the database's schema is newer than this binary's.
pub fn newer_than_binary(database: Option<i64>, migrator: &Migrator) -> Option<String> {
    let (database, known) = (database?, latest(migrator));
    (database > known).then(|| {
        format!(
            "the database schema (version {database}) is newer than this binary's \
             (version {known}): another node was upgraded; upgrade this one\n"
        )
    })
}
