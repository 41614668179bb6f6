use super::*;

const MAP: &str = r#"
[[route]]
methods = ["GET", "HEAD"]
path = "/metrics/**"
scope = "metrics.read"

[[route]]
methods = ["DELETE"]
path = "/metrics/*"
scope = "metrics.write"

[[route]]
methods = ["*"]
path = "/problems/*/comments"
scope = "problems.write"

[[route]]
methods = ["GET"]
path = "/admin/**"
scope = "settings.read"

[[route]]
methods = ["GET"]
path = "/**"
scope = "entities.read"
"#;

fn scope(method: &str, uri: &str) -> Option<&'static str> {
    let map = RouteMap::parse(MAP).unwrap();
    map.scope_for(&Target::parse(method, uri).unwrap())
        .map(|s| s.as_str())
}

#[test]
fn the_first_matching_route_names_the_scope() {
    assert_eq!(scope("GET", "/metrics"), Some("metrics.read"));
    assert_eq!(scope("HEAD", "/metrics/"), Some("metrics.read"));
    assert_eq!(scope("GET", "/metrics/a/b?x=1"), Some("metrics.read"));
    assert_eq!(scope("DELETE", "/metrics/cpu"), Some("metrics.write"));
    assert_eq!(
        scope("PATCH", "/problems/7/comments"),
        Some("problems.write")
    );
    assert_eq!(scope("GET", "/anything/else"), Some("entities.read"));
}

#[test]
fn what_no_route_names_is_closed() {
    // One segment only for `*`; methods are matched exactly, made-up ones included.
    assert_eq!(scope("DELETE", "/metrics/cpu/1"), None);
    assert_eq!(scope("DELETE", "/metrics"), None);
    assert_eq!(scope("POST", "/metrics"), None);
    assert_eq!(scope("get", "/metrics"), None);
    assert_eq!(scope("FROB", "/metrics"), None);
    assert_eq!(scope("PUT", "/problems/7/comments/2"), None);
}

#[test]
fn paths_are_decoded_as_the_upstream_will_see_them() {
    // An encoded letter cannot slip past a narrower route to a wider one.
    assert_eq!(scope("GET", "/%61dmin/users"), Some("settings.read"));
    assert_eq!(scope("GET", "/%6Detrics"), Some("metrics.read"));
}

#[test]
fn paths_that_need_normalising_are_refused() {
    for bad in [
        "/metrics/../admin",
        "/metrics/./x",
        "/metrics/.",
        "/a..b",
        "/metrics;x=1",
        "//metrics",
        "/metrics\\x",
        "/metrics%2fx",
        "/metrics%2Ex",
        "/metrics%5cx",
        "/metrics%252e",
        "/metrics%u002e",
        "/metrics%c0%ae",
        "/metrics%ff",
        "metrics",
        "",
        "/a b",
        "/metrics#/admin",
        "/metrics%00.json",
        "/metrics%09",
    ] {
        assert_eq!(
            Target::parse("GET", bad),
            Err(TargetError::Path),
            "{bad:?} should be refused"
        );
    }
    // The query is not part of the path.
    assert!(Target::parse("GET", "/metrics?next=/../x;y").is_ok());
    for bad in ["", "G E T", "GET\r\n", &"X".repeat(40)] {
        assert_eq!(Target::parse(bad, "/"), Err(TargetError::Method));
    }
}

#[test]
fn bad_maps_are_refused_with_the_route_named() {
    let err = |text: &str| RouteMap::parse(text).unwrap_err();
    assert!(err("").contains("no [[route]]"));
    let route = |methods: &str, path: &str, scope: &str| {
        format!("[[route]]\nmethods = {methods}\npath = \"{path}\"\nscope = \"{scope}\"\n")
    };
    assert!(err(&route("[\"GET\"]", "/x", "metrics.reed")).contains("route 1: unknown scope"));
    assert!(err(&route("[]", "/x", "metrics.read")).contains("`methods` is empty"));
    assert!(err(&route("[\"G T\"]", "/x", "metrics.read")).contains("not an HTTP method"));
    assert!(err(&route("[\"GET\"]", "x", "metrics.read")).contains("must start with /"));
    assert!(err(&route("[\"GET\"]", "/**/x", "metrics.read")).contains("may only end"));
    assert!(err(&route("[\"GET\"]", "/a*", "metrics.read")).contains("whole segment"));
    assert!(err(&route("[\"GET\"]", "/a/../b", "metrics.read")).contains("normalising"));
    let two = format!(
        "{}{}",
        route("[\"GET\"]", "/x", "metrics.read"),
        route("[\"GET\"]", "/y", "nope")
    );
    assert!(err(&two).contains("route 2"));
    assert!(
        err("[[route]]\nmethods=[\"GET\"]\npath=\"/\"\nscope=\"metrics.read\"\nextra=1")
            .contains("extra")
    );
}
