use leptos::prelude::*;

/// Any path the console does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <main id="main" class="standalone">
            <div class="card centered">
                <p class="eyebrow">"404"</p>
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
                <a class="button primary" href="/personal-access-tokens">"Go to personal access tokens"</a>
            </div>
        </main>
    }
}

/// Shown in place of a page the signed-in user may not see; `what` completes "Only
/// administrators can …".
#[component]
pub fn NoAccess(what: &'static str) -> impl IntoView {
    view! {
        <div class="card centered">
            <p class="eyebrow">"No access"</p>
            <h1>"You don't have access to this page"</h1>
            <p>"Only administrators can " {what} ". Ask an administrator if you need a change."</p>
            <a class="button" href="/personal-access-tokens">"Back to personal access tokens"</a>
        </div>
    }
}
