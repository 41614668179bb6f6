//! The SQLite file itself: `backup` and `restore`, and the lock that keeps one server per
//! database file.
//!
//! Backup is online: a consistent snapshot through the store while the server runs.
//! Restore is offline: it refuses while a server holds the database's lock file, checks
//! the backup before touching anything, and keeps the database it replaces.
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sqlx::Connection;

use super::SqliteStore;
use crate::domain::time;

/// The file behind a `sqlite:` URL; `None` for in-memory databases and other backends.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    (!file.is_empty() && !file.starts_with(":memory:")).then(|| PathBuf::from(file))
}

/// An exclusive lock on `<database>.lock`, held for the life of the server (released by
/// the OS if the process dies). Two servers on one SQLite file would each trust their own
/// in-memory index, so the second one must not start. `None` for in-memory databases.
pub fn lock(url: &str) -> anyhow::Result<Option<File>> {
    let Some(db) = sqlite_path(url) else {
        return Ok(None);
    };
    create_parent_dir(&db)?;
    // One lock per file, however it is named: a symlink or `a/../b` must find the same one.
    let db = std::fs::canonicalize(&db).or_else(|_| {
        let dir = db.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = std::fs::canonicalize(dir.unwrap_or(Path::new(".")))?;
        Ok::<_, std::io::Error>(dir.join(db.file_name().unwrap_or_default()))
    })?;
    let path = with_suffix(&db, ".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "{} is in use by a running Tessera server (lock {}); stop it first",
            db.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Creates the directory a database file goes in (`data/` on first start).
pub fn create_parent_dir(file: &Path) -> anyhow::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What a database file holds, for the messages of backup and restore.
struct Summary {
    users: i64,
    tokens: i64,
}

/// Opens `file` read-only and checks it is a sound Tessera database.
async fn verify(file: &Path) -> anyhow::Result<Summary> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .with_context(|| format!("{} is not a readable SQLite database", file.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    if integrity != "ok" {
        bail!("{} fails the integrity check: {integrity}", file.display());
    }
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
    let users: i64 = sqlx::query_scalar(&count("users"))
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a Tessera database", file.display()))?;
    let tokens: i64 = sqlx::query_scalar(&count("tokens"))
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a Tessera database", file.display()))?;
    Ok(Summary { users, tokens })
}

/// `backup <file>`: a consistent copy taken while the server runs. Written next to its
/// destination first and renamed, so `file` is either complete or absent.
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        bail!("{} already exists; choose a new file", file.display());
    }
    let partial = with_suffix(file, ".partial");
    let _ = std::fs::remove_file(&partial);
    let store = SqliteStore::open(url).await?;
    store
        .backup_to(&partial)
        .await
        .with_context(|| format!("writing {}", partial.display()))?;
    let summary = verify(&partial).await?;
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, file)?;
    println!(
        "Backed up {} users and {} tokens to {}",
        summary.users,
        summary.tokens,
        file.display()
    );
    Ok(())
}

/// `restore <file>`: replaces the database with a backup. The server must be stopped.
pub async fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
    let Some(db) = sqlite_path(url) else {
        bail!("restore works on an SQLite file database; {url} is not one");
    };
    let summary = verify(file).await?;
    let _lock = lock(url)?;
    let staged = with_suffix(&db, ".restoring");
    std::fs::copy(file, &staged).with_context(|| format!("copying {}", file.display()))?;
    File::open(&staged)?.sync_all()?;
    if db.exists() {
        // Keep what is being replaced, as one consistent file (WAL folded in).
        let kept = with_suffix(&db, &format!(".before-restore-{}", time::now()));
        let current = SqliteStore::open(url).await?;
        current
            .backup_to(&kept)
            .await
            .with_context(|| format!("keeping the current database as {}", kept.display()))?;
        current.pool.close().await;
        println!("Kept the replaced database as {}", kept.display());
    }
    for stale in ["-wal", "-shm"] {
        let path = with_suffix(&db, stale);
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    std::fs::rename(&staged, &db)?;
    println!(
        "Restored {} users and {} tokens from {}",
        summary.users,
        summary.tokens,
        file.display()
    );
    Ok(())
}
