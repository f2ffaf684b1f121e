//! Imports: order history brought in from a file, a paged HTTP feed or a
//! `POST /v1/imports` body (API.md "Imports").
//!
//! A run reads records from its source in batches; each record becomes an
//! order (`order`: parse and validate, `mapping` first for sources whose
//! names differ), its items are resolved against the catalog (`catalog`),
//! and each batch is written in one transaction with the run's position
//! (`write`, `update`, `run`), so a run that dies resumes after the last
//! batch that committed. Rejected records go to a rejects file (`rejects`).
//!
//! - [`input`]: files (NDJSON, JSON array, CSV; `.gz`; `-` for stdin);
//! - [`csv_rows`]: CSV rows to and from JSON objects with flattened names;
//! - [`http_source`]: json-server style paged feeds, with retries;
//! - [`engine`]: the run loop, its progress and its summary;
//! - [`cli`]: `ordersearch import file|http|status`;
//! - [`routes`]: `POST /v1/imports`, `GET /v1/imports/{id}`.

pub mod catalog;
pub mod cli;
pub mod csv_rows;
pub mod engine;
pub mod http_source;
pub mod input;
pub mod mapping;
pub mod order;
pub mod rejects;
pub mod routes;
pub mod run;
pub mod update;
pub mod write;

use serde::{Deserialize, Serialize};

/// The actor named on imported orders' timelines.
pub const ACTOR: &str = "import";

/// How a run treats what it reads (the same for every source).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The store orders without a `store` go to.
    pub store: String,
    /// A store-scoped key may import into its own store only.
    pub only_store: Option<String>,
    /// Validate and count, write nothing.
    pub dry_run: bool,
    /// Stop the run once more than this many orders were rejected.
    pub max_errors: Option<u64>,
    /// Add unknown SKUs given inline as inactive products.
    pub create_products: bool,
    /// Reserve stock for imported orders that are still open.
    pub reserve_stock: bool,
    /// Orders per transaction.
    pub batch: usize,
}

/// One record that was not imported: where, which order, and why.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectedOrder {
    /// The line (NDJSON, CSV) or element (JSON array, HTTP feed) number, from 1.
    pub line: u64,
    pub external_id: Option<String>,
    pub error: String,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}
