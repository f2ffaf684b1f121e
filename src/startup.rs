//! Building and running the HTTP application: what `serve` and the tests share.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::state::AppState;

/// How often expired idempotency records are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// The application's state for a pool.
pub fn state(pool: PgPool) -> AppState {
    AppState {
        db: pool,
        metrics: crate::telemetry::metrics_handle(),
    }
}

/// The whole router for a pool: what tests drive in-process.
pub fn app(pool: PgPool) -> Router {
    crate::http::router(state(pool))
}

/// A bound listener and the app to serve on it.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Binds `address` (port 0 picks a free port) and builds the app.
    pub async fn build(pool: PgPool, address: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let state = state(pool);
        Ok(Self {
            listener,
            router: crate::http::router(state.clone()),
            state,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let purge = tokio::spawn(purge_idempotency_keys(self.state.db.clone()));
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        purge.abort();
        served
    }
}

async fn purge_idempotency_keys(pool: PgPool) {
    let mut ticks = tokio::time::interval(PURGE_INTERVAL);
    loop {
        ticks.tick().await;
        match crate::http::idempotency::purge_expired(&pool).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "purging idempotency keys failed"
            ),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; draining requests");
}
