use leptos::html::Input;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::leave_guard::confirm;
use crate::state::use_leave_guard;

/// What is shown once: a new token, or a password an administrator generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Secret {
    #[default]
    Token,
    Password,
}

impl Secret {
    fn leave_message(self) -> &'static str {
        match self {
            Secret::Token => {
                "You have not copied the token. It will not be shown again. Leave anyway?"
            }
            Secret::Password => {
                "You have not copied the password. It will not be shown again. Leave anyway?"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    NotYet,
    Copied,
    Failed,
}

/// The new token, shown once: read-only field, Copy (Clipboard API, else `execCommand`),
/// an announced "Copied", the warning, and Done. The token lives only in this component's
/// memory; leaving before copying asks first.
#[component]
pub fn ShowOnce(
    token: String,
    name: String,
    on_done: Callback<()>,
    #[prop(optional)] secret: Secret,
) -> impl IntoView {
    let guard = use_leave_guard().0;
    let leave_message = secret.leave_message();
    // Whole sentences: `str::to_lowercase` would pull Unicode's case tables into the wasm
    // (16 KB, measured).
    let (title, label, copy_now, why) = match secret {
        Secret::Token => (
            format!("Your new token “{name}”"),
            "Token",
            "Copy this token now.",
            " It will not be shown again: Tessera stores only a fingerprint of it.",
        ),
        Secret::Password => (
            format!("New password for “{name}”"),
            "Password",
            "Copy this password now.",
            " It will not be shown again: Tessera stores only a hash of it. Give it to the user over a safe channel.",
        ),
    };
    let copy_state = RwSignal::new(CopyState::NotYet);
    let field: NodeRef<Input> = NodeRef::new();
    guard.set(Some(leave_message));
    on_cleanup(move || guard.set(None));

    let token_for_copy = token.clone();
    let copy = move |_| {
        let token = token_for_copy.clone();
        leptos::task::spawn_local(async move {
            let ok = match clipboard_write(&token).await {
                true => true,
                false => exec_command_copy(field.get_untracked()),
            };
            copy_state.set(if ok {
                CopyState::Copied
            } else {
                CopyState::Failed
            });
            if ok {
                guard.set(None);
            }
        });
    };
    let done = move |_| {
        if copy_state.get_untracked() == CopyState::Copied || confirm(leave_message) {
            guard.set(None);
            on_done.run(());
        }
    };
    let select_all = move |_| {
        if let Some(input) = field.get_untracked() {
            input.select();
        }
    };

    view! {
        <section class="card show-once" aria-labelledby="show-once-title">
            <h2 id="show-once-title">{title}</h2>
            <div class="notice warning">
                <strong>{copy_now}</strong>
                {why}
            </div>
            <label for="new-token" class="label">{label}</label>
            <div class="copy-row">
                <input
                    id="new-token"
                    node_ref=field
                    class="token-field mono"
                    type="text"
                    readonly
                    spellcheck="false"
                    autocomplete="off"
                    value=token
                    on:focus=select_all
                />
                <button type="button" class="button primary" on:click=copy>
                    {move || if copy_state.get() == CopyState::Copied { "Copied" } else { "Copy" }}
                </button>
            </div>
            <p class="copy-status" role="status" aria-live="polite">
                {move || match copy_state.get() {
                    CopyState::NotYet => String::new(),
                    CopyState::Copied => "Copied to the clipboard.".to_owned(),
                    CopyState::Failed => "Copying failed. Select it and copy it with your keyboard (Ctrl+C or ⌘C).".to_owned(),
                }}
            </p>
            <div class="form-actions">
                <button type="button" class="button" on:click=done>"Done"</button>
            </div>
        </section>
    }
}

/// `navigator.clipboard.writeText`, where the browser offers it (secure contexts only).
async fn clipboard_write(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .unwrap_or(JsValue::UNDEFINED);
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Ok(write) = write.dyn_into::<js_sys::Function>() else {
        return false;
    };
    let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(text)) else {
        return false;
    };
    match promise.dyn_into::<js_sys::Promise>() {
        Ok(p) => JsFuture::from(p).await.is_ok(),
        Err(_) => false,
    }
}

/// The fallback for plain HTTP: select the field's text and `document.execCommand("copy")`.
fn exec_command_copy(input: Option<web_sys::HtmlInputElement>) -> bool {
    let Some(input) = input else { return false };
    input.select();
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false)
}
