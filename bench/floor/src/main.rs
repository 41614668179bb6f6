//! Hello world with what every Tessera page has underneath: Leptos CSR, the router and
//! one gloo-net request. Its size is the floor the console is measured against.
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[component]
fn Hello() -> impl IntoView {
    let status = LocalResource::new(|| async {
        match gloo_net::http::Request::get("/api/session").send().await {
            Ok(response) => response.status().to_string(),
            Err(e) => e.to_string(),
        }
    });
    view! {
        <h1>"Hello, world"</h1>
        <p>"Session: " {move || status.get().unwrap_or_default()}</p>
    }
}

fn main() {
    mount_to_body(|| {
        view! {
            <Router>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Hello />
                </Routes>
            </Router>
        }
    });
}
