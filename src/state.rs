//! The shared, cheap-to-clone application state handed to every handler.

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    /// The source of truth.
    pub db: PgPool,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}
