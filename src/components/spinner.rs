use leptos::prelude::*;

/// A small busy indicator; the label is for screen readers.
#[component]
pub fn Spinner(#[prop(into, default = "Loading".into())] label: String) -> impl IntoView {
    view! { <span class="spinner" role="status"><span class="sr-only">{label}</span></span> }
}
