//! Who may do what (SPEC §4).
//!
//! A token request is decided from an in-memory index of tokens and users, in the order
//! of the spec: (1) well-formed header and checksum, (2) known id and matching digest,
//! (3) enabled and not expired, (4) owner exists and is active — all 401, told apart by
//! no one; (5) for a PAT, `patEnabled` — 403; (6) the required scope on the token — 403
//! naming the scope; (7) for a PAT, the owner still holds that permission — 403.
//! The index is a projection of the change feed (`crate::feed`): a node applies its own
//! change before answering, so a disable, delete or settings change holds from the very next
//! request without a database read on the check path.
pub mod caller;
mod entries;
pub mod index;
pub mod login_limiter;
pub mod session;
mod state;

pub use caller::Caller;
pub use index::{AuthIndex, Denied, IndexView, TokenPrincipal, UserEntry};
