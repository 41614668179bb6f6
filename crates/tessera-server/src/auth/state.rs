//! What the index holds, behind its one lock: tokens by id, users by name, the PAT switch,
//! and tokens per owner. Kept small per token — a node holds every token (a million in the
//! cost curve of `make bench`): the id is the map key inline (no allocation), and every
//! token of an owner shares one allocation of the owner's name.
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::entries::{TokenEntry, UserEntry};
use crate::domain::token::ID_LEN;
use crate::store::TokenRecord;

/// A token id (`dt0c01.` + 24 characters), inline.
pub(super) type TokenKey = [u8; ID_LEN];

pub(super) fn token_key(id: &str) -> Option<TokenKey> {
    id.as_bytes().try_into().ok()
}

/// Everything a decision reads: a feed batch is applied as a whole under the lock and a
/// decision reads one state, so no check sees half a batch (say, a token enabled again
/// before the PAT switch that was turned off in the same batch).
#[derive(Default)]
pub(super) struct State {
    pub tokens: HashMap<TokenKey, Arc<TokenEntry>>,
    pub users: HashMap<String, Arc<UserEntry>>,
    pub pat_enabled: bool,
    /// Tokens per owner, `[environment, personal]`: the first page of a listing reads its
    /// total here instead of counting up to a million rows.
    pub counts: HashMap<Arc<str>, [u64; 2]>,
}

impl State {
    pub fn token(&self, id: &str) -> Option<&Arc<TokenEntry>> {
        self.tokens.get(&token_key(id)?)
    }

    /// Adds or replaces a token, keeping its last-use throttle.
    pub fn put_token(&mut self, record: &TokenRecord) {
        let written = self.last_use_written(&record.id);
        self.put_token_with(record, written);
    }

    /// The last-use throttle of a token held now.
    pub fn last_use_written(&self, id: &str) -> Option<i64> {
        self.token(id)
            .map(|t| t.last_use_written.load(Ordering::Relaxed))
    }

    /// Adds or replaces a token with the throttle `written` of an earlier entry. An id of
    /// another shape (none is ever written) is left out: that token is refused, not misread.
    pub fn put_token_with(&mut self, record: &TokenRecord, written: Option<i64>) {
        let Some(key) = token_key(&record.id) else {
            tracing::error!(id = %record.id, "a token id of an unknown shape is not indexed");
            return;
        };
        let owner = match self.counts.get_key_value(record.owner.as_str()) {
            Some((shared, _)) => shared.clone(),
            None => Arc::from(record.owner.as_str()),
        };
        let entry = TokenEntry::from_record(record, owner);
        if let Some(written) = written {
            entry.last_use_written.fetch_max(written, Ordering::Relaxed);
        }
        let entry = Arc::new(entry);
        self.count(&entry, true);
        if let Some(old) = self.tokens.insert(key, entry) {
            self.count(&old, false);
        }
    }

    pub fn remove_token(&mut self, id: &str) {
        if let Some(old) = token_key(id).and_then(|key| self.tokens.remove(&key)) {
            self.count(&old, false);
        }
    }

    fn count(&mut self, entry: &TokenEntry, add: bool) {
        let slot = self.counts.entry(entry.owner.clone()).or_default();
        let n = &mut slot[usize::from(entry.personal)];
        *n = if add { *n + 1 } else { n.saturating_sub(1) };
        if *slot == [0, 0] {
            self.counts.remove(&entry.owner);
        }
    }
}
