//! Reading the audit log for the Audit logs API: filters, keyset pages, one entry.
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::domain::audit::AuditQuery;
use crate::domain::time::Millis;
use crate::store::{AuditPage, AuditRecord, StoreResult};

fn push_filters<'a>(qb: &mut QueryBuilder<'a, Postgres>, q: &'a AuditQuery) {
    qb.push(" WHERE at >= ").push_bind(q.from);
    qb.push(" AND at <= ").push_bind(q.to);
    if let Some(events) = &q.events {
        if events.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND event IN (");
            let mut list = qb.separated(", ");
            for e in events {
                list.push_bind(e.as_str());
            }
            qb.push(")");
        }
    }
    if !q.users.is_empty() {
        qb.push(" AND actor IN (");
        let mut list = qb.separated(", ");
        for u in &q.users {
            list.push_bind(u.as_str());
        }
        qb.push(")");
    }
    if !q.entity_ids.is_empty() {
        qb.push(" AND (");
        for (i, part) in q.entity_ids.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("strpos(target, ")
                .push_bind(part.as_str())
                .push(") > 0");
        }
        qb.push(")");
    }
}

/// A page after `after` (timestamp, id) in the query's order, one row beyond it read to
/// tell whether another follows; the count only when asked (first pages).
pub async fn page(
    pool: &PgPool,
    q: &AuditQuery,
    after: Option<(Millis, i64)>,
    count: bool,
) -> StoreResult<AuditPage> {
    let total = if count {
        let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM audit_log");
        push_filters(&mut qb, q);
        let n: i64 = qb.build_query_scalar().fetch_one(pool).await?;
        Some(n as u64)
    } else {
        None
    };
    let mut qb = QueryBuilder::new("SELECT * FROM audit_log");
    push_filters(&mut qb, q);
    let (cmp, order) = if q.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some((at, id)) = after {
        qb.push(format!(" AND (at {cmp} "))
            .push_bind(at)
            .push(" OR (at = ")
            .push_bind(at)
            .push(format!(" AND id {cmp} "))
            .push_bind(id)
            .push("))");
    }
    qb.push(format!(" ORDER BY at {order}, id {order} LIMIT "))
        .push_bind(i64::from(q.page_size) + 1);
    let mut entries: Vec<AuditRecord> = qb.build_query_as().fetch_all(pool).await?;
    let more = entries.len() > q.page_size as usize;
    entries.truncate(q.page_size as usize);
    Ok(AuditPage {
        entries,
        more,
        total,
    })
}

pub async fn entry(pool: &PgPool, id: i64) -> StoreResult<Option<AuditRecord>> {
    let mut qb = QueryBuilder::new("SELECT * FROM audit_log WHERE id = ");
    qb.push_bind(id);
    Ok(qb.build_query_as().fetch_optional(pool).await?)
}
