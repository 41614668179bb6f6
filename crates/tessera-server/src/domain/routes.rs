//! The gateway route map (`--gateway-routes FILE`): which scope a forwarded request needs,
//! from its method and path. First match wins; a request that matches no route needs a
//! scope nobody can have, so a route left out is closed, not open. Matching is exact and
//! case-sensitive (`/Admin` is not `/admin`, `/admin/` is not `/admin`): a catch-all route
//! such as `/**` hands its scope to every spelling the routes above it do not list.
//!
//! ```toml
//! [[route]]
//! methods = ["GET", "HEAD"]   # or ["*"] for any method
//! path = "/metrics/**"        # `*` is one segment, a final `**` is any rest (or none)
//! scope = "metrics.read"
//! ```
use serde::Deserialize;
use tessera_api::Scope;

/// A forwarded request's target, checked and decoded, ready to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub method: String,
    /// Percent-decoded segments of the path (the first `/` dropped).
    segments: Vec<String>,
}

/// Why a forwarded target was refused before matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    Method,
    Path,
}

impl Target {
    /// Accepts only a path an upstream cannot normalise into another one: no `.` or `..`
    /// segment, `;`, `//`, backslash, and no encoded slash, backslash, dot or percent (the
    /// same rule as the shipped nginx config). What is left is decoded before matching, so
    /// `/%61dmin` matches as `/admin`, as the upstream will see it.
    pub fn parse(method: &str, uri: &str) -> Result<Target, TargetError> {
        let valid_method = !method.is_empty()
            && method.len() <= 32
            && method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
        if !valid_method {
            return Err(TargetError::Method);
        }
        // A fragment is never sent; an upstream that gets a raw `#` may keep it in the path.
        if uri.contains('#') {
            return Err(TargetError::Path);
        }
        let path = uri.split('?').next().unwrap_or_default();
        if !path.starts_with('/') || needs_normalising(path) {
            return Err(TargetError::Path);
        }
        let decoded = percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| TargetError::Path)?;
        // `%00`, `%09`: an upstream may cut or trim the name there.
        if decoded.chars().any(char::is_control) {
            return Err(TargetError::Path);
        }
        let segments: Vec<String> = decoded[1..].split('/').map(str::to_owned).collect();
        if segments.iter().any(|s| s == "." || s == "..") {
            return Err(TargetError::Path);
        }
        Ok(Target {
            method: method.to_owned(),
            segments,
        })
    }
}

fn needs_normalising(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let dot_segment = lower.split('/').any(|s| s == "." || s == "..");
    dot_segment
        || lower.contains("..")
        || lower.contains(';')
        || lower.contains("//")
        || lower.contains('\\')
        || lower.bytes().any(|b| b.is_ascii_control() || b == b' ')
        || ["%2e", "%2f", "%5c", "%25", "%u", "%c0", "%c1"]
            .iter()
            .any(|bad| lower.contains(bad))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    methods: Vec<String>,
    path: String,
    scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

#[derive(Debug, Clone)]
struct Route {
    /// Empty means any method.
    methods: Vec<String>,
    segments: Vec<Segment>,
    scope: Scope,
}

/// The parsed map.
#[derive(Debug, Clone)]
pub struct RouteMap {
    routes: Vec<Route>,
}

impl RouteMap {
    /// Parses the file's text; errors name the route (1-based) and what is wrong.
    pub fn parse(text: &str) -> Result<RouteMap, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.route.is_empty() {
            return Err("no [[route]] entries: every request would be refused".into());
        }
        let routes = file
            .route
            .into_iter()
            .enumerate()
            .map(|(i, raw)| Route::parse(raw).map_err(|e| format!("route {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(RouteMap { routes })
    }

    /// The scope the first matching route names, or None: refuse.
    pub fn scope_for(&self, target: &Target) -> Option<Scope> {
        self.routes
            .iter()
            .find(|r| r.matches(target))
            .map(|r| r.scope)
    }
}

impl Route {
    fn parse(raw: RawRoute) -> Result<Route, String> {
        let scope =
            Scope::parse(&raw.scope).ok_or_else(|| format!("unknown scope `{}`", raw.scope))?;
        if raw.methods.is_empty() {
            return Err("`methods` is empty; use [\"*\"] for any method".into());
        }
        let any = raw.methods.iter().any(|m| m == "*");
        for m in &raw.methods {
            if m != "*" && Target::parse(m, "/").is_err() {
                return Err(format!("`{m}` is not an HTTP method"));
            }
        }
        let methods = if any { Vec::new() } else { raw.methods };
        let Some(rest) = raw.path.strip_prefix('/') else {
            return Err(format!("path `{}` must start with /", raw.path));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "**" if i + 1 == parts.len() => Segment::Rest,
                "**" => return Err(format!("path `{}`: ** may only end a path", raw.path)),
                "*" => Segment::One,
                literal if literal.contains('*') => {
                    return Err(format!("path `{}`: * must be a whole segment", raw.path))
                }
                literal => Segment::Literal(literal.to_owned()),
            });
        }
        if Target::parse("GET", &raw.path.replace('*', "x")).is_err() {
            return Err(format!(
                "path `{}` needs normalising; write it plainly",
                raw.path
            ));
        }
        Ok(Route {
            methods,
            segments,
            scope,
        })
    }

    fn matches(&self, target: &Target) -> bool {
        if !self.methods.is_empty() && !self.methods.contains(&target.method) {
            return false;
        }
        let mut given = target.segments.iter();
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::One => {
                    if given.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(l) => {
                    if given.next() != Some(l) {
                        return false;
                    }
                }
            }
        }
        given.next().is_none()
    }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
