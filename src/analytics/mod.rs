//! Sales analytics read from rollups (invariant 6).
//!
//! The rollups hold per store × product / category / customer / hour / status
//! figures; [`projector`] keeps them as a projection of the event log (order
//! writes do not touch them), [`freshness`] says how far behind it is, and
//! [`rebuild`] recomputes them from the orders; [`compact`] folds the shard rows of closed
//! periods so ranges read fewer rows. A query's range is resolved in [`range`]
//! and split in [`plan`] into whole months, 8-day blocks, whole days and
//! partial edge days, so figures over any range read few rows and stay exact.
//! [`closed`] keeps the product figures of closed periods in memory for
//! top-N lists (summing [`figures`]), and [`closed_hours`] the hours of
//! closed UTC months for hourly sales (both in a [`kept::KeptPeriods`]).
//! [`routes`] serves them under `/v1/analytics`.
//!
//! Orders written without events (a bulk `seed`) need an `ordersearch
//! rollups rebuild`, which also sets the projector's state (`seed` runs it).

#[macro_use]
mod plan;

pub mod cli;
pub mod closed;
pub mod closed_hours;
pub mod compact;
pub mod customers;
pub mod day_horizon;
pub mod figures;
pub mod freshness;
pub mod hourly;
pub mod kept;
pub mod projector;
pub mod range;
pub mod rebuild;
pub mod routes;
pub mod sales;
pub mod summary;

pub use plan::{Plan, Span};
pub use rebuild::{RebuildReport, rebuild};
