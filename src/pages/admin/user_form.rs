//! Add a user, or edit one: username (new only), display name, administrator, permissions
//! as the grouped scope checkboxes, management zones or all. The server decides; each of
//! its violations is shown next to its field. A new user's password is shown once.
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use tessera_api::{AdminUser, NewUser, Scope, UserUpdate, SCOPES};

use super::users::{crumbs, USERS};
use crate::api::ApiError;
use crate::api_admin;
use crate::components::{ScopePicker, Secret, Shell, ShowOnce, Spinner};
use crate::forms::ScopeSelection;
use crate::pages::NoAccess;
use crate::state::use_session;

#[component]
pub fn NewUserPage() -> impl IntoView {
    view! {
        <Shell crumbs=crumbs(Some("Add user"))>
            {move || if use_session().is_admin() { view! { <UserForm existing=None/> }.into_any() } else { view! { <NoAccess what="add users"/> }.into_any() }}
        </Shell>
    }
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let params = use_params_map();
    let user = LocalResource::new(move || {
        let username = params.with(|p| p.get("username").unwrap_or_default());
        async move { api_admin::user(&username).await }
    });
    view! {
        <Shell crumbs=crumbs(Some("Edit user"))>
            {move || if !use_session().is_admin() {
                view! { <NoAccess what="edit users"/> }.into_any()
            } else {
                view! {
                    <Suspense fallback=|| view! { <div class="page-loading"><Spinner/></div> }>
                        {move || user.get().map(|r| match r {
                            Ok(u) => view! { <UserForm existing=Some(u)/> }.into_any(),
                            Err(e) => view! { <div class="notice error" role="alert">"This user could not be loaded: " {e.message}</div> }.into_any(),
                        })}
                    </Suspense>
                }.into_any()
            }}
        </Shell>
    }
}

/// Scopes an administrator can give a user who is not one (some only admins hold).
fn grantable() -> Vec<Scope> {
    SCOPES.iter().copied().filter(|s| !s.admin_only()).collect()
}

