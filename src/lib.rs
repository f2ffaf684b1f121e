//! ordersearch: an e-commerce order service with staff search and analytics.
//!
//! PostgreSQL is the source of truth; the HTTP API (axum) is in [`http`], one
//! folder per domain area beside it. `main.rs` only parses the command line.
#![forbid(unsafe_code)]

pub mod analytics;
pub mod cli;
pub mod console;
pub mod db;
pub mod domain;
pub mod events;
pub mod http;
pub mod import;
pub mod keys;
pub mod orders;
pub mod products;
pub mod saved;
pub mod search;
pub mod seed;
pub mod startup;
pub mod state;
pub mod stores;
pub mod telemetry;
pub mod webhooks;
