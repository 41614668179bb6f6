//! The token table, shared by a person's own tokens and the administrators' list of
//! everyone's: with a selection it adds a checkbox, owner and type per row. On narrow
//! screens the rows become cards (see `style/main.css`, "Tables as cards").
use std::collections::BTreeMap;

use leptos::prelude::*;
use tessera_api::{ApiToken, Scope, UpdateTokenRequest};

use super::usage_chart::UsageDetails;
use super::{RelativeTime, Spinner, Switch};
#[cfg(feature = "admin")]
#[path = "token_table_everyone.rs"]
mod everyone;
#[cfg(not(feature = "admin"))]
mod everyone {
    //! Everyone's build has no list of everyone's tokens: no cells for it.
    use super::{ApiToken, Selection};
    pub fn select_all(_: Option<Selection>, _: &[ApiToken]) -> Option<()> {
        None
    }
    pub fn header(_: bool, _: &str) -> Option<()> {
        None
    }
    pub fn select(_: Option<Selection>, _: &str, _: &str) -> Option<()> {
        None
    }
    pub fn owner(_: Option<Selection>, _: &ApiToken) -> Option<()> {
        None
    }
    pub fn kind(_: Option<Selection>, _: &ApiToken) -> Option<()> {
        None
    }
}
use crate::api;
use crate::format;
use crate::state::use_session;

/// The rows ticked for a bulk action, id → name (they may be on other pages by then).
pub type Selection = RwSignal<BTreeMap<String, String>>;

const DAY_MS: f64 = 86_400_000.0;

/// The first expiry warning threshold of the lifecycle policy, in days (7 unless the
/// policy says otherwise).
pub fn warning_days(info: Option<&tessera_api::SessionInfo>) -> i64 {
    info.and_then(|i| i.expiry_warning_days.first().copied())
        .unwrap_or(7)
}

/// The same in milliseconds.
pub fn warning_ms(info: Option<&tessera_api::SessionInfo>) -> f64 {
    warning_days(info) as f64 * DAY_MS
}

