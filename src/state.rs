//! The shared, cheap-to-clone application state handed to every handler.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::analytics::closed::ClosedPeriods;
use crate::analytics::closed_hours::ClosedHours;
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
    /// Product figures of closed periods, for top-N lists.
    pub closed_periods: Arc<ClosedPeriods>,
    /// Hours of closed UTC months, for hourly sales.
    pub closed_hours: Arc<ClosedHours>,
    /// How webhooks are delivered, and where they may go.
    pub webhooks: Arc<crate::webhooks::Settings>,
    /// Set once the server stops taking requests: long polls answer at once
    /// with what they have, so a graceful shutdown does not wait them out.
    pub draining: Arc<AtomicBool>,
}
