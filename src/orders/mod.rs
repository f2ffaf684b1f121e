//! Orders: creation with product snapshots and stock reservation, the status
//! lifecycle, timeline, and soft deletion.

pub mod create;
pub mod lifecycle;
pub mod model;
pub mod repo;
pub mod routes;
