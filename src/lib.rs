//! Tessera's web console: sign in, manage personal access tokens, and (for admins) turn
//! the feature on or off. `api` is the only module that speaks HTTP.
pub mod admin_query;
pub mod api;
#[cfg(feature = "admin")]
pub mod api_admin;
pub mod bundle;
pub mod components;
pub mod format;
pub mod forms;
pub mod pages;
pub mod state;

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{GeneratePage, LoginPage, NotFoundPage, TokensPage};

/// The whole console: contexts, the leave guard and the routes.
#[component]
pub fn App() -> impl IntoView {
    state::provide_session_context();
    state::provide_leave_guard();
    components::leave_guard::install();
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/") view=|| view! { <Redirect path="/personal-access-tokens"/> }/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/personal-access-tokens") view=TokensPage/>
                <Route path=path!("/personal-access-tokens/new") view=GeneratePage/>
                <AdminRoutes/>
            </Routes>
        </Router>
    }
}

/// The administrators' pages (`crate::bundle`): routes in their build, none in everyone's.
#[cfg(feature = "admin")]
#[component(transparent)]
fn AdminRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
    use crate::pages::admin::*;
    use leptos_router::components::{Outlet, ParentRoute};
    // One parent route: with type-erased components a transparent component returns one.
    view! {
        <ParentRoute path=path!("/settings") view=Outlet>
            <Route path=path!("/integration/token-settings") view=TokenSettingsPage/>
            <Route path=path!("/access-control/access-tokens") view=AccessTokensPage/>
            <Route path=path!("/access-control/access-tokens/new") view=NewEnvironmentTokenPage/>
            <Route path=path!("/access-control/users") view=UsersPage/>
            <Route path=path!("/access-control/users/new") view=NewUserPage/>
            <Route path=path!("/access-control/users/:username") view=EditUserPage/>
            <Route path=path!("/access-control/audit-log") view=AuditLogPage/>
        </ParentRoute>
    }
    .into_inner()
}

/// Everyone's build: the server never sends `/settings/…` here, and a link there loads the
/// other build; should the router meet one anyway, it is "not found", as any unknown path.
#[cfg(not(feature = "admin"))]
#[component(transparent)]
fn AdminRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
    view! { <Route path=path!("/settings/*any") view=NotFoundPage/> }.into_inner()
}
