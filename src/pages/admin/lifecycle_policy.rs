//! Settings > Integration > Token settings, second section: the lifecycle policy
//! (`tessera:tokens.lifecycle`, SPEC §11). Each field's problem is shown next to it:
//! numbers are checked here, everything else by the server.
use leptos::prelude::*;
use tessera_api::LifecyclePolicyValue;

use crate::api::ApiError;
use crate::api_admin;
use crate::components::Spinner;
use crate::state::use_session;

/// Days from a field: empty is `None`; anything but a whole number is the error shown.
fn days(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| "Enter a whole number of days, or leave it empty.".to_owned())
}

fn day_list(text: &str) -> Result<Vec<i64>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<i64>().map_err(|_| {
                "Enter whole numbers of days separated by commas, e.g. 7, 1.".to_owned()
            })
        })
        .collect()
}

fn shown(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[component]
pub fn LifecyclePolicy() -> impl IntoView {
    let loaded = LocalResource::new(api_admin::lifecycle_policy);
    view! {
        <section class="card form policy" aria-labelledby="policy-title">
            <h2 id="policy-title">"Token lifecycle"</h2>
            {move || match loaded.get() {
                None => view! { <Spinner label="Loading the lifecycle policy"/> }.into_any(),
                Some(Err(e)) => view! { <div class="notice error" role="alert">"The lifecycle policy could not be loaded: " {e.message}</div> }.into_any(),
                Some(Ok((id, value))) => view! { <PolicyForm object_id=id value=value/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PolicyForm(object_id: String, value: LifecyclePolicyValue) -> impl IntoView {
    let session = use_session();
    let max = RwSignal::new(shown(value.max_lifetime_days));
    let warnings = RwSignal::new(
        value
            .expiry_warning_days
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    let unused = RwSignal::new(shown(value.disable_unused_after_days));
    let url = RwSignal::new(value.webhook_url.clone().unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let secret_set = RwSignal::new(value.webhook_secret_set);
    let remove_secret = RwSignal::new(false);
    let local = RwSignal::new(Vec::<(&'static str, String)>::new());
    let server = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let id = StoredValue::new(object_id);
    let error_of = move |field: &'static str| {
        move || {
            local
                .with(|l| l.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
                .or_else(|| server.with(|e| e.as_ref().and_then(|e| e.for_field(field))))
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        server.set(None);
        let mut problems = Vec::new();
        let mut take = |field, r: Result<Option<i64>, String>| {
            r.map_err(|e| problems.push((field, e))).ok().flatten()
        };
        let max_days = take("maxLifetimeDays", days(&max.get_untracked()));
        let unused_days = take("disableUnusedAfterDays", days(&unused.get_untracked()));
        let warning_days = day_list(&warnings.get_untracked())
            .map_err(|e| problems.push(("expiryWarningDays", e)))
            .unwrap_or_default();
        local.set(problems);
        if !local.with_untracked(Vec::is_empty) || busy.get_untracked() {
            return;
        }
        let typed = secret.get_untracked();
        let value = LifecyclePolicyValue {
            max_lifetime_days: max_days,
            expiry_warning_days: warning_days,
            webhook_url: Some(url.get_untracked()).filter(|u| !u.trim().is_empty()),
            // Empty keeps the stored secret; "" sent on purpose removes it.
            webhook_secret: if remove_secret.get_untracked() {
                Some(String::new())
            } else {
                Some(typed).filter(|s| !s.is_empty())
            },
            webhook_secret_set: false,
            disable_unused_after_days: unused_days,
        };
        let csrf = session.csrf();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api_admin::set_lifecycle_policy(&csrf, &id.get_value(), value.clone()).await {
                Ok(()) => {
                    saved.set(true);
                    secret.set(String::new());
                    secret_set.set(
                        !remove_secret.get_untracked()
                            && (secret_set.get_untracked() || value.webhook_secret.is_some()),
                    );
                    remove_secret.set(false);
                    session.refresh();
                }
                Err(e) => server.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let field = |id: &'static str,
                 label: &'static str,
                 hint: &'static str,
                 value: RwSignal<String>,
                 error: &'static str,
                 kind: &'static str| {
        let error_text = error_of(error);
        view! {
            <div class="field">
                <label class="label" for=id>{label}</label>
                <input id=id type=kind autocomplete=if kind == "password" { "new-password" } else { "off" } aria-describedby=format!("{id}-hint {id}-error")
                    aria-invalid=move || error_text().is_some().to_string()
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                <p class="hint" id=format!("{id}-hint")>{hint}</p>
                <p class="field-error" role="alert" id=format!("{id}-error")>{error_of(error)}</p>
            </div>
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            {field("policy-max", "Maximum lifetime (days)", "New tokens must expire within this many days; longer-lived tokens are shortened to it when you save. Empty: no limit.", max, "maxLifetimeDays", "text")}
            {field("policy-warnings", "Expiry warnings (days before)", "Owners are warned this many days before a token expires, e.g. 7, 1.", warnings, "expiryWarningDays", "text")}
            {field("policy-unused", "Disable tokens unused for (days)", "Tokens not used for this long are disabled. Empty: never.", unused, "disableUnusedAfterDays", "text")}
            {field("policy-webhook-url", "Webhook URL", "Lifecycle events are sent here as signed JSON. Empty: no webhook.", url, "webhookUrl", "url")}
            {field("policy-webhook-secret", "Webhook secret", "Signs each event (Standard Webhooks). It is never shown again; leave empty to keep the one set.", secret, "webhookSecret", "password")}
            <Show when=move || secret_set.get()>
                <label class="check">
                    <input type="checkbox" prop:checked=move || remove_secret.get()
                        on:change=move |ev| remove_secret.set(event_target_checked(&ev))/>
                    "A secret is set. Remove it"
                </label>
            </Show>
            <p class="field-error form-error" role="alert">{move || server.with(|e| e.as_ref().filter(|e| e.violations.is_empty()).map(|e| e.message.clone()))}</p>
            <div class="form-actions">
                <span class="success" role="status">{move || saved.get().then_some("Saved.")}</span>
                <button type="submit" class="button primary" disabled=move || busy.get()>
                    <Show when=move || busy.get()><Spinner label="Saving"/></Show>
                    "Save lifecycle policy"
                </button>
            </div>
        </form>
    }
}
