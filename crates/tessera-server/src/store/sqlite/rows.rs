//! Rows to records, and the reads that a write transaction and the pool share
//! (`store::row_reads`): list columns are JSON text.
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

use crate::domain::scope_set::ScopeSet;
use crate::domain::token::TokenDigest;
use crate::store::{SessionRecord, StoreError, StoreResult, TokenRecord, User};

pub fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn list(row: &SqliteRow, column: &str) -> StoreResult<Vec<String>> {
    let text: &str = row.try_get(column)?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list column: {e}")))
}

crate::store::row_reads::row_reads!(SqliteRow, SqliteExecutor, list, "?");

pub async fn setting<'e>(db: impl SqliteExecutor<'e>, key: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(db)
            .await?,
    )
}
