use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::format::initials;
use crate::state::{use_session, SessionState};

/// The user menu in the upper-right corner: the user's initials and name, with
/// "Personal access tokens" and "Sign out". Escape closes it; arrow keys move between items.
#[component]
pub fn UserMenu() -> impl IntoView {
    let session = use_session();
    let open = RwSignal::new(false);
    let navigate = use_navigate();
    let name = move || {
        session
            .info()
            .map(|i| i.user.display_name)
            .unwrap_or_default()
    };
    let username = move || session.info().map(|i| i.user.username).unwrap_or_default();
    let menu: NodeRef<leptos::html::Div> = NodeRef::new();
    let button: NodeRef<leptos::html::Button> = NodeRef::new();

    let focus_item = move |delta: i32| {
        let Some(menu) = menu.try_get_untracked().flatten() else {
            return;
        };
        let Ok(items) = menu.query_selector_all("[role=menuitem]") else {
            return;
        };
        let count = items.length() as i32;
        if count == 0 {
            return;
        }
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let current = (0..count).find(|i| {
            items
                .item(*i as u32)
                .map(|n| Some(n) == active.clone().map(Into::into))
                .unwrap_or(false)
        });
        let next = match current {
            Some(i) => (i + delta).rem_euclid(count),
            None if delta < 0 => count - 1,
            None => 0,
        };
        if let Some(el) = items
            .item(next as u32)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(n).ok())
        {
            let _ = el.focus();
        }
    };
    let close = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(b) = button.try_get_untracked().flatten() {
                let _ = b.focus();
            }
        }
    };
    Effect::new(move |_| {
        if open.get() {
            focus_item(0);
        }
    });

    let sign_out = move |_| {
        let csrf = session.csrf();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let provider_end = api::sign_out(&csrf).await.ok().flatten();
            // The identity provider's session ends too; it sends the browser back to the
            // sign-in page.
            if let Some(url) = provider_end {
                if web_sys::window()
                    .and_then(|w| w.location().set_href(&url).ok())
                    .is_some()
                {
                    return;
                }
            }
            // Navigate first: the shell sends signed-out visitors elsewhere only from
            // signed-in pages.
            navigate("/login", Default::default());
            session.state.set(SessionState::SignedOut);
        });
    };

    view! {
        <div class="user-menu" on:focusout=move |ev: web_sys::FocusEvent| {
            let inside = ev.related_target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok())
                .zip(menu.try_get_untracked().flatten().and_then(|m| m.parent_element()))
                .is_some_and(|(t, root)| root.contains(Some(&t)));
            // The menu may already be gone (signed out): never touch disposed state.
            if !inside { open.try_set(false); }
        }>
            <button
                type="button"
                node_ref=button
                class="user-menu-button"
                aria-haspopup="menu"
                aria-controls="user-menu-items"
                aria-expanded=move || open.get().to_string()
                aria-label=move || format!("User menu for {}", name())
                on:click=move |_| open.update(|o| *o = !*o)
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "ArrowDown" { ev.prevent_default(); open.set(true); }
                }
            >
                <span class="avatar" aria-hidden="true">{move || initials(&name())}</span>
                <span class="user-name">{name}</span>
                <span class="chevron" aria-hidden="true"></span>
            </button>
            <div
                node_ref=menu
                id="user-menu-items"
                class="menu"
                role="menu"
                aria-label="User menu"
                hidden=move || !open.get()
                on:keydown=move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
                    "Escape" => { ev.prevent_default(); close(true); }
                    "ArrowDown" => { ev.prevent_default(); focus_item(1); }
                    "ArrowUp" => { ev.prevent_default(); focus_item(-1); }
                    "Tab" => close(false),
                    _ => {}
                }
            >
                <div class="menu-header" role="presentation">
                    <strong>{name}</strong>
                    <span class="muted">{username}</span>
                </div>
                <a role="menuitem" href="/personal-access-tokens" class="menu-item" on:click=move |_| open.set(false)>
                    "Personal access tokens"
                    <Show when=move || !session.pat_enabled()>
                        <span class="badge neutral">"Off"</span>
                    </Show>
                </a>
                <button role="menuitem" type="button" class="menu-item" on:click=sign_out>
                    "Sign out"
                </button>
            </div>
        </div>
    }
}