#[component]
pub fn TokenTable(
    tokens: Vec<ApiToken>,
    #[prop(into)] caption: String,
    on_delete: Callback<ApiToken>,
    /// Present on the administrators' list: rows can be ticked, owner and type are shown.
    #[prop(optional)]
    selection: Option<Selection>,
    /// "Regenerate" on each row (rotation), where the page offers it.
    #[prop(optional)]
    on_regenerate: Option<Callback<ApiToken>>,
) -> impl IntoView {
    let select_all = everyone::select_all(selection, &tokens);
    let everyone = selection.is_some();
    view! {
        <div class="table-wrap">
            <table class="tokens">
                <caption class="sr-only">{caption}</caption>
                <thead>
                    <tr>
                        {select_all}
                        <th scope="col">"Name"</th>
                        {everyone::header(everyone, "Owner")}
                        <th scope="col">"Token ID"</th>
                        {everyone::header(everyone, "Type")}
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| view! { <TokenRow token=t on_delete=on_delete selection=selection on_regenerate=on_regenerate/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Three shimmering rows while a list loads.
#[component]
pub fn TableSkeleton() -> impl IntoView {
    view! {
        <div class="table-wrap" aria-busy="true">
            <span class="sr-only" role="status">"Loading tokens"</span>
            {(0..3).map(|_| view! { <div class="skeleton-row"><span class="skeleton"></span></div> }).collect_view()}
        </div>
    }
}

/// Whether the lifecycle policy shortened this token's life (`policyCappedDate`).
pub fn shortened(token: &ApiToken) -> bool {
    token
        .additional_metadata
        .as_ref()
        .is_some_and(|m| m.contains_key("policyCappedDate"))
}

#[component]
fn TokenRow(
    token: ApiToken,
    on_delete: Callback<ApiToken>,
    selection: Option<Selection>,
    on_regenerate: Option<Callback<ApiToken>>,
) -> impl IntoView {
    let session = use_session();
    let enabled = RwSignal::new(token.enabled.unwrap_or(false));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name = token.name.clone().unwrap_or_default();
    let id = token.id.clone();
    let scopes = token.scopes.clone().unwrap_or_default();
    let expires_ms = token
        .expiration_date
        .clone()
        .flatten()
        .as_deref()
        .and_then(format::parse_iso);
    let now = format::now_ms();
    let expired = expires_ms.is_some_and(|ms| ms <= now);
    let soon = warning_ms(session.info().as_ref());
    let expiring = expires_ms.is_some_and(|ms| ms > now && ms <= now + soon);
    let toggle = {
        let id = id.clone();
        Callback::new(move |want: bool| {
            let id = id.clone();
            let csrf = session.csrf();
            busy.set(true);
            error.set(None);
            enabled.set(want);
            leptos::task::spawn_local(async move {
                let update = UpdateTokenRequest {
                    enabled: Some(want),
                    ..Default::default()
                };
                if let Err(e) = api::update_token(&csrf, &id, &update).await {
                    enabled.set(!want);
                    error.set(Some(e.message));
                }
                busy.set(false);
            });
        })
    };
    let select = everyone::select(selection, &id, &name);
    let owner = everyone::owner(selection, &token);
    let kind = everyone::kind(selection, &token);
    let switch_label = format!("Token “{name}” enabled");
    let delete_label = format!("Delete token “{name}”");
    let for_delete = token.clone();
    let capped = shortened(&token);
    let last_used = token.last_used_date.clone().flatten();
    let ip = token.last_used_ip_address.clone().flatten();
    let usage_id = id.clone();
    let rate_limit = token
        .additional_metadata
        .as_ref()
        .and_then(|m| m.get("rateLimitPerMinute"))
        .and_then(|v| v.as_u64());
    view! {
        <tr class:expired=expired>
            {select}
            <th scope="row" class="name">{name.clone()}</th>
            {owner}
            <td data-label="Token ID"><code class="token-id">{id}</code></td>
            {kind}
            <td data-label="Scopes"><ScopeList scopes=scopes/></td>
            <td data-label="Created">{token.creation_date.clone().map(|c| view! { <RelativeTime iso=c/> })}</td>
            <td data-label="Last used">{match last_used {
                Some(at) => view! { <RelativeTime iso=at note=ip.map(|i| format!("from {i}")).unwrap_or_default()/> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}<UsageDetails id=usage_id rate_limit=rate_limit/></td>
            <td data-label="Expires">{match (expired, token.expiration_date.clone().flatten()) {
                (true, Some(at)) => view! { <span class="badge danger">"Expired"</span> " " <RelativeTime iso=at/> }.into_any(),
                (false, Some(at)) => view! {
                    {expiring.then(|| view! { <span class="badge warning">"Expires soon"</span> " " })}
                    {capped.then(|| view! { <span class="badge neutral">"Shortened by policy"</span> " " })}
                    <RelativeTime iso=at/>
                }.into_any(),
                (_, None) => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td class="status" data-label="Status">
                <Switch checked=enabled label=switch_label busy=busy on_toggle=toggle/>
                <span class="status-text" aria-hidden="true">{move || if enabled.get() { "Enabled" } else { "Disabled" }}</span>
                <Show when=move || busy.get()><Spinner label="Saving"/></Show>
                <span class="field-error" role="alert">{move || error.get()}</span>
            </td>
            <td class="actions">
                {on_regenerate.map(|regenerate| {
                    let (label, for_regenerate) = (format!("Regenerate token “{name}”"), token.clone());
                    view! {
                        <button type="button" class="button small" aria-label=label
                            on:click=move |_| regenerate.run(for_regenerate.clone())>
                            "Regenerate"
                        </button>
                        " "
                    }
                })}
                <button type="button" class="button small danger-outline" aria-label=delete_label
                    on:click=move |_| on_delete.run(for_delete.clone())>
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

/// "3 scopes", opening to the list. The list is built the first time it is opened: a
/// third of a row's elements otherwise, for a list that is closed on arrival.
#[component]
fn ScopeList(scopes: Vec<String>) -> impl IntoView {
    let opened = RwSignal::new(false);
    let count = scopes.len();
    view! {
        <details class="scope-list" on:toggle=move |ev| {
            if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
                opened.set(true);
            }
        }>
            <summary>{format!("{count} scope{}", if count == 1 { "" } else { "s" })}</summary>
            <Show when=move || opened.get()>
                <ul>
                    {scopes.iter().map(|s| {
                        let shown = Scope::parse(s).map(|x| x.display_name()).unwrap_or("");
                        view! { <li><span>{shown}</span> " " <code>{s.clone()}</code></li> }
                    }).collect_view()}
                </ul>
            </Show>
        </details>
    }
}