/// Zone names from the field: comma-separated, trimmed, empty ones dropped.
fn zones(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
fn UserForm(existing: Option<AdminUser>) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let adding = existing.is_none();
    let original = existing.clone();
    let existing = existing.unwrap_or(AdminUser {
        username: String::new(),
        display_name: String::new(),
        admin: false,
        active: true,
        permissions: Vec::new(),
        management_zones: Vec::new(),
        all_zones: false,
        has_password: true,
    });
    let username = RwSignal::new(existing.username.clone());
    let display_name = RwSignal::new(existing.display_name.clone());
    let admin = RwSignal::new(existing.admin);
    // Only grantable scopes: an admin's stored auditLogs.read would be ticked and disabled,
    // and refused by the server on demotion.
    let grantable_values: Vec<String> = existing
        .permissions
        .iter()
        .filter(|p| Scope::parse(p).is_some_and(|s| !s.admin_only()))
        .cloned()
        .collect();
    let selection = RwSignal::new(ScopeSelection::from_values(&grantable_values));
    let all_zones = RwSignal::new(existing.all_zones);
    let zone_text = RwSignal::new(existing.management_zones.join(", "));
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let created = RwSignal::new(None::<(String, String)>);
    let field = move |name: &'static str| {
        move || error.with(|e| e.as_ref().and_then(|e| e.for_field(name)))
    };
    let form_error = move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| {
                    [
                        "username",
                        "displayName",
                        "admin",
                        "active",
                        "permissions",
                        "managementZones",
                    ]
                    .iter()
                    .all(|f| e.for_field(f).is_none())
                })
                .map(|e| e.message.clone())
        })
    };
    let held = Signal::derive(grantable);
    let back = navigate.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let csrf = session.csrf();
        let permissions = if admin.get_untracked() {
            Vec::new()
        } else {
            selection.with_untracked(ScopeSelection::values)
        };
        let display = display_name.get_untracked().trim().to_owned();
        let zone_field = zone_text.get_untracked();
        let zones = zones(&zone_field);
        let navigate = navigate.clone();
        let original = original.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = match original {
                None => {
                    let user = NewUser {
                        username: username.get_untracked().trim().to_owned(),
                        display_name: (!display.is_empty()).then_some(display),
                        permissions,
                        management_zones: zones,
                        all_zones: all_zones.get_untracked(),
                        admin: admin.get_untracked(),
                    };
                    api_admin::add_user(&csrf, &user)
                        .await
                        .map(|done| created.set(Some((done.user.username, done.password))))
                }
                Some(before) => {
                    // Only what changed is sent: the server's last-admin and self rules
                    // then name the field that was actually changed.
                    let changed = |new: bool, old: bool| (new != old).then_some(new);
                    let update = UserUpdate {
                        display_name: (display != before.display_name).then_some(display),
                        // An administrator holds every scope whatever is stored: their
                        // permissions are left alone (sending none would wipe them).
                        permissions: (!admin.get_untracked() && permissions != before.permissions)
                            .then_some(permissions),
                        // Zone names may hold commas: the field is split only when edited.
                        management_zones: (zone_field != before.management_zones.join(", "))
                            .then_some(zones),
                        all_zones: changed(all_zones.get_untracked(), before.all_zones),
                        admin: changed(admin.get_untracked(), before.admin),
                        active: None,
                    };
                    api_admin::update_user(&csrf, &before.username, &update)
                        .await
                        .map(|_| navigate(USERS, Default::default()))
                }
            };
            if let Err(e) = result {
                error.set(Some(e));
            }
            busy.set(false);
        });
    };
    let done = Callback::new(move |()| {
        created.set(None);
        back(USERS, Default::default());
    });

    view! {
        {move || match created.get() {
            Some((name, password)) => view! { <ShowOnce token=password name=name secret=Secret::Password on_done=done/> }.into_any(),
            None => view! {
                <h1>{if adding { "Add user".to_owned() } else { format!("Edit {}", username.get_untracked()) }}</h1>
                <form class="card form" on:submit=submit.clone() novalidate>
                    <Show when=move || adding>
                        <TextField id="user-username" label="Username" value=username error=Signal::derive(field("username"))
                            hint="Letters, digits and . _ - @; used to sign in. It cannot be changed later." autocomplete="off"/>
                    </Show>
                    <TextField id="user-display-name" label="Display name" value=display_name error=Signal::derive(field("displayName"))
                        hint="Shown in the console. Defaults to the username." autocomplete="off"/>
                    <div class="field">
                        <label class="check">
                            <input id="user-admin" type="checkbox" aria-describedby="user-admin-hint user-admin-error"
                                prop:checked=move || admin.get() on:change=move |ev| admin.set(event_target_checked(&ev))/>
                            "Administrator"
                        </label>
                        <p id="user-admin-hint" class="hint">"Administrators hold every permission and manage tokens, users and settings."</p>
                        <p id="user-admin-error" class="field-error" role="alert">{field("admin")}</p>
                    </div>
                    <Show when=move || !admin.get()>
                        <ScopePicker selection=selection held=held error=Signal::derive(field("permissions"))
                            legend="Permissions"
                            hint="What this user may grant to their tokens."
                            reason=" — only administrators hold this."/>
                    </Show>
                    <fieldset class="field" aria-describedby="user-zones-error">
                        <legend>"Management zones"</legend>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || all_zones.get()
                                on:change=move |ev| all_zones.set(event_target_checked(&ev))/>
                            "All zones"
                        </label>
                        <Show when=move || !all_zones.get()>
                            <label class="label" for="user-zones">"Zones"</label>
                            <input id="user-zones" type="text" autocomplete="off" aria-describedby="user-zones-hint user-zones-error"
                                prop:value=move || zone_text.get() on:input=move |ev| zone_text.set(event_target_value(&ev))/>
                            <p id="user-zones-hint" class="hint">"Comma-separated names. Tokens of this user act only in these zones."</p>
                        </Show>
                        <p id="user-zones-error" class="field-error" role="alert">{field("managementZones")}</p>
                    </fieldset>
                    <p class="field-error form-error" role="alert">{form_error}</p>
                    <div class="form-actions">
                        <a class="button" href=USERS>"Cancel"</a>
                        <button type="submit" class="button primary" disabled=move || busy.get()>
                            <Show when=move || busy.get()><Spinner label="Saving"/></Show>
                            {if adding { "Add user" } else { "Save changes" }}
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}

/// A labelled text input with its hint and the server's message for it.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    hint: &'static str,
    autocomplete: &'static str,
) -> impl IntoView {
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    view! {
        <div class="field">
            <label for=id class="label">{label}</label>
            <input id=id type="text" autocomplete=autocomplete
                aria-describedby=format!("{hint_id} {error_id}")
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            <p id=hint_id class="hint">{hint}</p>
            <p id=error_id class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
