//! Sales analytics read from rollups (invariant 6).
//!
//! [`rollups`] keeps per store × product / category / customer / hour / status
//! figures in step with the orders inside every order write; [`rebuild`]
//! recomputes them from the orders; [`compact`] folds the shard rows of closed
//! periods so ranges read fewer rows. A query's range is resolved in [`range`]
//! and split in [`plan`] into whole months, 8-day blocks, whole days and
//! partial edge days, so figures over any range read few rows and stay exact.
//! [`closed`] keeps the product figures of closed periods in memory for
//! top-N lists (summing [`figures`]), and [`closed_hours`] the hours of
//! closed UTC months for hourly sales (both in a [`kept::KeptPeriods`]).
//! [`routes`] serves them under `/v1/analytics`.
//!
//! Orders written behind the hook's back (a bulk `seed` or import) need an
//! `ordersearch rollups rebuild` before live changes to them are recorded.

#[macro_use]
mod plan;

pub mod cli;
pub mod closed;
pub mod closed_hours;
pub mod compact;
pub mod customers;
pub mod day_horizon;
pub mod figures;
pub mod hourly;
pub mod kept;
pub mod range;
pub mod rebuild;
pub mod rollups;
pub mod routes;
pub mod sales;
pub mod summary;

pub use plan::{Plan, Span};
pub use rebuild::{RebuildReport, rebuild};
