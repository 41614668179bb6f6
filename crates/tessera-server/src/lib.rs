//! Tessera's token service: the Access tokens API v2, browser sessions, token settings,
//! the gateway check, and the console's assets, on one port.
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod feed;
pub mod http;
pub mod jobs;
pub mod listen;
pub mod meter;
pub mod migrate;
pub mod server;
pub mod service;
pub mod sso;
pub mod state;
pub mod store;
