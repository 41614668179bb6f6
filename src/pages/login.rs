use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::components::Spinner;
use crate::state::{use_session, SessionState};

/// Where to go after signing in: the page the visitor was sent away from, if it is a path
/// on this site (never another origin).
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.starts_with("/login")
            // A URL parser drops tabs and newlines and reads `\` as `/`, so `/\t/x` would
            // leave the site: no whitespace, control characters or backslashes at all.
            && !n.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    })
    .unwrap_or_else(|| "/personal-access-tokens".to_owned())
}

/// The sign-in page's address that comes back to `here` (path and query) afterwards.
pub fn login_then(here: &str) -> String {
    format!(
        "/login?next={}",
        String::from(js_sys::encode_uri_component(here))
    )
}

/// Username and password; errors inline; then back to where the user was going.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let nav = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let next = move || safe_next(query.with_untracked(|q| q.get("next")));
    // Passwords, single sign-on or both: until the server says, the password form shows.
    let options = LocalResource::new(api::sign_in_options);
    let sso_name = move || options.get().and_then(|o| o.ok()).and_then(|o| o.sso);
    let passwords = move || {
        options
            .get()
            .and_then(|o| o.ok())
            .is_none_or(|o| o.password_login)
    };
    let sso_href = move || {
        format!(
            "/api/session/oidc/start?next={}",
            String::from(js_sys::encode_uri_component(&next()))
        )
    };

    // Already signed in: go on.
    Effect::new(move |_| {
        if matches!(session.state.get(), SessionState::SignedIn(_)) {
            crate::bundle::go(&nav, &next(), true);
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if username.get_untracked().trim().is_empty() || password.get_untracked().is_empty() {
            error.set(Some("Enter your username and password.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::sign_in(username.get_untracked().trim(), &password.get_untracked()).await {
                Ok(info) => session.state.set(SessionState::SignedIn(info)),
                Err(e) => {
                    password.set(String::new());
                    error.set(Some(match e.status {
                        429 => "Too many sign-in attempts. Wait a minute and try again.".to_owned(),
                        _ => e.message,
                    }));
                }
            }
            busy.set(false);
        });
    };

    view! {
        <main id="main" class="standalone">
            <div class="card login">
                <div class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Tessera"</div>
                <h1>"Sign in"</h1>
                {move || sso_name().map(|name| view! {
                    // A plain link: the sign-in leaves the console for the provider's page.
                    <a class="button primary block sso" href=sso_href() rel="external">{format!("Sign in with {name}")}</a>
                    <Show when=passwords><p class="or muted"><span>"or"</span></p></Show>
                })}
                <Show when=passwords>
                <form on:submit=submit novalidate>
                    <div class="field">
                        <label for="username" class="label">"Username"</label>
                        <input id="username" name="username" type="text" autocomplete="username" required
                            autofocus
                            aria-describedby="login-error"
                            prop:value=move || username.get()
                            on:input=move |ev| username.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="password" class="label">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required
                            aria-describedby="login-error"
                            prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev)) />
                    </div>
                    <p id="login-error" class="field-error" role="alert">{move || error.get()}</p>
                    <button type="submit" class="button primary block" disabled=move || busy.get()>
                        <Show when=move || busy.get()><Spinner label="Signing in"/></Show>
                        "Sign in"
                    </button>
                </form>
                </Show>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/settings/integration/token-settings".into())),
            "/settings/integration/token-settings"
        );
        assert_eq!(
            safe_next(Some("//evil.example".into())),
            "/personal-access-tokens"
        );
        assert_eq!(
            safe_next(Some("https://evil.example".into())),
            "/personal-access-tokens"
        );
        assert_eq!(safe_next(None), "/personal-access-tokens");
    }

    #[test]
    fn next_with_characters_a_url_parser_drops_stays_on_this_site() {
        // Browsers drop tabs and newlines when they parse a URL, and read `\` as `/`:
        // each of these would become `//evil.example`.
        for next in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\evil.example",
            "\t//evil.example",
            "/ /evil.example",
        ] {
            assert_eq!(
                safe_next(Some(next.into())),
                "/personal-access-tokens",
                "{next:?}"
            );
        }
        assert_eq!(
            safe_next(Some("/personal-access-tokens?x=a%20b".into())),
            "/personal-access-tokens?x=a%20b"
        );
    }
}
