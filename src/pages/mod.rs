//! One file per routed page; the administrators' pages in `admin` (their own build).
#[cfg(feature = "admin")]
pub mod admin;
mod generate;
mod login;
mod not_found;
mod tokens;

pub use generate::{Generate, GeneratePage};
pub use login::{login_then, LoginPage};
pub use not_found::{NoAccess, NotFoundPage};
pub use tokens::TokensPage;
