use leptos::html::Dialog;
use leptos::prelude::*;
use tessera_api::ApiToken;

use super::{ShowOnce, Spinner};
use crate::api;
use crate::state::use_session;

/// How long the old token keeps working, as offered.
const GRACE: [(i64, &str); 3] = [
    (0, "Stop the old token at once"),
    (3_600, "Keep the old token working for 1 hour"),
    (86_400, "Keep the old token working for 24 hours"),
];

/// "Regenerate" on a page of tokens: the token asked about (the dialog is open), then its
/// name and the new token while that is shown once in place of the page's list.
#[derive(Clone, Copy)]
pub struct Regeneration {
    asked: RwSignal<Option<ApiToken>>,
    made: RwSignal<Option<(String, String)>>,
}

impl Default for Regeneration {
    fn default() -> Self {
        Self::new()
    }
}

impl Regeneration {
    pub fn new() -> Self {
        Self {
            asked: RwSignal::new(None),
            made: RwSignal::new(None),
        }
    }

    /// For "Regenerate" on each row of the table.
    pub fn ask(self) -> Callback<ApiToken> {
        Callback::new(move |t| self.asked.set(Some(t)))
    }

    /// Whether the new token is on screen (the page hides its list meanwhile, keeping it).
    pub fn showing(self) -> bool {
        self.made.with(Option::is_some)
    }
}

/// The dialog of `state` and, once a token is regenerated, the new one shown once;
/// `on_taken` when the person has taken it (the page reloads its list).
#[component]
pub fn Regenerate(state: Regeneration, on_taken: Callback<()>) -> impl IntoView {
    let shown_once = move || {
        state.made.get().map(|(name, token)| {
            let done = Callback::new(move |()| {
                state.made.set(None);
                on_taken.run(());
            });
            view! { <ShowOnce token=token name=name on_done=done/> }
        })
    };
    let on_done = Callback::new(move |made| {
        state.asked.set(None);
        state.made.set(Some(made));
    });
    view! {
        {shown_once}
        <RegenerateDialog token=state.asked on_cancel=Callback::new(move |()| state.asked.set(None)) on_done=on_done/>
    }
}

/// "Regenerate" a token (rotation, SPEC §11): the grace period, then `on_done` with the
/// token's name and the new token, for the show-once panel.
#[component]
fn RegenerateDialog(
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
