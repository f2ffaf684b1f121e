//! Sales analytics read from rollups (invariant 6).
//!
//! The rollups hold per store × product / category / customer / hour / status
//! figures; [`projector`] keeps them as a projection of the event log (order
//! writes do not touch them), [`freshness`] says how far behind it is, and
//! [`rebuild`] recomputes them from the orders; [`compact`] folds the shard
//! rows of closed periods so ranges read fewer rows. The rollups' grains and
//! periods are [`period`]'s. A query's range is resolved in [`range`] and
//! split in [`plan`] into whole months, 8-day blocks, whole days and partial
//! edge days, so figures over any range read few rows and stay exact.
//! [`kept`] keeps the figures of periods in memory while nothing changes them
//! (products for top-N lists, summing [`figures`]; hours for hourly sales).
//! [`routes`] serves them under `/v1/analytics`.
//!
//! Orders written without events (a bulk `seed`) need an `ordersearch
//! rollups rebuild`, which also sets the projector's state (`seed` runs it).

pub mod cli;
pub mod compact;
pub mod customers;
pub mod figures;
pub mod freshness;
pub mod hourly;
pub mod kept;
pub mod period;
pub mod plan;
pub mod projector;
pub mod range;
pub mod rebuild;
pub mod routes;
pub mod sales;
pub mod summary;

pub use rebuild::{RebuildReport, rebuild};
