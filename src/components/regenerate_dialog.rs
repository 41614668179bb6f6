use leptos::html::Dialog;
use leptos::prelude::*;
use tessera_api::ApiToken;

use super::Spinner;
use crate::api;
use crate::state::use_session;

/// How long the old token keeps working, as offered.
const GRACE: [(i64, &str); 3] = [
    (0, "Stop the old token at once"),
    (3_600, "Keep the old token working for 1 hour"),
    (86_400, "Keep the old token working for 24 hours"),
];

/// "Regenerate" a token (rotation, SPEC §11): the grace period, then `on_done` with the
/// token's name and the new token, for the show-once panel.
#[component]
pub fn RegenerateDialog(
    #[prop(into)] token: Signal<Option<ApiToken>>,
    on_cancel: Callback<()>,
    on_done: Callback<(String, String)>,
) -> impl IntoView {
    let session = use_session();
    let dialog: NodeRef<Dialog> = NodeRef::new();
    let grace = RwSignal::new(0i64);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        let open = token.with(Option::is_some);
        if open && !el.open() {
            grace.set(0);
            error.set(None);
            let _ = el.show_modal();
        } else if !open && el.open() {
            el.close();
        }
    });
    let name = move || token.with(|t| t.as_ref().and_then(|t| t.name.clone()).unwrap_or_default());
    let confirm = move |_| {
        let Some(t) = token.get_untracked() else {
            return;
        };
        let csrf = session.csrf();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::rotate_token(&csrf, &t.id, grace.get_untracked()).await {
                Ok(created) => on_done.run((t.name.unwrap_or_default(), created.token)),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <dialog node_ref=dialog class="dialog" aria-labelledby="regenerate-title"
            on:cancel=move |ev: web_sys::Event| { ev.prevent_default(); on_cancel.run(()); }>
            <h2 id="regenerate-title">{move || format!("Regenerate “{}”?", name())}</h2>
            <p>"A new token with the same name, scopes and lifetime replaces this one. Programs that use it need the new token."</p>
            <fieldset>
                <legend>"The old token"</legend>
                {GRACE.into_iter().map(|(seconds, label)| view! {
                    <label class="check">
                        <input type="radio" name="grace" prop:checked=move || grace.get() == seconds
                            on:change=move |_| grace.set(seconds)/>
                        {label}
                    </label>
                }).collect_view()}
            </fieldset>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="button" class="button primary" disabled=move || busy.get() on:click=confirm>
                    <Show when=move || busy.get()><Spinner label="Regenerating"/></Show>
                    "Regenerate"
                </button>
            </div>
        </dialog>
    }
}
