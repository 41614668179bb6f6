//! The console is built twice: everyone's build, and the administrators' build (feature
//! `admin`, served by the server as `admin.html` for `/settings/…`) that adds the settings
//! pages. Only administrators pay for the pages only they can use. Moving between the two
//! is a page load; within one, the router moves.

/// Whether this build has the page at `path`.
pub fn serves(path: &str) -> bool {
    cfg!(feature = "admin") || !is_admin_page(path)
}

/// Pages that live only in the administrators' build.
pub fn is_admin_page(path: &str) -> bool {
    path == "/settings" || path.starts_with("/settings/")
}

/// The `rel` of a link to `path`: `external` when the other build serves it, so that the
/// router lets the browser load it.
pub fn rel(path: &str) -> Option<&'static str> {
    (!serves(path)).then_some("external")
}

/// Goes to `path` (path and query): through the router when this build has it, otherwise
/// by loading it.
pub fn go(navigate: impl Fn(&str, leptos_router::NavigateOptions), path: &str, replace: bool) {
    let route_path = path.split(['?', '#']).next().unwrap_or_default();
    if serves(route_path) {
        navigate(
            path,
            leptos_router::NavigateOptions {
                replace,
                ..Default::default()
            },
        );
    } else if let Some(window) = web_sys::window() {
        let location = window.location();
        let _ = if replace {
            location.replace(path)
        } else {
            location.assign(path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_pages_are_the_admin_builds() {
        assert!(is_admin_page("/settings/access-control/users"));
        assert!(is_admin_page("/settings"));
        assert!(!is_admin_page("/settingsx"));
        assert!(!is_admin_page("/personal-access-tokens"));
        assert_eq!(
            serves("/settings/integration/token-settings"),
            cfg!(feature = "admin")
        );
        assert!(serves("/personal-access-tokens/new"));
    }
}
