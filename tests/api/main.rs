//! Integration tests: the whole app against a real PostgreSQL, one database per test.

mod helpers;

mod catalog;
mod orders;
mod races;
