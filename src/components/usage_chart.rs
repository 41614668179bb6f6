//! A token's requests per hour over 30 days, drawn as one SVG column per hour (allowed
//! below, refused and rate-limited stacked above), with the totals in words. Loaded the
//! first time its row's "Usage" is opened; no chart library (a few hundred bytes of SVG).
use leptos::prelude::*;
use tessera_api::TokenUsage;

use crate::api;
use crate::format;

const HOURS: usize = 30 * 24;
/// In viewBox units; whole numbers only, so no float formatting code is linked in.
const HEIGHT: u64 = 480;

/// The path of columns for `values` (one per hour) scaled to `max`, each standing on
/// `base` (the heights below it).
fn columns(values: &[u64], base: &[u64], max: u64) -> String {
    let scale = |n: u64| n * HEIGHT / max.max(1);
    values
        .iter()
        .zip(base)
        .enumerate()
        .filter(|(_, (v, _))| **v > 0)
        .map(|(x, (v, b))| {
            let bottom = HEIGHT - scale(*b);
            let top = bottom.saturating_sub(scale(*v).max(5));
            format!("M{x}.5 {bottom}V{top}")
        })
        .collect()
}

/// Per-hour series from the API's hours with requests.
fn series(usage: &TokenUsage) -> (Vec<u64>, Vec<u64>) {
    let from = format::parse_iso(&usage.from).unwrap_or_default();
    let (mut allowed, mut refused) = (vec![0; HOURS], vec![0; HOURS]);
    for hour in &usage.hours {
        let Some(start) = format::parse_iso(&hour.start) else {
            continue;
        };
        let i = ((start - from) / 3_600_000.0).round();
        if (0.0..HOURS as f64).contains(&i) {
            allowed[i as usize] += hour.allowed;
            refused[i as usize] += hour.refused + hour.limited;
        }
    }
    (allowed, refused)
}

#[component]
fn Chart(usage: TokenUsage) -> impl IntoView {
    let (allowed, refused) = series(&usage);
    let max = allowed
        .iter()
        .zip(&refused)
        .map(|(a, r)| a + r)
        .max()
        .unwrap_or(0);
    let t = usage.total;
    let words = format!(
        "{} allowed, {} refused, {} over the rate limit in the last 30 days",
        t.allowed, t.refused, t.limited
    );
    let none = vec![0; HOURS];
    view! {
        <figure class="usage-chart">
            <svg viewBox=format!("0 0 {HOURS} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=words.clone()>
                <path class="allowed" d=columns(&allowed, &none, max)/>
                <path class="refused" d=columns(&refused, &allowed, max)/>
            </svg>
            <figcaption>
                <span class="legend allowed">{format!("{} allowed", t.allowed)}</span>
                <span class="legend refused">{format!("{} refused", t.refused + t.limited)}</span>
                {(t.limited > 0).then(|| view! { <span class="muted">{format!("({} over the rate limit)", t.limited)}</span> })}
                <span class="muted">"30 days, by hour"</span>
            </figcaption>
        </figure>
    }
}

/// "Usage", opening to the chart (and the token's rate limit, if it has one).
#[component]
pub fn UsageDetails(id: String, rate_limit: Option<u64>) -> impl IntoView {
    let opened = RwSignal::new(false);
    let usage = LocalResource::new(move || {
        let id = id.clone();
        async move {
            if opened.get() {
                Some(api::token_usage(&id).await)
            } else {
                None
            }
        }
    });
    view! {
        <details class="usage" on:toggle=move |ev| {
            if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
                opened.set(true);
            }
        }>
            <summary>"Usage"</summary>
            // Built when first opened, like the scope list: nothing in a closed row.
            <Show when=move || opened.get()>
                {rate_limit.map(|n| view! { <p class="muted">{format!("Limited to {n} requests a minute")}</p> })}
                {move || match usage.get().flatten() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                    Some(Ok(u)) if u.total.total() == 0 => view! { <p class="muted">"No requests in the last 30 days"</p> }.into_any(),
                    Some(Ok(u)) => view! { <Chart usage=u/> }.into_any(),
                }}
            </Show>
        </details>
    }
}
