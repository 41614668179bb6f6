use leptos::prelude::*;

use crate::format;

/// A time shown relative to now, with the exact local time (and an optional note such as
/// the IP address) on hover and keyboard focus.
#[component]
pub fn RelativeTime(
    /// ISO-8601 time.
    #[prop(into)]
    iso: String,
    #[prop(optional, into)] note: Option<String>,
) -> impl IntoView {
    let Some(ms) = format::parse_iso(&iso) else {
        return view! { <span>{iso}</span> }.into_any();
    };
    let exact = format::exact(ms);
    let tip = match &note {
        Some(n) => format!("{exact} · {n}"),
        None => exact.clone(),
    };
    view! {
        <span class="has-tip" tabindex="0">
            <time datetime=iso.clone()>{format::relative(format::now_ms(), ms)}</time>
            <span class="tip" role="tooltip">{tip}</span>
        </span>
    }
    .into_any()
}
