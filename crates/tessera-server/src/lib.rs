//! Tessera's token service: the Access tokens API v2, browser sessions, token settings,
//! the gateway check, and the console's assets, on one port.
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod listen;
pub mod server;
pub mod state;
pub mod store;
