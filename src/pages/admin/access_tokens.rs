//! Settings > Access control > Access tokens: every token of every user, filtered, sorted
//! and paged on the server; bulk disable and delete; environment tokens generated here.
use std::collections::BTreeMap;

use leptos::prelude::*;
use tessera_api::{ApiToken, ApiTokenList, Scope, ScopeGroup};

use super::bulk::{BulkBar, BulkReport};
use crate::admin_query::TokenFilters;
use crate::api::{self, ApiError};
use crate::api_admin;
use crate::components::{
    ConfirmDialog, Crumb, Regenerate, Regeneration, Shell, TableSkeleton, TokenTable,
};
use crate::pages::{Generate, NoAccess};
use crate::state::use_session;

const PAGE_SIZE: u32 = 50;
const HERE: &str = "/settings/access-control/access-tokens";
const SORTS: [(&str, &str); 6] = [
    ("-creationDate", "Newest first"),
    ("creationDate", "Oldest first"),
    ("name", "Name A–Z"),
    ("-lastUsedDate", "Recently used"),
    ("lastUsedDate", "Least recently used"),
    ("expirationDate", "Expiring soonest"),
];

fn crumbs(last: Option<&'static str>) -> Vec<Crumb> {
    let mut crumbs = vec![Crumb::here("Settings"), Crumb::here("Access control")];
    match last {
        Some(last) => crumbs.extend([Crumb::link("Access tokens", HERE), Crumb::here(last)]),
        None => crumbs.push(Crumb::here("Access tokens")),
    }
    crumbs
}

#[component]
pub fn AccessTokensPage() -> impl IntoView {
    view! {
        <Shell crumbs=crumbs(None)>
            {move || if use_session().is_admin() { view! { <AccessTokens/> }.into_any() } else { view! { <NoAccess what="see everyone's tokens"/> }.into_any() }}
        </Shell>
    }
}

/// Admins generate environment tokens (`personalAccessToken: false`) here.
#[component]
pub fn NewEnvironmentTokenPage() -> impl IntoView {
    view! {
        <Shell crumbs=crumbs(Some("Generate environment token"))>
            {move || if use_session().is_admin() { view! { <Generate personal=false back=HERE/> }.into_any() } else { view! { <NoAccess what="generate environment tokens"/> }.into_any() }}
        </Shell>
    }
}

/// What the list shows: the filters and sort applied, and the page keys walked so far.
#[derive(Debug, Clone, Default, PartialEq)]
struct Query {
    filters: TokenFilters,
    sort: String,
    keys: Vec<String>,
}

