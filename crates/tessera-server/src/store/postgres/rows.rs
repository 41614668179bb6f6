//! Rows to records, and the reads that a write transaction and the pool share
//! (`store::row_reads`): list columns are `text[]`.
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

use crate::domain::scope_set::ScopeSet;
use crate::domain::token::TokenDigest;
use crate::store::{SessionRecord, StoreError, StoreResult, TokenRecord, User};

fn list(row: &PgRow, column: &str) -> StoreResult<Vec<String>> {
    Ok(row.try_get(column)?)
}

crate::store::row_reads::row_reads!(PgRow, PgExecutor, list, "$1");
