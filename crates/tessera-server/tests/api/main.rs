//! API integration tests: the real server binary, a fresh SQLite file per test.
mod auth_rules;
mod cli;
mod helpers;
mod listing;
mod operations;
mod security;
mod sessions;
mod settings;
mod tokens;
