use leptos::prelude::*;
use tessera_api::{ApiToken, Scope, UpdateTokenRequest};

use crate::api;
use crate::components::{ConfirmDialog, Crumb, RelativeTime, Shell, Spinner, Switch};
use crate::format;
use crate::state::use_session;

/// The user's own tokens: table, enable switch, delete with confirmation, empty state,
/// and the "turned off by an administrator" notice.
#[component]
pub fn TokensPage() -> impl IntoView {
    let crumbs = vec![Crumb::here("Personal access tokens")];
    view! { <Shell crumbs=crumbs><Tokens/></Shell> }
}

#[component]
fn Tokens() -> impl IntoView {
    let session = use_session();
    let owner = session.info().map(|i| i.user.username).unwrap_or_default();
    let tokens = LocalResource::new(move || {
        let owner = owner.clone();
        async move { api::own_tokens(&owner).await }
    });
    let deleting = RwSignal::new(None::<ApiToken>);
    let delete_busy = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<String>);
    let confirm_delete = Callback::new(move |()| {
        let Some(token) = deleting.get_untracked() else {
            return;
        };
        delete_busy.set(true);
        let csrf = session.csrf();
        leptos::task::spawn_local(async move {
            match api::delete_token(&csrf, &token.id).await {
                Ok(()) => {
                    deleting.set(None);
                    delete_error.set(None);
                    tokens.refetch();
                }
                Err(e) => {
                    deleting.set(None);
                    delete_error.set(Some(format!(
                        "“{}” was not deleted: {}",
                        token.name.unwrap_or_default(),
                        e.message
                    )));
                }
            }
            delete_busy.set(false);
        });
    });
    let on_delete = Callback::new(move |t: ApiToken| deleting.set(Some(t)));

    view! {
        <div class="page-header">
            <div>
                <h1>"Personal access tokens"</h1>
                <p class="lead">
                    "Tokens act on your behalf through Tessera's API, with the scopes you choose and never more than your own permissions."
                </p>
            </div>
            <Show when=move || session.pat_enabled()>
                <a class="button primary" href="/personal-access-tokens/new">"Generate new token"</a>
            </Show>
        </div>
        <Show when=move || !session.pat_enabled()>
            <div class="notice warning" role="status">
                <strong>"Personal access tokens are turned off by an administrator."</strong>
                " You can't generate new tokens, and your existing tokens can't be used until they are turned back on. "
                "You can still delete tokens."
            </div>
        </Show>
        <p class="notice error" role="alert" hidden=move || delete_error.get().is_none()>{move || delete_error.get()}</p>
        <Suspense fallback=|| view! { <TableSkeleton/> }>
            {move || tokens.get().map(|result| match result {
                Err(e) => view! {
                    <div class="notice error" role="alert">
                        "Your tokens could not be loaded: " {e.message} " "
                        <button type="button" class="button small" on:click=move |_| tokens.refetch()>"Try again"</button>
                    </div>
                }.into_any(),
                Ok(list) if list.is_empty() => view! { <EmptyState/> }.into_any(),
                Ok(list) => view! { <TokenTable tokens=list on_delete=on_delete/> }.into_any(),
            })}
        </Suspense>
        <ConfirmDialog
            open=Signal::derive(move || deleting.get().is_some())
            title=Signal::derive(move || format!("Delete “{}”?", deleting.get().and_then(|t| t.name).unwrap_or_default()))
            message="Programs that use this token will stop working at once. This can't be undone."
            confirm_label="Delete token"
            busy=delete_busy
            on_confirm=confirm_delete
            on_cancel=Callback::new(move |()| deleting.set(None))
        />
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    let session = use_session();
    view! {
        <div class="card empty">
            <div class="empty-mark" aria-hidden="true"></div>
            <h2>"No tokens yet"</h2>
            <p>"Generate a token to let a script or a service call Tessera's API on your behalf."</p>
            <Show when=move || session.pat_enabled()>
                <a class="button primary" href="/personal-access-tokens/new">"Generate new token"</a>
            </Show>
        </div>
    }
}

