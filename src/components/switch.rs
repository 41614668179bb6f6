use leptos::prelude::*;

/// An on/off switch (`role="switch"`), labelled for assistive technology.
#[component]
pub fn Switch(
    #[prop(into)] checked: Signal<bool>,
    #[prop(into)] label: Signal<String>,
    #[prop(into, default = Signal::from(false))] busy: Signal<bool>,
    #[prop(into, default = Signal::from(false))] disabled: Signal<bool>,
    #[prop(optional, into)] id: Option<String>,
    on_toggle: Callback<bool>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            role="switch"
            id=id
            class="switch"
            class:busy=move || busy.get()
            aria-checked=move || checked.get().to_string()
            aria-label=move || label.get()
            aria-busy=move || busy.get().to_string()
            disabled=move || disabled.get() || busy.get()
            on:click=move |_| on_toggle.run(!checked.get_untracked())
        >
            <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
        </button>
    }
}
