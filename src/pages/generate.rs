use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use tessera_api::CreateTokenRequest;

use crate::api;
use crate::components::{Crumb, ScopePicker, Shell, ShowOnce, Spinner};
use crate::forms::{date_within, validate_name, Expiration, ScopeSelection};
use crate::state::use_session;

/// A generated token, held in memory only while the show-once panel is open.
#[derive(Clone)]
struct Generated {
    name: String,
    token: String,
}

/// Generate a token: name, scopes, expiration; then the show-once panel.
#[component]
pub fn GeneratePage() -> impl IntoView {
    let crumbs = vec![
        Crumb::link("Personal access tokens", "/personal-access-tokens"),
        Crumb::here("Generate new token"),
    ];
    view! { <Shell crumbs=crumbs><Generate personal=true back="/personal-access-tokens"/></Shell> }
}

fn today() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date()
    )
}

/// The last whole day (UTC) a token made now may expire at under a `max_days` policy.
fn latest_date(max_days: i64) -> String {
    let ms = js_sys::Date::now() + (max_days - 1) as f64 * 86_400_000.0;
    let iso = String::from(js_sys::Date::new(&ms.into()).to_iso_string());
    iso.get(..10).unwrap_or_default().to_owned()
}

/// The generate form, then the show-once panel; `back` is where Cancel and Done go. A
/// personal token needs PATs on; an environment token (admins) does not.
#[component]
pub fn Generate(personal: bool, back: &'static str) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let generated = RwSignal::new(None::<Generated>);
    let done = Callback::new(move |()| {
        generated.set(None);
        navigate(back, Default::default());
    });
    view! {
        {move || match (generated.get(), !personal || session.pat_enabled()) {
            (Some(g), _) => view! { <ShowOnce token=g.token name=g.name on_done=done/> }.into_any(),
            (None, false) => view! {
                <h1>"Generate new token"</h1>
                <div class="notice warning" role="status">
                    <strong>"Personal access tokens are turned off by an administrator."</strong>
                    " New tokens can't be generated until they are turned back on."
                </div>
                <a class="button" href="/personal-access-tokens">"Back to personal access tokens"</a>
            }.into_any(),
            (None, true) => view! { <GenerateForm generated=generated personal=personal back=back/> }.into_any(),
        }}
    }
}

