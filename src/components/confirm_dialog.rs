use leptos::html::Dialog;
use leptos::prelude::*;

use super::Spinner;

/// A modal confirmation on the native `<dialog>`: it traps focus, closes on Escape and
/// returns focus to where it was.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: Signal<String>,
    #[prop(into, default = Signal::from(false))] busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
    /// Prefix of the dialog's element ids, when a page has more than one dialog.
    #[prop(default = "confirm")]
    id: &'static str,
) -> impl IntoView {
    let dialog: NodeRef<Dialog> = NodeRef::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() && !el.open() {
            let _ = el.show_modal();
        } else if !open.get() && el.open() {
            el.close();
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class="dialog"
            aria-labelledby=format!("{id}-title")
            aria-describedby=format!("{id}-message")
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                on_cancel.run(());
            }
        >
            <h2 id=format!("{id}-title")>{move || title.get()}</h2>
            <p id=format!("{id}-message")>{move || message.get()}</p>
            <div class="dialog-actions">
                <button type="button" class="button" autofocus on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="button danger"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    <Show when=move || busy.get()>
                        <Spinner label="Working"/>
                    </Show>
                    {move || confirm_label.get()}
                </button>
            </div>
        </dialog>
    }
}
