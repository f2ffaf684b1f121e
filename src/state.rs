//! The shared, cheap-to-clone application state handed to every handler.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::analytics::kept::hours::KeptHours;
use crate::analytics::kept::products::KeptProducts;
use crate::analytics::range::ResolvedRanges;
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
    /// One permit per pooled connection API requests may use: a burst larger
    /// than the pool queues here, in arrival order, instead of timing out
    /// waiting for a connection.
    pub db_permits: Arc<Semaphore>,
    /// Analytics ranges already resolved against their store's calendar.
    pub ranges: Arc<ResolvedRanges>,
    /// Every product's figures per rollup period, for top-N lists.
    pub kept_products: Arc<KeptProducts>,
    /// Each UTC month's hours, for hourly sales.
    pub kept_hours: Arc<KeptHours>,
    /// How webhooks are delivered, and where they may go.
    pub webhooks: Arc<crate::webhooks::Settings>,
    /// Set once the server stops taking requests: long polls answer at once
    /// with what they have, so a graceful shutdown does not wait them out.
    pub draining: Arc<AtomicBool>,
}
