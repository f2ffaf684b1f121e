//! Order search: the staff query language, the engines behind one seam, and the
//! outbox indexer that feeds them.

pub mod config;
pub mod document;
pub mod embedded;
pub mod engine;
pub mod export;
pub mod highlight;
pub mod indexer;
pub mod meili;
pub mod normalize;
pub mod query;
pub mod rebuild;
pub mod reconcile;
pub mod reindex;
pub mod routes;
pub mod service;
pub mod status;
