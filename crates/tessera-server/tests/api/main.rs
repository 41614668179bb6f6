//! API integration tests: the real server binary, a fresh SQLite file per test.
mod auth_rules;
mod backup;
mod cli;
mod durability;
mod gateway;
mod helpers;
mod hostile_input;
mod listing;
mod nginx;
mod operations;
mod races;
mod security;
mod sessions;
mod settings;
mod slow_clients;
mod tokens;
