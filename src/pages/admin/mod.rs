//! Pages only administrators use, built into `admin.html` only (see `crate::bundle`).
mod token_settings;

pub use token_settings::TokenSettingsPage;
