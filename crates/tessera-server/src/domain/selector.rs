//! `apiTokenSelector` of `GET /api/v2/apiTokens`: `owner("a")`, `personalAccessToken(b)`,
//! `scope("x","y")`, `name("n")`, comma-separated; every criterion must match. Tessera's
//! extensions (for the administrators' token page): `status("enabled","disabled",
//! "expired","expiring")` — expiring is within 7 days — and `unusedDays(90)`: not used (or,
//! never used, not created) for that many days.
use serde::{Deserialize, Serialize};
use tessera_api::Scope;

/// `apiTokenSelector`: every criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    /// Any of these owners (exact).
    pub owners: Vec<String>,
    pub personal: Option<bool>,
    /// Any of these scopes.
    pub scopes: Vec<String>,
    /// Any of these names (case-insensitive substring).
    pub names: Vec<String>,
    /// Any of these statuses (`STATUSES`), a Tessera extension.
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Not used for at least this many days, a Tessera extension.
    #[serde(default)]
    pub unused_days: Option<u32>,
}

/// The values of `status(…)`.
pub const STATUSES: [&str; 4] = ["enabled", "disabled", "expired", "expiring"];

/// `status("expiring")`: expires within this many days.
pub const EXPIRING_DAYS: i64 = 7;

impl Selector {
    /// Whether a criterion is one only the rows can answer (not the index's counts).
    pub fn needs_rows(&self) -> bool {
        !self.scopes.is_empty()
            || !self.names.is_empty()
            || !self.statuses.is_empty()
            || self.unused_days.is_some()
    }
}

impl Selector {
    /// Parses `owner("a"),personalAccessToken(true),scope("x","y"),name("n")`.
    pub fn parse(input: &str) -> Result<Selector, String> {
        let mut selector = Selector::default();
        for (key, args) in criteria(input, '\\')? {
            match key {
                "owner" => selector.owners.extend(args),
                "name" => selector.names.extend(args),
                "scope" => {
                    for arg in args {
                        if Scope::parse(&arg).is_none() {
                            return Err(format!("Unknown scope `{arg}`"));
                        }
                        selector.scopes.push(arg);
                    }
                }
                "status" => {
                    for arg in args {
                        if !STATUSES.contains(&arg.as_str()) {
                            return Err(format!(
                                "Unknown status `{arg}`; use {}",
                                STATUSES.join(", ")
                            ));
                        }
                        selector.statuses.push(arg);
                    }
                }
                "unusedDays" => {
                    selector.unused_days = Some(match args.as_slice() {
                        [v] => v
                            .parse::<u32>()
                            .ok()
                            .filter(|d| (1..=36_500).contains(d))
                            .ok_or("unusedDays takes a whole number of days from 1 to 36500")?,
                        _ => return Err("unusedDays takes one number of days".into()),
                    })
                }
                "personalAccessToken" => {
                    selector.personal = Some(match args.as_slice() {
                        [v] if v == "true" => true,
                        [v] if v == "false" => false,
                        _ => return Err("personalAccessToken takes true or false".into()),
                    })
                }
                other => return Err(format!("Unknown criterion `{other}`")),
            }
        }
        Ok(selector)
    }
}

/// More values than any real filter names; each becomes a bound SQL parameter.
const MAX_VALUES: usize = 100;

/// Splits `key("a","b"),key2(c)` into keys and values; `escape` makes the next character
/// literal inside a quoted value (`\\` for `apiTokenSelector`, `~` for the audit log's
/// `filter`, as in Dynatrace's).
pub(crate) fn criteria(input: &str, escape: char) -> Result<Vec<(&str, Vec<String>)>, String> {
    let mut found = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or("Expected a criterion such as owner(\"alice\")")?;
        let key = rest[..open].trim();
        let (args, after) = parse_args(&rest[open + 1..], escape)?;
        found.push((key, args));
        if found.iter().map(|(_, a)| a.len()).sum::<usize>() > MAX_VALUES {
            return Err(format!("At most {MAX_VALUES} values in all"));
        }
        rest = after.trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
            if rest.is_empty() {
                return Err("Expected a criterion after ','".into());
            }
        } else if !rest.is_empty() {
            return Err("Separate criteria with ','".into());
        }
    }
    Ok(found)
}

/// Prints the selector in the form `parse` reads, so that `parse(print(s)) == s`.
impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn quoted(values: &[String]) -> String {
            values
                .iter()
                .map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(",")
        }
        let mut parts = Vec::new();
        if !self.owners.is_empty() {
            parts.push(format!("owner({})", quoted(&self.owners)));
        }
        if let Some(personal) = self.personal {
            parts.push(format!("personalAccessToken({personal})"));
        }
        if !self.scopes.is_empty() {
            parts.push(format!("scope({})", quoted(&self.scopes)));
        }
        if !self.names.is_empty() {
            parts.push(format!("name({})", quoted(&self.names)));
        }
        if !self.statuses.is_empty() {
            parts.push(format!("status({})", quoted(&self.statuses)));
        }
        if let Some(days) = self.unused_days {
            parts.push(format!("unusedDays({days})"));
        }
        f.write_str(&parts.join(","))
    }
}

/// Reads `"a","b")` (or a bare word such as `true`) and returns the values and the rest.
fn parse_args(input: &str, escape: char) -> Result<(Vec<String>, &str), String> {
    let mut values = Vec::new();
    let mut chars = input.char_indices().peekable();
    loop {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some((_, '"')) => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, c)) if c == escape => match chars.next() {
                            Some((_, c)) => value.push(c),
                            None => return Err("Unterminated string".into()),
                        },
                        Some((_, '"')) => break,
                        Some((_, c)) => value.push(c),
                        None => return Err("Unterminated string".into()),
                    }
                }
                values.push(value);
            }
            Some((start, c)) if c.is_ascii_alphanumeric() => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) = chars.peek().copied() {
                    if !c.is_ascii_alphanumeric() && c != '.' {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                values.push(input[start..end].to_owned());
            }
            _ => return Err("Expected a quoted value".into()),
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some((_, ',')) => continue,
            Some((i, ')')) => return Ok((values, &input[i + 1..])),
            _ => return Err("Expected ',' or ')'".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_every_criterion() {
        let s = Selector::parse(
            r#"owner("alice"), personalAccessToken(false),scope("metrics.read","slo.read"),name("ci \"prod\"")"#,
        )
        .unwrap();
        assert_eq!(s.owners, vec!["alice"]);
        assert_eq!(s.personal, Some(false));
        assert_eq!(s.scopes, vec!["metrics.read", "slo.read"]);
        assert_eq!(s.names, vec!["ci \"prod\""]);
        assert_eq!(Selector::parse("").unwrap(), Selector::default());
    }

    #[test]
    fn selectors_reject_bad_input_with_a_reason() {
        for bad in [
            "owner(alice",
            "owner(\"alice\"",
            "colour(\"red\")",
            "scope(\"metrics.ingest\")",
            "personalAccessToken(maybe)",
            "owner(\"a\") owner(\"b\")",
            "owner(\"a\"),",
            "(\"a\")",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }
}
