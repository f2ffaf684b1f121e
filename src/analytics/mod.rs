//! Analytics from rollups (being written).

pub mod rollups;
pub mod routes;
