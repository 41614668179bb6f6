//! The query language of `GET /api/v2/apiTokens`: selector, fields, sort, paging.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use tessera_api::Scope;

use super::time::Millis;

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
}

impl Selector {
    /// Parses `owner("a"),personalAccessToken(true),scope("x","y"),name("n")`.
    pub fn parse(input: &str) -> Result<Selector, String> {
        let mut selector = Selector::default();
        let mut rest = input.trim();
        while !rest.is_empty() {
            let open = rest
                .find('(')
                .ok_or("Expected a criterion such as owner(\"alice\")")?;
            let key = rest[..open].trim();
            let (args, after) = parse_args(&rest[open + 1..])?;
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
                "personalAccessToken" => {
                    selector.personal = Some(match args.as_slice() {
                        [v] if v == "true" => true,
                        [v] if v == "false" => false,
                        _ => return Err("personalAccessToken takes true or false".into()),
                    })
                }
                other => return Err(format!("Unknown criterion `{other}`")),
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
        Ok(selector)
    }
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
        f.write_str(&parts.join(","))
    }
}

/// Reads `"a","b")` (or a bare word such as `true`) and returns the values and the rest.
fn parse_args(input: &str) -> Result<(Vec<String>, &str), String> {
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
                        Some((_, '\\')) => match chars.next() {
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

/// A field of token metadata that `fields` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    Id,
    Name,
    Enabled,
    Owner,
    PersonalAccessToken,
    CreationDate,
    ExpirationDate,
    LastUsedDate,
    LastUsedIpAddress,
    ModifiedDate,
    Scopes,
    AdditionalMetadata,
}

impl Field {
    const ALL: [(Field, &'static str); 12] = [
        (Field::Id, "id"),
        (Field::Name, "name"),
        (Field::Enabled, "enabled"),
        (Field::Owner, "owner"),
        (Field::PersonalAccessToken, "personalAccessToken"),
        (Field::CreationDate, "creationDate"),
        (Field::ExpirationDate, "expirationDate"),
        (Field::LastUsedDate, "lastUsedDate"),
        (Field::LastUsedIpAddress, "lastUsedIpAddress"),
        (Field::ModifiedDate, "modifiedDate"),
        (Field::Scopes, "scopes"),
        (Field::AdditionalMetadata, "additionalMetadata"),
    ];

    pub fn parse(name: &str) -> Option<Field> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("", |(_, n)| n)
    }

    pub fn all() -> impl Iterator<Item = Field> {
        Self::ALL.iter().map(|(f, _)| *f)
    }
}

/// The fields a list returns; `id` is always among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields(pub Vec<Field>);

impl Default for Fields {
    fn default() -> Self {
        Fields(vec![
            Field::Id,
            Field::Name,
            Field::Enabled,
            Field::Owner,
            Field::CreationDate,
        ])
    }
}

impl Fields {
    /// `+f` adds to the default, `-f` removes from it, a bare list replaces it. A `+`
    /// that arrived unencoded in a query string is a space, and is read as `+`.
    pub fn parse(input: &str) -> Result<Fields, String> {
        let items: Vec<&str> = input.split(',').collect();
        let modifies = items.iter().all(|i| i.starts_with(['+', '-', ' ']));
        let mut fields = if modifies {
            Fields::default().0
        } else {
            vec![Field::Id]
        };
        for item in items {
            let (remove, name) = match item.as_bytes().first() {
                Some(b'-') => (true, &item[1..]),
                Some(b'+' | b' ') => (false, &item[1..]),
                _ => (false, item),
            };
            let name = name.trim();
            let field = Field::parse(name).ok_or_else(|| format!("Unknown field `{name}`"))?;
            if remove {
                fields.retain(|f| *f != field || field == Field::Id);
            } else if !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields.sort();
        Ok(Fields(fields))
    }

    pub fn has(&self, field: Field) -> bool {
        self.0.contains(&field)
    }
}

/// A bare list, which `parse` reads back as exactly these fields.
impl std::fmt::Display for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|field| field.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// What a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Name,
    LastUsedDate,
    CreationDate,
    ExpirationDate,
    ModifiedDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::CreationDate,
            descending: true,
        }
    }
}

