use leptos::prelude::*;
use tessera_api::ApiToken;

use crate::api;
use crate::components::token_table::{warning_days, warning_ms};
use crate::components::{
    ConfirmDialog, Crumb, Regenerate, Regeneration, Shell, TableSkeleton, TokenTable,
};
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
    let regeneration = Regeneration::new();
    let on_regenerate = regeneration.ask();
    // Tokens that expire within the policy's first warning threshold (SPEC §11).
    let expiring = move || {
        let soon = warning_ms(session.info().as_ref());
        let now = format::now_ms();
        tokens.with(|t| match t {
            Some(Ok(list)) => list
                .iter()
                .filter(|t| t.enabled == Some(true))
                .filter_map(|t| t.expiration_date.clone().flatten())
                .filter_map(|at| format::parse_iso(&at))
                .filter(|&ms| ms > now && ms <= now + soon)
                .count(),
            _ => 0,
        })
    };

    // Live tokens the lifecycle policy shortened (SPEC §11: their owner is told).
    let shortened = move || {
        let now = format::now_ms();
        tokens.with(|t| match t {
            Some(Ok(list)) => list
                .iter()
                .filter(|t| crate::components::token_table::shortened(t))
                .filter_map(|t| t.expiration_date.clone().flatten())
                .filter(|at| format::parse_iso(at).is_some_and(|ms| ms > now))
                .count(),
            _ => 0,
        })
    };
    view! {
        <Regenerate state=regeneration on_taken=Callback::new(move |()| tokens.refetch())/>
        // The list stays in the page (hidden) while the new token is shown once.
        <div hidden=move || regeneration.showing()>
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
                <Show when=move || session.is_admin()>
                    " "
                    <a href="/settings/integration/token-settings" rel=crate::bundle::rel("/settings/integration/token-settings")>
                        "Turn them on in Token settings"
                    </a>
                </Show>
            </div>
        </Show>
        <p class="notice error" role="alert" hidden=move || delete_error.get().is_none()>{move || delete_error.get()}</p>
        {move || (shortened() > 0).then(|| {
            let n = shortened();
            view! {
                <div class="notice info" role="status">
                    <strong>{format!("The token lifecycle policy shortened the life of {n} of your tokens.")}</strong>
                    " They are marked “Shortened by policy” below, with their new expiration dates."
                </div>
            }
        })}
        {move || (expiring() > 0).then(|| {
            // Whole days as an integer: formatting an f64 adds float printing to the wasm.
            let days = warning_days(session.info().as_ref());
            let n = expiring();
            view! {
                <div class="notice warning" role="status">
                    <strong>{format!("{n} of your tokens expire{} within {days} days.", if n == 1 { "s" } else { "" })}</strong>
                    " They are marked “Expires soon” below. Regenerate them before programs that use them are refused."
                </div>
            }
        })}
        <Suspense fallback=|| view! { <TableSkeleton/> }>
            {move || tokens.get().map(|result| match result {
                Err(e) => view! {
                    <div class="notice error" role="alert">
                        "Your tokens could not be loaded: " {e.message} " "
                        <button type="button" class="button small" on:click=move |_| tokens.refetch()>"Try again"</button>
                    </div>
                }.into_any(),
                Ok(list) if list.is_empty() => view! { <EmptyState/> }.into_any(),
                Ok(list) => {
                    let caption = format!("Your personal access tokens ({})", list.len());
                    view! { <TokenTable tokens=list caption=caption on_delete=on_delete on_regenerate=on_regenerate/> }.into_any()
                }
            })}
        </Suspense>
        </div>
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
