//! Asks before leaving while a page holds something that would be lost (the show-once
//! token): for links inside the console, the browser's Back and Forward, and reloading or
//! closing the tab.
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

    // Back/Forward: the address has already changed when `popstate` arrives, so the router
    // must not see it until the user agrees; if they don't, the guarded page's address is
    // put back. A capture listener on the window runs before the router's own.
    let guarded_url = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let here = guard
            .get()
            .and_then(|_| web_sys::window()?.location().href().ok());
        guarded_url.set_value(here);
    });
    let on_pop = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(message) = guard.get_untracked() else {
            return;
        };
        ev.stop_immediate_propagation();
        let Some(window) = web_sys::window() else {
            return;
        };
        if confirm(message) {
            guard.set(None);
            if let Ok(again) = web_sys::Event::new("popstate") {
                let _ = window.dispatch_event(&again);
            }
        } else if let (Some(url), Ok(history)) = (guarded_url.get_value(), window.history()) {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    });
    let _ = window.add_event_listener_with_callback_and_bool(
        "popstate",
        on_pop.as_ref().unchecked_ref(),
        true,
    );
    on_pop.forget();

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
