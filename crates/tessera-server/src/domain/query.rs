//! The query language of `GET /api/v2/apiTokens`: selector, fields, sort, paging.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};

pub use super::selector::Selector;
use super::time::Millis;

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
    /// When the first page was asked for: `status` and `unusedDays` are decided as of then
    /// on every page.
    #[serde(default)]
    pub now: Millis,
}

impl ListQuery {
    pub const DEFAULT_PAGE_SIZE: u32 = 200;
    pub const MAX_PAGE_SIZE: u32 = 10_000;
}

/// Where a later page starts. `snapshot` is the highest row sequence number at the time of
/// the first page: later pages ignore newer tokens, so paging is stable under inserts.
/// `total` is the first page's count, carried so that no later page counts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub snapshot: i64,
    pub offset: u64,
    pub total: u64,
}

/// A later page: the query and the position. Unknown fields make a key invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageKey {
    pub query: ListQuery,
    pub at: Position,
}

impl PageKey {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A key only this server could have written: a page size it allows, a snapshot and an
    /// offset in range (forged ones are refused here, before they reach SQL or arithmetic).
    pub fn decode(value: &str) -> Option<PageKey> {
        let bytes = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        let key: PageKey = serde_json::from_slice(&bytes).ok()?;
        let size_ok = (1..=ListQuery::MAX_PAGE_SIZE).contains(&key.query.page_size);
        let in_range = key.at.snapshot >= 0 && key.at.offset <= Self::MAX_OFFSET;
        // `now` within a century of the epoch's year 2000..2200, and the selector as
        // `Selector::parse` would have left it.
        let now_ok = (946_684_800_000..=7_258_118_400_000).contains(&key.query.now);
        let selector_ok = crate::domain::selector::Selector::parse(&key.query.selector.to_string())
            .is_ok_and(|s| s == key.query.selector);
        (size_ok && in_range && now_ok && selector_ok).then_some(key)
    }

    /// Far beyond any installation's token count, far below where `i64` and `u64` overflow.
    pub const MAX_OFFSET: u64 = 1 << 40;
}

#[cfg(test)]
mod tests {
    use super::*;

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
                now: 1_800_000_000_000,
                ..ListQuery::default()
            },
            at: Position {
                snapshot: 42,
                offset: 10,
                total: 400,
            },
        };
        assert_eq!(PageKey::decode(&key.encode()), Some(key.clone()));
        assert_eq!(PageKey::decode("not a key"), None);
        for (snapshot, offset) in [(-1, 0), (0, PageKey::MAX_OFFSET + 1), (0, u64::MAX)] {
            let forged = PageKey {
                at: Position {
                    snapshot,
                    offset,
                    ..key.at
                },
                ..key.clone()
            };
            assert_eq!(
                PageKey::decode(&forged.encode()),
                None,
                "{snapshot} {offset}"
            );
        }
        assert_eq!(PageKey::decode(""), None);
    }
}
