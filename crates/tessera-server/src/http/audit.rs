//! The Audit logs API v2 (SPEC §12): `GET /api/v2/auditlogs` and `/api/v2/auditlogs/{id}`,
//! wire-compatible with Dynatrace's, over Tessera's audit rows. Pages are keyset pages in
//! timestamp order (stable while rows are added); the window (`from`, default two weeks
//! ago; `to`, default now) is fixed on the first page and carried in `nextPageKey`.
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tessera_api::{AuditLog, AuditLogEntry, ParameterLocation};
use utoipa::IntoParams;

use super::authorized::{AuditRead, Authorized};
use super::extract::ApiQuery;
use super::paging::{page_key_alone, page_size, query_error};
use crate::domain::audit::{classify, known_event, parse_filter, success, AuditQuery};
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::AuditRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/auditlogs", get(list))
        .route("/api/v2/auditlogs/{id}", get(get_one))
}

const TWO_WEEKS_MS: Millis = 14 * 24 * 3600 * 1000;

/// Where a later page resumes: after `(timestamp, id)`, with the first page's total.
type Resume = ((Millis, i64), u64);

/// A later page: the first page's query, where it stopped, and its count.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageKey {
    query: AuditQuery,
    after: (Millis, i64),
    total: u64,
}

impl PageKey {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(value: &str) -> Option<PageKey> {
        let bytes = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        let key: PageKey = serde_json::from_slice(&bytes).ok()?;
        let q = &key.query;
        let size_ok = (1..=AuditQuery::MAX_PAGE_SIZE).contains(&q.page_size);
        // As a filter could have made it: known events, no more values than it allows
        // (each is a bound SQL parameter), a window in order.
        let events_ok = q
            .events
            .as_ref()
            .is_none_or(|e| e.iter().all(|e| known_event(e)));
        let values = q.users.len() + q.entity_ids.len() + q.events.as_ref().map_or(0, Vec::len);
        (size_ok && events_ok && values <= 200 && q.from <= q.to).then_some(key)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The cursor of the next page; no other parameter may be given with it.
    next_page_key: Option<String>,
    /// Entries per page, 1–5000 (default 1000).
    page_size: Option<String>,
    /// `eventType("…")`, `category("…")`, `user("…")`, `entityId("…")`; comma-separated
    /// values are alternatives, comma-separated criteria all apply; `~` escapes in quotes.
    filter: Option<String>,
    /// Start of the timeframe: ISO-8601, epoch milliseconds or `now-<n><unit>` (default `now-2w`).
    from: Option<String>,
    /// End of the timeframe (default now).
    to: Option<String>,
    /// `timestamp` (oldest first) or `-timestamp` (newest first, the default).
    sort: Option<String>,
}

impl ListParams {
    fn into_query(self, now: Millis) -> Result<(AuditQuery, Option<Resume>), ApiError> {
        if let Some(key) = &self.next_page_key {
            let others = [
                &self.page_size,
                &self.filter,
                &self.from,
                &self.to,
                &self.sort,
            ];
            page_key_alone(&others)?;
            let key = PageKey::decode(key)
                .ok_or_else(|| query_error("nextPageKey", "The page key is invalid"))?;
            return Ok((key.query, Some((key.after, key.total))));
        }
        let filter = parse_filter(self.filter.as_deref().unwrap_or_default())
            .map_err(|e| query_error("filter", e))?;
        let bound = |value: &Option<String>, field: &str, default: Millis| match value {
            Some(v) => time::parse_bound(v, now).map_err(|e| query_error(field, e)),
            None => Ok(default),
        };
        let query = AuditQuery {
            events: filter.events(),
            users: filter.users,
            entity_ids: filter.entity_ids,
            from: bound(&self.from, "from", now - TWO_WEEKS_MS)?,
            to: bound(&self.to, "to", now)?,
            ascending: match self.sort.as_deref().map(str::trim) {
                None | Some("-timestamp") => false,
                Some("timestamp" | "+timestamp") => true,
                Some(_) => return Err(query_error("sort", "Sort by timestamp or -timestamp")),
            },
            page_size: page_size(
                self.page_size.as_deref(),
                AuditQuery::DEFAULT_PAGE_SIZE,
                AuditQuery::MAX_PAGE_SIZE,
            )?,
        };
        if query.from > query.to {
            return Err(query_error("from", "from must not be after to"));
        }
        Ok((query, None))
    }
}

fn to_wire(record: &AuditRecord) -> AuditLogEntry {
    let e = &record.event;
    let (event_type, category) = classify(&e.event);
    let trusted = matches!(e.actor.as_str(), "cli" | "system") && e.client_addr.is_none();
    AuditLogEntry {
        log_id: record.id.to_string(),
        event_type: event_type.to_owned(),
        category: category.to_owned(),
        entity_id: e.target.clone(),
        user: e.actor.clone(),
        user_type: if trusted { "SERVICE_NAME" } else { "USER_NAME" }.to_owned(),
        user_origin: e.client_addr.clone(),
        timestamp: e.at,
        success: success(&e.event),
        message: match &e.detail {
            Some(detail) => format!("{}: {detail}", e.event),
            None => e.event.clone(),
        },
        patch: e
            .patch
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
    }
}

/// Lists audit log entries, newest first unless `sort=timestamp`.
#[utoipa::path(get, path = "/api/v2/auditlogs", tag = "Audit logs", params(ListParams),
    responses((status = 200, body = AuditLog), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["auditLogs.read"]), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<AuditRead>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<AuditLog>, ApiError> {
    let (query, resume) = params.into_query(time::now())?;
    let (after, known) = (resume.map(|r| r.0), resume.map(|r| r.1));
    let page = state
        .service
        .store()
        .audit_page(&query, after, known.is_none())
        .await?;
    let total = known.or(page.total).unwrap_or_default();
    let next_page_key = match (page.more, page.entries.last()) {
        (true, Some(last)) => Some(
            PageKey {
                query: query.clone(),
                after: (last.event.at, last.id),
                total,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(Json(AuditLog {
        audit_logs: page.entries.iter().map(to_wire).collect(),
        total_count: total,
        page_size: u64::from(query.page_size),
        next_page_key,
    }))
}

/// One audit log entry.
#[utoipa::path(get, path = "/api/v2/auditlogs/{id}", tag = "Audit logs",
    params(("id" = String, Path, description = "The entry's logId")),
    responses((status = 200, body = AuditLogEntry), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope),
              (status = 404, body = tessera_api::ErrorEnvelope)),
    security(("ApiToken" = ["auditLogs.read"]), ("session" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    _: Authorized<AuditRead>,
    Path(id): Path<String>,
) -> Result<Json<AuditLogEntry>, ApiError> {
    let id: i64 = id.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::invalid(ParameterLocation::Path, "id", "Not an audit log entry id")
    })?;
    let record = state
        .service
        .store()
        .audit_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found("Audit log entry"))?;
    Ok(Json(to_wire(&record)))
}
