//! Listing tokens: selector filters, sorting and snapshot paging in SQL.
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::rows::{token_from_row, TOKEN_COLUMNS};
use crate::domain::query::ListQuery;
use crate::store::sql::token_lifecycle;
use crate::store::{order_by, StoreResult, TokenPage};

/// Appends the WHERE clause of a listing (without paging) to `qb`.
fn push_filters<'a>(
    qb: &mut QueryBuilder<'a, Sqlite>,
    owner: Option<&'a str>,
    query: &'a ListQuery,
    snapshot: i64,
) {
    qb.push(" WHERE seq <= ").push_bind(snapshot);
    if let Some(owner) = owner {
        qb.push(" AND owner = ").push_bind(owner);
    }
    let selector = &query.selector;
    if !selector.owners.is_empty() {
        qb.push(" AND owner IN (");
        let mut list = qb.separated(", ");
        for o in &selector.owners {
            list.push_bind(o.as_str());
        }
        qb.push(")");
    }
    if let Some(personal) = selector.personal {
        qb.push(" AND personal = ").push_bind(personal);
    }
    if !selector.scopes.is_empty() {
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(tokens.scopes) WHERE json_each.value IN (");
        let mut list = qb.separated(", ");
        for s in &selector.scopes {
            list.push_bind(s.as_str());
        }
        qb.push("))");
    }
    if !selector.names.is_empty() {
        qb.push(" AND (");
        for (i, name) in selector.names.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("instr(lower(name), lower(")
                .push_bind(name.as_str())
                .push(")) > 0");
        }
        qb.push(")");
    }
    token_lifecycle(qb, query);
    if let Some(from) = query.from {
        qb.push(" AND last_used_at >= ").push_bind(from);
    }
    if let Some(to) = query.to {
        qb.push(" AND last_used_at <= ").push_bind(to);
    }
}

pub async fn list_tokens(
    pool: &SqlitePool,
    owner: Option<&str>,
    query: &ListQuery,
    snapshot: Option<i64>,
    offset: u64,
    count: bool,
) -> StoreResult<TokenPage> {
    // One read transaction: the snapshot, any count and the page agree.
    let mut tx = pool.begin().await?;
    let snapshot = match snapshot {
        Some(s) => s,
        None => {
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM tokens")
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let total = if count {
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM tokens");
        push_filters(&mut count, owner, query, snapshot);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        Some(total as u64)
    } else {
        None
    };

    let mut page = QueryBuilder::new(format!("SELECT {TOKEN_COLUMNS} FROM tokens"));
    push_filters(&mut page, owner, query, snapshot);
    // Name and creation date are never null, so their order is an index's (tokens_created,
    // tokens_name) and a page reads only its own rows.
    let order = order_by(&query.sort, "name COLLATE NOCASE");
    page.push(format!(" ORDER BY {order} LIMIT "));
    page.push_bind(i64::from(query.page_size) + 1)
        .push(" OFFSET ")
        .push_bind(offset as i64);
    let rows = page.build().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let more = rows.len() > query.page_size as usize;
    Ok(TokenPage {
        tokens: rows
            .iter()
            .take(query.page_size as usize)
            .map(token_from_row)
            .collect::<StoreResult<_>>()?,
        more,
        total,
        snapshot,
    })
}
