//! Asks before leaving while a page holds something that would be lost (the show-once
//! token): for links inside the console and for reloading or closing the tab.
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::use_leave_guard;

/// Installs the window listeners once, for the lifetime of the app.
pub fn install() {
    let guard = use_leave_guard().0;
    let Some(window) = web_sys::window() else {
        return;
    };

    // Capture phase: runs before the router's own click handling of links.
    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        let Some(message) = guard.get_untracked() else {
            return;
        };
        let on_link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .is_some();
        if on_link && !confirm(message) {
            ev.prevent_default();
            ev.stop_immediate_propagation();
        } else if on_link {
            guard.set(None);
        }
    });
    let _ = window.add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    on_click.forget();

    let on_unload = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        move |ev: web_sys::BeforeUnloadEvent| {
            if guard.get_untracked().is_some() {
                ev.prevent_default();
                ev.set_return_value("unsaved");
            }
        },
    );
    let _ =
        window.add_event_listener_with_callback("beforeunload", on_unload.as_ref().unchecked_ref());
    on_unload.forget();
}

/// The browser's confirmation prompt; `true` when there is no window to ask in.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .map(|w| w.confirm_with_message(message).unwrap_or(false))
        .unwrap_or(true)
}
