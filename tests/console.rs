//! Component-level tests of the console in headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use tessera_api::Scope;
use tessera_console::components::ScopePicker;
use tessera_console::format;
use tessera_console::forms::{validate_name, Expiration, ScopeSelection};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn tick() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[wasm_bindgen_test]
fn name_validation_matches_the_server() {
    assert!(validate_name("ci").is_ok());
    assert!(validate_name(" \t ").is_err());
    assert!(validate_name(&"é".repeat(100)).is_ok());
    assert!(validate_name(&"é".repeat(101)).is_err());
}

#[wasm_bindgen_test]
fn expiration_presets_and_custom_dates() {
    assert_eq!(
        Expiration::Year1.to_request("", "2026-11-28"),
        Ok(Some("now+1y".into()))
    );
    assert!(Expiration::Custom
        .to_request("2026-11-27", "2026-11-28")
        .is_err());
}

#[wasm_bindgen_test]
fn times_parse_and_read_relative_in_the_browser() {
    let ms = format::parse_iso("2026-11-28T09:15:00.000Z").unwrap();
    assert_eq!(ms, 1_795_857_300_000.0);
    assert!(format::parse_iso("not a date").is_none());
    assert_eq!(format::relative(ms + 3.0 * 3_600_000.0, ms), "3 hours ago");
    assert!(!format::exact(ms).is_empty());
}

#[wasm_bindgen_test]
async fn scope_picker_disables_scopes_the_user_lacks_and_selects_all_available() {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let selection = RwSignal::new(ScopeSelection::default());
    let held = vec![Scope::MetricsRead, Scope::SloRead, Scope::SloWrite];
    let handle = leptos::mount::mount_to(root.clone().unchecked_into(), move || {
        view! { <ScopePicker selection=selection held=held.clone() error=Signal::derive(|| None::<String>)/> }
    });
    tick().await;
    let boxes = root.query_selector_all("input[type=checkbox]").unwrap();
    assert_eq!(boxes.length(), 18);
    let disabled = root
        .query_selector_all("input[type=checkbox]:disabled")
        .unwrap();
    assert_eq!(disabled.length(), 15);
    let slo_all: web_sys::HtmlElement = root
        .query_selector("[aria-label='Select all available scopes in SLO']")
        .unwrap()
        .unwrap()
        .unchecked_into();
    slo_all.click();
    tick().await;
    assert_eq!(
        selection.get_untracked().values(),
        vec!["slo.read", "slo.write"]
    );
    let read: web_sys::HtmlInputElement = root
        .query_selector("#scope-slo-read")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(read.checked());
    let write_metrics: web_sys::HtmlInputElement = root
        .query_selector("#scope-metrics-write")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(write_metrics.disabled());
    write_metrics.click();
    tick().await;
    assert!(!selection.get_untracked().is_selected(Scope::MetricsWrite));
    drop(handle);
}

/// The cached formatter prints exactly what `Date.toLocaleString` would.
#[wasm_bindgen_test]
fn exact_times_match_to_locale_string() {
    for ms in [0.0, 1_800_000_000_000.0, 1_764_300_000_123.0] {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
        let expected =
            String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED));
        assert_eq!(format::exact(ms), expected);
    }
}