#[component]
fn TableSkeleton() -> impl IntoView {
    view! {
        <div class="table-wrap" aria-busy="true">
            <span class="sr-only" role="status">"Loading tokens"</span>
            {(0..3).map(|_| view! { <div class="skeleton-row"><span class="skeleton"></span></div> }).collect_view()}
        </div>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiToken>, on_delete: Callback<ApiToken>) -> impl IntoView {
    let count = tokens.len();
    view! {
        <div class="table-wrap">
            <table class="tokens">
                <caption class="sr-only">{format!("Your personal access tokens ({count})")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token ID"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| view! { <TokenRow token=t on_delete=on_delete/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TokenRow(token: ApiToken, on_delete: Callback<ApiToken>) -> impl IntoView {
    let session = use_session();
    let enabled = RwSignal::new(token.enabled.unwrap_or(false));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let scopes_opened = RwSignal::new(false);
    let name = token.name.clone().unwrap_or_default();
    let id = token.id.clone();
    let scopes = token.scopes.clone().unwrap_or_default();
    let expires_ms = token
        .expiration_date
        .clone()
        .flatten()
        .as_deref()
        .and_then(format::parse_iso);
    let expired = expires_ms.is_some_and(|ms| ms <= format::now_ms());
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
    let switch_label = format!("Token “{name}” enabled");
    let delete_label = format!("Delete token “{name}”");
    let for_delete = token.clone();
    let last_used = token.last_used_date.clone().flatten();
    let ip = token.last_used_ip_address.clone().flatten();
    view! {
        <tr class:expired=expired>
            <th scope="row" class="name">{name.clone()}</th>
            <td><code class="token-id">{id}</code></td>
            <td>
                // The list is built the first time it is opened: a third of a row's
                // elements otherwise, for a list that is closed on arrival.
                <details class="scope-list" on:toggle=move |ev| {
                    if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
                        scopes_opened.set(true);
                    }
                }>
                    <summary>{format!("{} scope{}", scopes.len(), if scopes.len() == 1 { "" } else { "s" })}</summary>
                    <Show when=move || scopes_opened.get()>
                        <ul>
                            {scopes.iter().map(|s| {
                                let shown = Scope::parse(s).map(|x| x.display_name()).unwrap_or("");
                                view! { <li><span>{shown}</span> " " <code>{s.clone()}</code></li> }
                            }).collect_view()}
                        </ul>
                    </Show>
                </details>
            </td>
            <td>{token.creation_date.clone().map(|c| view! { <RelativeTime iso=c/> })}</td>
            <td>{match last_used {
                Some(at) => view! { <RelativeTime iso=at note=ip.map(|i| format!("from {i}")).unwrap_or_default()/> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td>{match (expired, token.expiration_date.clone().flatten()) {
                (true, Some(at)) => view! { <span class="badge danger">"Expired"</span> " " <RelativeTime iso=at/> }.into_any(),
                (false, Some(at)) => view! { <RelativeTime iso=at/> }.into_any(),
                (_, None) => view! { <span class="muted">"Never"</span> }.into_any(),
            }}</td>
            <td class="status">
                <Switch checked=enabled label=switch_label busy=busy on_toggle=toggle/>
                <span class="status-text" aria-hidden="true">{move || if enabled.get() { "Enabled" } else { "Disabled" }}</span>
                <Show when=move || busy.get()><Spinner label="Saving"/></Show>
                <span class="field-error" role="alert">{move || error.get()}</span>
            </td>
            <td class="actions">
                <button type="button" class="button small danger-outline" aria-label=delete_label
                    on:click=move |_| on_delete.run(for_delete.clone())>
                    "Delete"
                </button>
            </td>
        </tr>
    }
}