#[component]
fn GenerateForm(
    generated: RwSignal<Option<Generated>>,
    personal: bool,
    back: &'static str,
) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let name_touched = RwSignal::new(false);
    let selection = RwSignal::new(ScopeSelection::default());
    let max_days = session.info().and_then(|i| i.max_lifetime_days);
    let latest = max_days.map(latest_date);
    let first_allowed = Expiration::ALL.into_iter().find(|e| e.allowed(max_days));
    let expiration = RwSignal::new(first_allowed.unwrap_or(Expiration::Custom));
    let custom_date = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<api::ApiError>);
    let submitted = RwSignal::new(false);
    let held = Signal::derive(move || session.held_scopes());

    let name_error = move || {
        let local = (name_touched.get() || submitted.get())
            .then(|| validate_name(&name.get()).err())
            .flatten();
        local
            .map(str::to_owned)
            .or_else(|| server_error.with(|e| e.as_ref().and_then(|e| e.for_field("name"))))
    };
    let scopes_error = move || {
        let local = (submitted.get() && selection.with(ScopeSelection::is_empty))
            .then(|| "Select at least one scope.".to_owned());
        local.or_else(|| server_error.with(|e| e.as_ref().and_then(|e| e.for_field("scopes"))))
    };
    let latest_for_check = StoredValue::new(latest.clone());
    let expiration_value = move || -> Result<Option<String>, String> {
        let choice = expiration.get();
        let value = choice
            .to_request(&custom_date.get(), &today())
            .map_err(str::to_owned)?;
        if choice == Expiration::Custom {
            latest_for_check.with_value(|latest| {
                date_within(&custom_date.get(), latest.as_deref(), max_days)
            })?;
        }
        Ok(value)
    };
    let expiration_error = move || {
        let local = submitted.get().then(|| expiration_value().err()).flatten();
        local.or_else(|| {
            server_error.with(|e| e.as_ref().and_then(|e| e.for_field("expirationDate")))
        })
    };
    let form_error = move || {
        server_error.with(|e| {
            e.as_ref()
                .filter(|e| {
                    ["name", "scopes", "expirationDate"]
                        .iter()
                        .all(|f| e.for_field(f).is_none())
                })
                .map(|e| e.message.clone())
        })
    };
    let valid = move || {
        validate_name(&name.get()).is_ok()
            && !selection.with(ScopeSelection::is_empty)
            && expiration_value().is_ok()
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server_error.set(None);
        if !valid() || busy.get_untracked() {
            return;
        }
        let request = CreateTokenRequest {
            name: name.get_untracked().trim().to_owned(),
            scopes: selection.with_untracked(ScopeSelection::values),
            personal_access_token: Some(personal),
            expiration_date: expiration_value().ok().flatten(),
            rate_limit_per_minute: None,
        };
        let csrf = session.csrf();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::create_token(&csrf, &request).await {
                Ok(created) => generated.set(Some(Generated {
                    name: request.name,
                    token: created.token,
                })),
                Err(e) => server_error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <h1>{if personal { "Generate new token" } else { "Generate environment token" }}</h1>
        <p class="lead">{if personal {
            "The token acts on your behalf with the scopes you choose here."
        } else {
            "An environment token acts for the whole environment, not for a person, and keeps working while personal access tokens are turned off."
        }}</p>
        <form class="card form" on:submit=submit novalidate>
            <div class="field">
                <label for="token-name" class="label">"Token name"</label>
                <input id="token-name" type="text" maxlength="200" autocomplete="off" required
                    aria-describedby="token-name-hint token-name-error"
                    aria-invalid=move || name_error().is_some().to_string()
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    on:blur=move |_| name_touched.set(true) />
                <p id="token-name-hint" class="hint">
                    "Say what the token is for, e.g. “CI deploy to production”. Names don't have to be unique."
                </p>
                <p id="token-name-error" class="field-error" role="alert">{name_error}</p>
            </div>

            <ScopePicker selection=selection held=held error=Signal::derive(scopes_error)/>

            <fieldset class="field expiration" aria-describedby="expiration-error">
                <legend>"Expiration"</legend>
                {max_days.map(|days| view! {
                    <p class="hint">{format!("Your administrator allows tokens to live at most {days} days, so longer choices are not offered.")}</p>
                })}
                <div class="radio-row">
                    {Expiration::ALL.into_iter().filter(|o| o.allowed(max_days)).map(|option| {
                        let id = format!("expires-{}", option.key());
                        let label_for = id.clone();
                        view! {
                            <label class="radio" for=label_for>
                                <input type="radio" name="expiration" id=id value=option.key()
                                    prop:checked=move || expiration.get() == option
                                    on:change=move |_| expiration.set(option) />
                                {option.label()}
                            </label>
                        }
                    }).collect_view()}
                </div>
                <Show when=move || expiration.get() == Expiration::Custom>
                    <label for="expires-on" class="label">"Expires on"</label>
                    <input id="expires-on" type="date" min=today() max=latest.clone()
                        prop:value=move || custom_date.get()
                        on:input=move |ev| custom_date.set(event_target_value(&ev)) />
                </Show>
                <Show when=move || expiration.get() == Expiration::Never>
                    <p class="hint">"A token that never expires keeps working until you disable or delete it."</p>
                </Show>
                <p id="expiration-error" class="field-error" role="alert">{expiration_error}</p>
            </fieldset>

            <p class="field-error form-error" role="alert">{form_error}</p>
            <div class="form-actions">
                <a class="button" href=back>"Cancel"</a>
                <button type="submit" class="button primary" disabled=move || busy.get() || (submitted.get() && !valid())>
                    <Show when=move || busy.get()><Spinner label="Generating"/></Show>
                    {move || if busy.get() { "Generating…" } else { "Generate token" }}
                </button>
            </div>
        </form>
    }
}
