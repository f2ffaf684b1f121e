//! Integration tests: the whole app against a real PostgreSQL, one database per test.

mod helpers;

mod analytics;
mod authz;
mod bad_input;
mod body_bounds;
mod catalog;
mod cluster;
mod console;
mod events;
mod import;
mod indexer;
mod meili;
mod openapi;
mod orders;
mod races;
mod saved;
mod schemathesis;
mod search;
mod seed;
mod serve;
mod webhooks;
