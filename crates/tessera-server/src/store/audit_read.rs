//! Reading the audit log for the Audit logs API, alike on both backends: filters, keyset
//! pages, one entry. A macro, not generic code: sqlx's executor bounds over a generic
//! `Database` do not hold for a query builder borrowed across an await.

/// `mod audit` with `page` and `entry` for pool `$pool` of database `$db`; `$contains` is
/// the dialect's substring test (`instr`, `strpos`).
macro_rules! audit_reads {
    ($pool:ty, $db:ty, $contains:expr) => {
        mod audit {
            use sqlx::QueryBuilder;

            use crate::domain::audit::AuditQuery;
            use crate::domain::time::Millis;
            use crate::store::sql::{audit_filters, audit_keyset};
            use crate::store::{AuditPage, AuditRecord, StoreResult};

            /// A page after `after` (timestamp, id) in the query's order, one row beyond it
            /// read to tell whether another follows; the count only when asked (first pages).
            pub async fn page(
                pool: &$pool,
                q: &AuditQuery,
                after: Option<(Millis, i64)>,
                count: bool,
            ) -> StoreResult<AuditPage> {
                let total = if count {
                    let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM audit_log");
                    audit_filters(&mut qb, q, $contains);
                    let n: i64 = qb.build_query_scalar().fetch_one(pool).await?;
                    Some(n as u64)
                } else {
                    None
                };
                let mut qb = QueryBuilder::<$db>::new("SELECT * FROM audit_log");
                audit_filters(&mut qb, q, $contains);
                audit_keyset(&mut qb, q, after);
                let mut entries: Vec<AuditRecord> = qb.build_query_as().fetch_all(pool).await?;
                let more = entries.len() > q.page_size as usize;
                entries.truncate(q.page_size as usize);
                Ok(AuditPage {
                    entries,
                    more,
                    total,
                })
            }

            pub async fn entry(pool: &$pool, id: i64) -> StoreResult<Option<AuditRecord>> {
                let mut qb = QueryBuilder::<$db>::new("SELECT * FROM audit_log WHERE id = ");
                qb.push_bind(id);
                Ok(qb.build_query_as().fetch_optional(pool).await?)
            }
        }
    };
}
pub(crate) use audit_reads;
