//! One file per routed page.
mod generate;
mod login;
mod not_found;
mod token_settings;
mod tokens;

pub use generate::GeneratePage;
pub use login::{login_then, LoginPage};
pub use not_found::{NoAccess, NotFoundPage};
pub use token_settings::TokenSettingsPage;
pub use tokens::TokensPage;
