use leptos::prelude::*;

use crate::api;
use crate::components::{Crumb, Shell, Spinner, Switch};
use crate::pages::NoAccess;
use crate::state::use_session;

#[derive(Debug, Clone, PartialEq)]
enum Save {
    Idle,
    Saving,
    Saved,
    Failed(String),
}

/// Settings > Integration > Token settings: the switch that turns personal access tokens
/// on or off for everyone. Saves at once; on failure goes back and says why.
#[component]
pub fn TokenSettingsPage() -> impl IntoView {
    let crumbs = vec![
        Crumb::here("Settings"),
        Crumb::here("Integration"),
        Crumb::here("Token settings"),
    ];
    view! {
        <Shell crumbs=crumbs>
            {move || if use_session().is_admin() { view! { <Settings/> }.into_any() } else { view! { <NoAccess what="change token settings"/> }.into_any() }}
        </Shell>
    }
}

#[component]
fn Settings() -> impl IntoView {
    let session = use_session();
    let loaded = LocalResource::new(api::token_settings);
    let enabled = RwSignal::new(false);
    let object_id = RwSignal::new(String::new());
    let save = RwSignal::new(Save::Idle);
    Effect::new(move |_| {
        if let Some(Ok((id, value))) = loaded.get() {
            object_id.set(id);
            enabled.set(value.pat_enabled);
        }
    });
    let toggle = Callback::new(move |want: bool| {
        let before = enabled.get_untracked();
        enabled.set(want);
        save.set(Save::Saving);
        let csrf = session.csrf();
        leptos::task::spawn_local(async move {
            match api::set_pat_enabled(&csrf, &object_id.get_untracked(), want).await {
                Ok(()) => {
                    session.set_pat_enabled(want);
                    save.set(Save::Saved);
                }
                Err(e) => {
                    enabled.set(before);
                    save.set(Save::Failed(e.message));
                }
            }
        });
    });
    view! {
        <h1>"Token settings"</h1>
        <p class="lead">"Settings for tokens across this Tessera installation."</p>
        <section class="card settings-row">
            {move || match loaded.get() {
                None => view! { <div class="skeleton-row"><Spinner label="Loading token settings"/></div> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="notice error" role="alert">"Token settings could not be loaded: " {e.message}</div>
                }.into_any(),
                Some(Ok(_)) => view! {
                    <div class="setting">
                        <div class="setting-text">
                            <label for="pat-enabled" class="label strong">"Enable personal access tokens"</label>
                            <p class="hint" id="pat-enabled-help">
                                "Lets people generate personal access tokens that act on their behalf, limited to the scopes "
                                "they hold. While this is off, nobody can generate a token and every existing personal access "
                                "token is refused; the tokens are kept and work again when this is turned back on."
                            </p>
                        </div>
                        <Switch
                            id="pat-enabled"
                            checked=enabled
                            label="Enable personal access tokens"
                            busy=Signal::derive(move || save.get() == Save::Saving)
                            on_toggle=toggle
                        />
                    </div>
                    <p class="save-status" role="status" aria-live="polite">
                        {move || match save.get() {
                            Save::Idle => view! { <span></span> }.into_any(),
                            Save::Saving => view! { <span><Spinner label="Saving"/>" Saving…"</span> }.into_any(),
                            Save::Saved => view! {
                                <span class="success">{if enabled.get() { "Saved. Personal access tokens are on." } else { "Saved. Personal access tokens are off." }}</span>
                            }.into_any(),
                            Save::Failed(m) => view! { <span class="error">"Not saved: " {m}</span> }.into_any(),
                        }}
                    </p>
                }.into_any(),
            }}
        </section>
        <super::lifecycle_policy::LifecyclePolicy/>
        <super::webhook_deliveries::WebhookDeliveriesSection/>
    }
}
