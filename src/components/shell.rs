use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use super::{Spinner, UserMenu};
use crate::pages::login_then;
use crate::state::{use_session, SessionStatus};

/// One step of the breadcrumb trail; the last has no link.
#[derive(Debug, Clone)]
pub struct Crumb {
    pub label: &'static str,
    pub href: Option<&'static str>,
}

impl Crumb {
    pub const fn link(label: &'static str, href: &'static str) -> Crumb {
        Crumb {
            label,
            href: Some(href),
        }
    }
    pub const fn here(label: &'static str) -> Crumb {
        Crumb { label, href: None }
    }
}

/// The signed-in frame: top bar with the user menu, left navigation, breadcrumbs. Signed-out
/// visitors are sent to `/login` and come back here afterwards.
#[component]
pub fn Shell(crumbs: Vec<Crumb>, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.status() == SessionStatus::SignedOut {
            let path = location.pathname.get_untracked();
            // Signing out navigates to /login itself; this effect may still run once after
            // that (effects run later than the navigation), and must not add `?next=/login`.
            if path.starts_with("/login") {
                return;
            }
            let here = format!("{path}{}", location.search.get_untracked());
            navigate(
                &login_then(&here),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    let path = move || location.pathname.get();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/personal-access-tokens">
                <span class="brand-mark" aria-hidden="true"></span>
                "Tessera"
            </a>
            <Show when=move || session.status() == SessionStatus::SignedIn>
                <UserMenu/>
            </Show>
        </header>
        <div class="layout">
            <nav class="sidenav" aria-label="Main">
                <ul>
                    <li>
                        <a href="/personal-access-tokens"
                           aria-current=move || path().starts_with("/personal-access-tokens").then_some("page")>
                            "Personal access tokens"
                        </a>
                    </li>
                    <Show when=move || session.is_admin()>
                        <li>
                            <span class="nav-section">"Settings"</span>
                            <ul>
                                <NavGroup label="Integration" links=&[
                                    ("/settings/integration/token-settings", "Token settings"),
                                ]/>
                                <NavGroup label="Access control" links=&[
                                    ("/settings/access-control/access-tokens", "Access tokens"),
                                    ("/settings/access-control/users", "Users"),
                                    ("/settings/access-control/audit-log", "Audit log"),
                                ]/>
                            </ul>
                        </li>
                    </Show>
                </ul>
            </nav>
            <main id="main" class="content" tabindex="-1">
                <nav class="breadcrumbs" aria-label="Breadcrumb">
                    <ol>
                        {crumbs.into_iter().map(|c| match c.href {
                            Some(href) => view! { <li><a href=href>{c.label}</a></li> }.into_any(),
                            None => view! { <li aria-current="page">{c.label}</li> }.into_any(),
                        }).collect_view()}
                    </ol>
                </nav>
                {move || match session.status() {
                    SessionStatus::SignedIn => children().into_any(),
                    SessionStatus::Failed(message) => view! {
                        <div class="notice error" role="alert">
                            <strong>"Tessera could not be reached."</strong>
                            " " {message}
                            " "
                            <button type="button" class="button small" on:click=move |_| session.refresh()>"Try again"</button>
                        </div>
                    }.into_any(),
                    _ => view! { <div class="page-loading"><Spinner/></div> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// A titled group of settings links; the current page is marked. Links into the other
/// build of the console load it (`crate::bundle`).
#[component]
fn NavGroup(label: &'static str, links: &'static [(&'static str, &'static str)]) -> impl IntoView {
    let location = use_location();
    view! {
        <li>
            <span class="nav-section nested">{label}</span>
            <ul>
                {links.iter().map(|&(href, text)| view! {
                    <li>
                        <a href=href rel=crate::bundle::rel(href)
                           aria-current=move || (location.pathname.get() == href).then_some("page")>
                            {text}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </li>
    }
}
