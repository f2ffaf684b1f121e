//! The shared, cheap-to-clone application state handed to every handler.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::search::engine::SearchEngine;

#[derive(Clone)]
pub struct AppState {
    /// The source of truth.
    pub db: PgPool,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The search engine behind the seam.
    pub search: SearchEngine,
    /// Set while a full reindex runs (one at a time).
    pub reindexing: Arc<AtomicBool>,
}
