//! SQL that both backends build alike, generic over sqlx's `Database`: the audit log's
//! filters and keyset, and the token list's lifecycle criteria. Only the dialect's
//! substring test differs (`instr` on SQLite, `strpos` on PostgreSQL), passed in.
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::domain::audit::AuditQuery;
use crate::domain::query::ListQuery;
use crate::domain::selector::EXPIRING_DAYS;
use crate::domain::time::Millis;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The WHERE clause of an audit query. `contains` is the dialect's `instr`/`strpos`.
pub(crate) fn audit_filters<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    q: &'a AuditQuery,
    contains: &str,
) where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
{
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
            qb.push(format!("{contains}(target, "))
                .push_bind(part.as_str())
                .push(") > 0");
        }
        qb.push(")");
    }
}

/// After `(timestamp, id)` in the query's order, then that order and a limit of one row
/// beyond the page (which tells whether another follows).
pub(crate) fn audit_keyset<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    q: &AuditQuery,
    after: Option<(Millis, i64)>,
) where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
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
}

/// `status(…)` and `unusedDays(n)` of a token list, decided as of the first page
/// (`query.now`).
pub(crate) fn token_lifecycle<'a, DB>(qb: &mut QueryBuilder<'a, DB>, query: &'a ListQuery)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    let (selector, now) = (&query.selector, query.now);
    if !selector.statuses.is_empty() {
        qb.push(" AND (");
        for (i, status) in selector.statuses.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            let live = "(expires_at IS NULL OR expires_at > ";
            match status.as_str() {
                "enabled" => qb
                    .push(format!("(enabled = TRUE AND {live}"))
                    .push_bind(now)
                    .push("))"),
                "disabled" => qb
                    .push(format!("(enabled = FALSE AND {live}"))
                    .push_bind(now)
                    .push("))"),
                "expired" => qb.push("(expires_at <= ").push_bind(now).push(")"),
                "expiring" => qb
                    .push("(expires_at > ")
                    .push_bind(now)
                    .push(" AND expires_at <= ")
                    .push_bind(now.saturating_add(EXPIRING_DAYS * DAY_MS))
                    .push(")"),
                // `Selector::parse` and `PageKey::decode` let no other value through.
                _ => qb.push("1 = 0"),
            };
        }
        qb.push(")");
    }
    if let Some(days) = selector.unused_days {
        // At least `days` days: a last use exactly that long ago counts as unused.
        qb.push(" AND COALESCE(last_used_at, created_at) <= ")
            .push_bind(now.saturating_sub(i64::from(days) * DAY_MS));
    }
}
