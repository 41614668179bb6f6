//! The administrators' calls (admin build only): everyone's tokens, users, the audit log.
use gloo_net::http::Request;
use tessera_api::{
    AdminUser, ApiTokenList, AuditLog, LifecyclePolicyValue, NewUser, SettingsList, SettingsUpdate,
    SettingsValue, UserList, UserUpdate, UserWithPassword, WebhookDeliveries, WebhookTestQueued,
    LIFECYCLE_SCHEMA,
};

use crate::api::{body, json, send, with_csrf, ApiError, ApiResult};

/// Fields the administrators' token list shows.
const TOKEN_FIELDS: &str =
    "+owner,+scopes,+expirationDate,+lastUsedDate,+lastUsedIpAddress,+personalAccessToken,+additionalMetadata";

/// One page of everyone's tokens: the first (selector, sort) or the one a key names.
pub async fn tokens_page(
    selector: &str,
    sort: &str,
    page_size: u32,
    key: Option<&str>,
) -> ApiResult<ApiTokenList> {
    let request = match key {
        Some(key) => Request::get("/api/v2/apiTokens").query([("nextPageKey", key)]),
        None => {
            let size = page_size.to_string();
            let mut query = vec![
                ("fields", TOKEN_FIELDS),
                ("sort", sort),
                ("pageSize", size.as_str()),
            ];
            if !selector.is_empty() {
                query.push(("apiTokenSelector", selector));
            }
            Request::get("/api/v2/apiTokens").query(query)
        }
    };
    json(request.build()).await
}

const USERS: &str = "/api/v2/tessera/users";

pub async fn users(search: &str) -> ApiResult<UserList> {
    json(Request::get(USERS).query([("search", search)]).build()).await
}

pub async fn user(username: &str) -> ApiResult<AdminUser> {
    json(Request::get(&user_url(username)).build()).await
}

pub async fn add_user(csrf: &str, user: &NewUser) -> ApiResult<UserWithPassword> {
    json(body(with_csrf(Request::post(USERS), csrf), user)).await
}

pub async fn update_user(csrf: &str, username: &str, update: &UserUpdate) -> ApiResult<AdminUser> {
    json(body(
        with_csrf(Request::put(&user_url(username)), csrf),
        update,
    ))
    .await
}

pub async fn reset_password(csrf: &str, username: &str) -> ApiResult<UserWithPassword> {
    let url = format!("{}/password", user_url(username));
    json(with_csrf(Request::post(&url), csrf).build()).await
}

fn user_url(username: &str) -> String {
    format!(
        "{USERS}/{}",
        String::from(js_sys::encode_uri_component(username))
    )
}

/// A page of the audit log: the first (filter and `from`) or the one a key names.
pub async fn audit_page(filter: &str, from: &str, key: Option<&str>) -> ApiResult<AuditLog> {
    let request = match key {
        Some(key) => Request::get("/api/v2/auditlogs").query([("nextPageKey", key)]),
        None => {
            let mut query = vec![("from", from), ("pageSize", "100"), ("sort", "-timestamp")];
            if !filter.is_empty() {
                query.push(("filter", filter));
            }
            Request::get("/api/v2/auditlogs").query(query)
        }
    };
    json(request.build()).await
}

/// The lifecycle policy object: its id and value.
pub async fn lifecycle_policy() -> ApiResult<(String, LifecyclePolicyValue)> {
    let list: SettingsList = json(
        Request::get("/api/v2/settings/objects")
            .query([("schemaIds", LIFECYCLE_SCHEMA), ("scopes", "environment")])
            .build(),
    )
    .await?;
    list.items
        .into_iter()
        .find_map(|o| match o.value {
            SettingsValue::Lifecycle(value) => Some((o.object_id, value)),
            SettingsValue::Token(_) => None,
        })
        .ok_or_else(|| ApiError {
            status: 404,
            message: "The lifecycle policy object is missing.".into(),
            violations: Vec::new(),
        })
}

pub async fn set_lifecycle_policy(
    csrf: &str,
    object_id: &str,
    value: LifecyclePolicyValue,
) -> ApiResult<()> {
    let url = format!("/api/v2/settings/objects/{object_id}");
    let update = SettingsUpdate {
        value: SettingsValue::Lifecycle(value),
    };
    send(body(with_csrf(Request::put(&url), csrf), &update))
        .await
        .map(|_| ())
}

const WEBHOOKS: &str = "/api/v2/tessera/webhooks";

/// The newest webhook events and how their delivery stands.
pub async fn webhook_deliveries() -> ApiResult<WebhookDeliveries> {
    json(Request::get(&format!("{WEBHOOKS}/deliveries")).build()).await
}

/// Queues a `webhook.test` event.
pub async fn send_test_webhook(csrf: &str) -> ApiResult<WebhookTestQueued> {
    json(with_csrf(Request::post(&format!("{WEBHOOKS}/test")), csrf).build()).await
}