impl Sort {
    pub fn parse(input: &str) -> Result<Sort, String> {
        let (descending, name) = match input.as_bytes().first() {
            Some(b'-') => (true, &input[1..]),
            Some(b'+' | b' ') => (false, &input[1..]),
            _ => (false, input),
        };
        let key = match name {
            "name" => SortKey::Name,
            "lastUsedDate" => SortKey::LastUsedDate,
            "creationDate" => SortKey::CreationDate,
            "expirationDate" => SortKey::ExpirationDate,
            "modifiedDate" => SortKey::ModifiedDate,
            other => return Err(format!(
                "Unknown sort field `{other}`; use name, lastUsedDate, creationDate, expirationDate or modifiedDate"
            )),
        };
        Ok(Sort { key, descending })
    }
}

impl std::fmt::Display for Sort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.key {
            SortKey::Name => "name",
            SortKey::LastUsedDate => "lastUsedDate",
            SortKey::CreationDate => "creationDate",
            SortKey::ExpirationDate => "expirationDate",
            SortKey::ModifiedDate => "modifiedDate",
        };
        write!(f, "{}{name}", if self.descending { "-" } else { "" })
    }
}

/// Everything a list request asks for, as carried from page to page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub selector: Selector,
    pub fields: Fields,
    pub sort: Sort,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub page_size: u32,
}

impl ListQuery {
    pub const DEFAULT_PAGE_SIZE: u32 = 200;
    pub const MAX_PAGE_SIZE: u32 = 10_000;
}

/// The position in a listing. `snapshot` is the highest row sequence number at the time
/// of the first page: later pages ignore newer tokens, so paging is stable under inserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageKey {
    pub query: ListQuery,
    pub snapshot: i64,
    pub offset: u64,
}

impl PageKey {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(value: &str) -> Option<PageKey> {
        let bytes = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        let key: PageKey = serde_json::from_slice(&bytes).ok()?;
        let size_ok = (1..=ListQuery::MAX_PAGE_SIZE).contains(&key.query.page_size);
        size_ok.then_some(key)
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

    #[test]
    fn fields_add_remove_and_replace() {
        let added = Fields::parse("+scopes,-owner").unwrap();
        assert!(added.has(Field::Scopes) && !added.has(Field::Owner) && added.has(Field::Name));
        let replaced = Fields::parse("name,scopes").unwrap();
        assert_eq!(replaced.0, vec![Field::Id, Field::Name, Field::Scopes]);
        let unencoded_plus = Fields::parse(" lastUsedDate").unwrap();
        assert!(unencoded_plus.has(Field::LastUsedDate) && unencoded_plus.has(Field::Owner));
        assert!(Fields::parse("-id").unwrap().has(Field::Id));
        assert!(Fields::parse("colour").is_err());
    }

    #[test]
    fn sort_reads_direction_prefixes() {
        assert_eq!(
            Sort::parse("-name").unwrap(),
            Sort {
                key: SortKey::Name,
                descending: true
            }
        );
        assert_eq!(
            Sort::parse("+name").unwrap(),
            Sort {
                key: SortKey::Name,
                descending: false
            }
        );
        assert_eq!(
            Sort::parse(" expirationDate").unwrap().key,
            SortKey::ExpirationDate
        );
        assert!(Sort::parse("owner").is_err());
    }

    #[test]
    fn page_keys_round_trip_and_reject_garbage() {
        let key = PageKey {
            query: ListQuery {
                page_size: 5,
                ..ListQuery::default()
            },
            snapshot: 42,
            offset: 10,
        };
        assert_eq!(PageKey::decode(&key.encode()), Some(key));
        assert_eq!(PageKey::decode("not a key"), None);
        assert_eq!(PageKey::decode(""), None);
    }
}
