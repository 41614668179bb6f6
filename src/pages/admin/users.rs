//! Settings > Access control > Users: everyone who may sign in, with search; disable and
//! enable; reset a password (shown once); add and edit in `user_form`.
use leptos::prelude::*;
use tessera_api::{AdminUser, UserUpdate};

use crate::api_admin;
use crate::components::{ConfirmDialog, Crumb, Secret, Shell, ShowOnce, Spinner};
use crate::pages::NoAccess;
use crate::state::use_session;

pub const USERS: &str = "/settings/access-control/users";

pub fn crumbs(last: Option<&'static str>) -> Vec<Crumb> {
    let mut crumbs = vec![Crumb::here("Settings"), Crumb::here("Access control")];
    match last {
        Some(last) => crumbs.extend([Crumb::link("Users", USERS), Crumb::here(last)]),
        None => crumbs.push(Crumb::here("Users")),
    }
    crumbs
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Shell crumbs=crumbs(None)>
            {move || if use_session().is_admin() { view! { <Users/> }.into_any() } else { view! { <NoAccess what="manage users"/> }.into_any() }}
        </Shell>
    }
}

/// A password just reset, held only while the show-once panel is open.
#[derive(Clone)]
struct Reset {
    username: String,
    password: String,
}

#[component]
fn Users() -> impl IntoView {
    let session = use_session();
    let search = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let list = LocalResource::new(move || {
        let search = applied.get();
        async move { api_admin::users(&search).await }
    });
    let error = RwSignal::new(None::<String>);
    let resetting = RwSignal::new(None::<String>);
    let reset_busy = RwSignal::new(false);
    let reset = RwSignal::new(None::<Reset>);
    let confirm_reset = Callback::new(move |()| {
        let Some(username) = resetting.get_untracked() else {
            return;
        };
        let csrf = session.csrf();
        reset_busy.set(true);
        leptos::task::spawn_local(async move {
            match api_admin::reset_password(&csrf, &username).await {
                Ok(done) => reset.set(Some(Reset {
                    username,
                    password: done.password,
                })),
                Err(e) => error.set(Some(format!(
                    "The password of {username} was not reset: {}",
                    e.message
                ))),
            }
            reset_busy.set(false);
            resetting.set(None);
        });
    });
    let set_active = Callback::new(move |(username, active): (String, bool)| {
        let csrf = session.csrf();
        error.set(None);
        leptos::task::spawn_local(async move {
            let update = UserUpdate {
                active: Some(active),
                ..Default::default()
            };
            match api_admin::update_user(&csrf, &username, &update).await {
                Ok(_) => list.refetch(),
                Err(e) => error.set(Some(format!(
                    "{username} was not {}: {}",
                    if active { "enabled" } else { "disabled" },
                    e.message
                ))),
            }
        });
    });
    let on_reset = Callback::new(move |username: String| resetting.set(Some(username)));

    view! {
        {move || match reset.get() {
            Some(r) => view! {
                <ShowOnce token=r.password name=r.username secret=Secret::Password
                    on_done=Callback::new(move |()| reset.set(None))/>
            }.into_any(),
            None => view! {
                <div class="page-header">
                    <div>
                        <h1>"Users"</h1>
                        <p class="lead">"Who can sign in, what they may grant to their tokens, and who administers Tessera."</p>
                    </div>
                    <a class="button primary" href="/settings/access-control/users/new">"Add user"</a>
                </div>
                <form class="card filters" role="search" aria-label="Search users"
                    on:submit=move |ev| { ev.prevent_default(); applied.set(search.get_untracked()); }>
                    <div class="field">
                        <label class="label" for="user-search">"Search"</label>
                        <input id="user-search" type="text" autocomplete="off" placeholder="Username or display name"
                            prop:value=move || search.get()
                            on:input=move |ev| search.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" class="button">"Search"</button>
                </form>
                <p class="notice error" role="alert" hidden=move || error.get().is_none()>{move || error.get()}</p>
                <Suspense fallback=|| view! { <div class="page-loading"><Spinner/></div> }>
                    {move || list.get().map(|result| match result {
                        Err(e) => view! { <div class="notice error" role="alert">"Users could not be loaded: " {e.message}</div> }.into_any(),
                        Ok(list) if list.users.is_empty() => view! {
                            <div class="card empty"><h2>"No users match"</h2><p>"Try another search."</p></div>
                        }.into_any(),
                        Ok(list) => view! { <UserTable users=list.users on_reset=on_reset set_active=set_active/> }.into_any(),
                    })}
                </Suspense>
            }.into_any(),
        }}
        <ConfirmDialog
            id="reset"
            open=Signal::derive(move || resetting.get().is_some())
            title=Signal::derive(move || format!("Reset the password of {}?", resetting.get().unwrap_or_default()))
            message="Their current password stops working at once and they are signed out everywhere. You get a new password to give them."
            confirm_label="Reset password"
            busy=reset_busy
            on_confirm=confirm_reset
            on_cancel=Callback::new(move |()| resetting.set(None))
        />
    }
}

#[component]
fn UserTable(
    users: Vec<AdminUser>,
    on_reset: Callback<String>,
    set_active: Callback<(String, bool)>,
) -> impl IntoView {
    let me = use_session()
        .info()
        .map(|i| i.user.username)
        .unwrap_or_default();
    view! {
        <div class="table-wrap">
            <table class="tokens users">
                <caption class="sr-only">{format!("Users ({})", users.len())}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Display name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Permissions"</th>
                        <th scope="col">"Zones"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let is_me = u.username == me;
                        let username = u.username.clone();
                        let for_reset = u.username.clone();
                        let for_active = u.username.clone();
                        let active = u.active;
                        let edit = format!("/settings/access-control/users/{}", String::from(js_sys::encode_uri_component(&u.username)));
                        let permissions = if u.admin { "Every scope".to_owned() } else { format!("{}", u.permissions.len()) };
                        let zones = if u.all_zones { "All zones".to_owned() } else if u.management_zones.is_empty() { "None".to_owned() } else { u.management_zones.join(", ") };
                        view! {
                            <tr class:expired=!active>
                                <th scope="row" class="name">{username.clone()}</th>
                                <td data-label="Display name">{u.display_name}</td>
                                <td data-label="Role">{if u.admin { view! { <span class="badge neutral">"Administrator"</span> }.into_any() } else { view! { <span>"User"</span> }.into_any() }}</td>
                                <td data-label="Permissions">{permissions}</td>
                                <td data-label="Zones">{zones}</td>
                                <td data-label="Status">{if active { "Active" } else { "Disabled" }}</td>
                                <td class="actions row-actions">
                                    <a class="button small" href=edit aria-label=format!("Edit {username}")>"Edit"</a>
                                    <button type="button" class="button small" hidden=is_me
                                        aria-label=format!("{} {username}", if active { "Disable" } else { "Enable" })
                                        on:click=move |_| set_active.run((for_active.clone(), !active))>
                                        {if active { "Disable" } else { "Enable" }}
                                    </button>
                                    // Not for yourself: a reset would sign you out everywhere.
                                    <button type="button" class="button small" hidden=!u.has_password || is_me
                                        aria-label=format!("Reset the password of {username}")
                                        on:click=move |_| on_reset.run(for_reset.clone())>
                                        "Reset password"
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
