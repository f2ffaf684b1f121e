//! Orders.

pub mod routes;
