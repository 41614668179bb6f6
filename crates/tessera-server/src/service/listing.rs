//! Listing tokens: a page from the store, its total counted once (see `list_tokens`).
use std::collections::BTreeSet;

use super::{Actor, Service};
use crate::domain::query::{ListQuery, Position};
use crate::error::ApiError;
use crate::store::TokenRecord;

/// Matching tokens up to which a first page counts its total in SQL, in its snapshot.
const EXACT_COUNT_UP_TO: u64 = 10_000;

/// A page of a listing as the API shows it.
pub struct Listed {
    pub tokens: Vec<TokenRecord>,
    pub total: u64,
    /// Where the next page starts, if any.
    pub next: Option<Position>,
}

impl Service {
    /// A page of tokens: everyone's for those who see all, else the actor's own. The total
    /// is counted once, on the first page, and carried in the position of the next.
    pub async fn list_tokens(
        &self,
        actor: &Actor,
        query: &ListQuery,
        at: Option<Position>,
    ) -> Result<Listed, ApiError> {
        let owner = (!actor.sees_all_tokens()).then_some(actor.username.as_str());
        // The index's count is not taken at the page's snapshot: a change in flight may be
        // in one and not the other. Below `EXACT_COUNT_UP_TO` the rows are counted in the
        // snapshot itself (cheap); above, the index's count stands (a scan of a million
        // rows is not), exact whenever nothing changes meanwhile.
        let known = match at {
            Some(at) => Some(at.total),
            None => self
                .count_from_index(owner, query)
                .filter(|n| *n >= EXACT_COUNT_UP_TO),
        };
        let (snapshot, offset) = at.map_or((None, 0), |at| (Some(at.snapshot), at.offset));
        let page = self
            .store
            .list_tokens(owner, query, snapshot, offset, known.is_none())
            .await?;
        let shown = offset + page.tokens.len() as u64;
        // An index count may trail another node's insert by the feed's delay; the total
        // never claims fewer rows than the pages hold.
        let total = known
            .or(page.total)
            .unwrap_or_default()
            .max(shown + u64::from(page.more));
        let next = (page.more && !page.tokens.is_empty()).then_some(Position {
            snapshot: page.snapshot,
            offset: shown,
            total,
        });
        Ok(Listed {
            tokens: page.tokens,
            total,
            next,
        })
    }

    /// The total of a first page from the index, when the selector names no more than
    /// owners and type (what the index counts); `None` means the store counts.
    fn count_from_index(&self, owner: Option<&str>, query: &ListQuery) -> Option<u64> {
        let selector = &query.selector;
        if selector.needs_rows() || query.from.is_some() || query.to.is_some() {
            return None;
        }
        let index = self.follower.as_ref()?.index();
        let named: BTreeSet<&str> = selector.owners.iter().map(String::as_str).collect();
        let owners = match owner {
            Some(me) if named.is_empty() || named.contains(me) => Some(BTreeSet::from([me])),
            Some(_) => Some(BTreeSet::new()),
            None if named.is_empty() => None,
            None => Some(named),
        };
        Some(index.count_tokens(owners.as_ref(), selector.personal))
    }
}