#[component]
fn AccessTokens() -> impl IntoView {
    let session = use_session();
    let draft = RwSignal::new(TokenFilters::default());
    let query = RwSignal::new(Query {
        sort: SORTS[0].0.into(),
        ..Default::default()
    });
    let page = LocalResource::new(move || {
        let q = query.get();
        async move {
            let selector = q.filters.selector();
            api_admin::tokens_page(
                &selector,
                &q.sort,
                PAGE_SIZE,
                q.keys.last().map(String::as_str),
            )
            .await
        }
    });
    let selection = RwSignal::new(BTreeMap::<String, String>::new());
    // A later page emptied by deletions goes back a page rather than showing "no match".
    Effect::new(move |_| {
        if let Some(Ok(list)) = page.get() {
            if list.api_tokens.is_empty() && query.with_untracked(|q| !q.keys.is_empty()) {
                query.update(|q| {
                    q.keys.pop();
                });
            }
        }
    });
    let apply = move || {
        selection.set(BTreeMap::new());
        query.update(|q| {
            q.filters = draft.get_untracked();
            q.keys.clear();
        });
    };
    let report = RwSignal::new(None::<BulkReport>);
    let deleting = RwSignal::new(None::<ApiToken>);
    let delete_error = RwSignal::new(None::<String>);
    let confirm_delete = Callback::new(move |()| {
        let Some(token) = deleting.get_untracked() else {
            return;
        };
        let csrf = session.csrf();
        leptos::task::spawn_local(async move {
            deleting.set(None);
            match api::delete_token(&csrf, &token.id).await {
                Ok(()) => {
                    selection.update(|s| {
                        s.remove(&token.id);
                    });
                    page.refetch()
                }
                Err(e) => delete_error.set(Some(format!(
                    "“{}” was not deleted: {}",
                    token.name.unwrap_or_default(),
                    e.message
                ))),
            }
        });
    });
    let on_delete = Callback::new(move |t: ApiToken| deleting.set(Some(t)));
    // Regenerate (rotation) of anyone's token: the new one is shown once, here.
    let regeneration = Regeneration::new();
    let on_regenerate = regeneration.ask();
    let after_bulk = Callback::new(move |r: BulkReport| {
        selection.update(|s| s.retain(|id, _| r.failed.iter().any(|f| &f.id == id)));
        report.set(Some(r));
        page.refetch();
    });

    view! {
        <Regenerate state=regeneration on_taken=Callback::new(move |()| page.refetch())/>
        <div hidden=move || regeneration.showing()>
        <div class="page-header">
            <div>
                <h1>"Access tokens"</h1>
                <p class="lead">"Every token of every user. Disable or delete tokens that should no longer work."</p>
            </div>
            <a class="button primary" href="/settings/access-control/access-tokens/new">"Generate environment token"</a>
        </div>
        <form class="card filters" role="search" aria-label="Filter tokens"
            on:submit=move |ev| { ev.prevent_default(); apply(); }>
            <div class="field">
                <label class="label" for="filter-owner">"Owner"</label>
                <input id="filter-owner" type="text" autocomplete="off" placeholder="Username"
                    prop:value=move || draft.with(|d| d.owner.clone())
                    on:input=move |ev| draft.update(|d| d.owner = event_target_value(&ev))/>
            </div>
            <FilterSelect id="filter-scope" label="Scope" value=Signal::derive(move || draft.with(|d| d.scope.clone()))
                options=scope_options()
                on_change=Callback::new(move |v| { draft.update(|d| d.scope = v); apply(); })/>
            <FilterSelect id="filter-type" label="Type" value=Signal::derive(move || draft.with(|d| d.kind.clone()))
                options=vec![("", "Any type".into()), ("personal", "Personal".into()), ("environment", "Environment".into())]
                on_change=Callback::new(move |v| { draft.update(|d| d.kind = v); apply(); })/>
            <FilterSelect id="filter-status" label="Status" value=Signal::derive(move || draft.with(|d| d.status.clone()))
                options=vec![("", "Any status".into()), ("enabled", "Enabled".into()), ("disabled", "Disabled".into()),
                    ("expired", "Expired".into()), ("expiring", "Expiring within 7 days".into())]
                on_change=Callback::new(move |v| { draft.update(|d| d.status = v); apply(); })/>
            <FilterSelect id="sort" label="Sort" value=Signal::derive(move || query.with(|q| q.sort.clone()))
                options=SORTS.iter().map(|&(v, l)| (v, l.to_owned())).collect()
                on_change=Callback::new(move |v| { selection.set(BTreeMap::new()); query.update(|q| { q.sort = v; q.keys.clear(); }) })/>
            <label class="check">
                <input type="checkbox" prop:checked=move || draft.with(|d| d.unused)
                    on:change=move |ev| { draft.update(|d| d.unused = event_target_checked(&ev)); apply(); }/>
                "Not used for 90 days"
            </label>
            <button type="submit" class="button">"Apply"</button>
        </form>
        <BulkBar selection=selection on_done=after_bulk/>
        // Always in the page, so that screen readers announce the report put into it.
        <div aria-live="polite">{move || report.get().map(|r| r.view())}</div>
        <p class="notice error" role="alert" hidden=move || delete_error.get().is_none()>{move || delete_error.get()}</p>
        <Suspense fallback=|| view! { <TableSkeleton/> }>
            {move || page.get().map(|result| match result {
                Err(e) => view! { <LoadError error=e on_retry=Callback::new(move |()| page.refetch())/> }.into_any(),
                Ok(list) if list.api_tokens.is_empty() => view! {
                    <div class="card empty"><h2>"No tokens match"</h2><p>"Change or clear the filters to see more tokens."</p></div>
                }.into_any(),
                Ok(list) => view! { <TokenPage list=list query=query selection=selection on_delete=on_delete on_regenerate=on_regenerate/> }.into_any(),
            })}
        </Suspense>
        </div>
        <ConfirmDialog
            open=Signal::derive(move || deleting.get().is_some())
            title=Signal::derive(move || format!("Delete “{}”?", deleting.get().and_then(|t| t.name).unwrap_or_default()))
            message="Programs that use this token will stop working at once. This can't be undone."
            confirm_label="Delete token"
            on_confirm=confirm_delete
            on_cancel=Callback::new(move |()| deleting.set(None))
        />
    }
}

/// The table of one page with its place in the whole ("51–100 of 230") and the pager.
#[component]
fn TokenPage(
    list: ApiTokenList,
    query: RwSignal<Query>,
    selection: RwSignal<BTreeMap<String, String>>,
    on_delete: Callback<ApiToken>,
    on_regenerate: Callback<ApiToken>,
) -> impl IntoView {
    let first = query.with_untracked(|q| q.keys.len()) as u64 * PAGE_SIZE as u64;
    let shown = list.api_tokens.len() as u64;
    let place = format!("{}–{} of {}", first + 1, first + shown, list.total_count);
    let next = list.next_page_key.clone();
    let has_previous = first > 0;
    view! {
        <TokenTable tokens=list.api_tokens caption=format!("Access tokens, {place}") on_delete=on_delete selection=selection on_regenerate=on_regenerate/>
        <nav class="pager" aria-label="Pages">
            <span class="muted" role="status">{place}</span>
            <button type="button" class="button small" disabled=!has_previous
                on:click=move |_| query.update(|q| { q.keys.pop(); })>"Previous"</button>
            <button type="button" class="button small" disabled=next.is_none()
                on:click=move |_| if let Some(key) = next.clone() { query.update(|q| q.keys.push(key)) }>"Next"</button>
        </nav>
    }
}

#[component]
fn LoadError(error: ApiError, on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            "The tokens could not be loaded: " {error.message} " "
            <button type="button" class="button small" on:click=move |_| on_retry.run(())>"Try again"</button>
        </div>
    }
}

fn scope_options() -> Vec<(&'static str, String)> {
    let mut options = vec![("", "Any scope".to_owned())];
    for group in ScopeGroup::ALL {
        options.extend(
            group
                .scopes()
                .map(|s: Scope| (s.as_str(), format!("{} ({})", s.display_name(), s.as_str()))),
        );
    }
    options
}

/// A labelled `<select>` that reports each change.
#[component]
pub fn FilterSelect(
    id: &'static str,
    label: &'static str,
    #[prop(into)] value: Signal<String>,
    options: Vec<(&'static str, String)>,
    on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label class="label" for=id>{label}</label>
            <select id=id on:change=move |ev| on_change.run(event_target_value(&ev))>
                {options.into_iter().map(|(v, text)| view! {
                    <option value=v selected=move || value.get() == v>{text}</option>
                }).collect_view()}
            </select>
        </div>
    }
}
