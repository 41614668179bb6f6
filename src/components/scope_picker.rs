use leptos::prelude::*;
use tessera_api::{Scope, ScopeGroup};

use crate::forms::ScopeSelection;

/// Scopes as checkboxes grouped as in the catalog, each with its display name, API value
/// and description. Scopes the user does not hold are disabled with the reason.
#[component]
pub fn ScopePicker(
    selection: RwSignal<ScopeSelection>,
    #[prop(into)] held: Signal<Vec<Scope>>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "Scopes")] legend: &'static str,
    #[prop(
        default = "Choose what the token may do. Available scopes are bound to your permissions."
    )]
    hint: &'static str,
    /// Said of a scope that cannot be ticked.
    #[prop(default = " — you don't have this permission, so a token can't have it.")]
    reason: &'static str,
) -> impl IntoView {
    view! {
        <fieldset class="scopes" aria-describedby="scopes-hint scopes-error" aria-invalid=move || error.get().is_some().to_string()>
            <legend>{legend}</legend>
            <p id="scopes-hint" class="hint">{hint}</p>
            <p id="scopes-error" class="field-error" role="alert">{move || error.get()}</p>
            <div class="scope-groups">
                {ScopeGroup::ALL.into_iter().map(|group| {
                    let any_held = move || group.scopes().any(|s| held.get().contains(&s));
                    view! {
                        <section class="scope-group" aria-labelledby=format!("group-{group:?}")>
                            <header>
                                <h2 class="group-title" id=format!("group-{group:?}")>{group.display_name()}</h2>
                                <button
                                    type="button"
                                    class="link-button"
                                    disabled=move || !any_held()
                                    aria-label=move || format!(
                                        "{} all available scopes in {}",
                                        if selection.with(|s| s.group_fully_selected(group, &held.get())) { "Clear" } else { "Select" },
                                        group.display_name()
                                    )
                                    on:click=move |_| selection.update(|s| s.toggle_group(group, &held.get_untracked()))
                                >
                                    {move || if selection.with(|s| s.group_fully_selected(group, &held.get())) {
                                        "Clear all"
                                    } else {
                                        "Select all available"
                                    }}
                                </button>
                            </header>
                            <ul>
                                {group.scopes().map(|scope| {
                                    let id = format!("scope-{}", scope.as_str().replace('.', "-"));
                                    let lacks = move || !held.get().contains(&scope);
                                    view! {
                                        <li class="scope" class:unavailable=lacks>
                                            <input
                                                type="checkbox"
                                                id=id.clone()
                                                value=scope.as_str()
                                                disabled=lacks
                                                prop:checked=move || selection.with(|s| s.is_selected(scope))
                                                aria-describedby=format!("{id}-desc")
                                                on:change=move |_| selection.update(|s| s.toggle(scope, &held.get_untracked()))
                                            />
                                            <label for=id.clone()>
                                                <span class="scope-name">{scope.display_name()}</span>
                                                <code>{scope.as_str()}</code>
                                            </label>
                                            <p class="scope-desc" id=format!("{id}-desc")>
                                                {scope.description()}
                                                <Show when=lacks>
                                                    <span class="reason">{reason}</span>
                                                </Show>
                                            </p>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}
