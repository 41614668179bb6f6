//! Validated domain values: each has a `parse` that says what is wrong with bad input.
pub mod audit;
pub mod lifecycle;
pub mod names;
pub mod password;
pub mod patch;
pub mod query;
pub mod routes;
pub mod scope_set;
pub mod selector;
pub mod signature;
pub mod time;
pub mod token;
