//! Building and running the HTTP application: what `serve` and the tests share.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::search::engine::SearchEngine;
use crate::state::AppState;

/// How often expired idempotency records and events past retention are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// How often the search backlog gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// A gauge refresh slower than `GAUGE_INTERVAL / GAUGE_PACE` waits this many
/// times its own length before the next.
const GAUGE_PACE: u32 = 20;

/// Days events are kept unless configured otherwise.
pub const DEFAULT_EVENT_RETENTION_DAYS: u32 = 30;

/// Connections kept free of API requests, for the indexer and housekeeping.
const RESERVED_CONNECTIONS: u32 = 3;

/// The application's state for a pool and a search engine.
pub fn state(pool: PgPool, search: SearchEngine) -> AppState {
    let permits = pool
        .options()
        .get_max_connections()
        .saturating_sub(RESERVED_CONNECTIONS)
        .max(1);
    AppState {
        db_permits: Arc::new(tokio::sync::Semaphore::new(permits as usize)),
        db: pool,
        metrics: crate::telemetry::metrics_handle(),
        search,
        reindexing: Arc::new(AtomicBool::new(false)),
        ranges: Arc::default(),
        kept_products: Arc::default(),
        kept_hours: Arc::default(),
        draining: Arc::default(),
        webhooks: Arc::new(crate::webhooks::Settings::from_env()),
    }
}

/// The whole router: what tests drive in-process.
pub fn app(pool: PgPool, search: SearchEngine) -> Router {
    crate::http::router(state(pool, search))
}

/// A bound listener and the app to serve on it.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    run_indexer: bool,
    event_retention_days: u32,
    relay_url: Option<String>,
}

impl Application {
    /// Binds `address` (port 0 picks a free port) and builds the app.
    pub async fn build(
        pool: PgPool,
        search: SearchEngine,
        address: SocketAddr,
        run_indexer: bool,
    ) -> anyhow::Result<Self> {
        let listener = listen(address).with_context(|| format!("binding {address}"))?;
        let state = state(pool, search);
        Ok(Self {
            listener,
            router: crate::http::router(state.clone()),
            state,
            run_indexer,
            event_retention_days: DEFAULT_EVENT_RETENTION_DAYS,
            relay_url: None,
        })
    }

    /// Relays the event log to the AMQP broker at `url`, when one is given.
    pub fn with_relay(mut self, url: Option<String>) -> Self {
        self.relay_url = url;
        self
    }

    /// Keeps events this many days before housekeeping prunes them.
    pub fn with_event_retention(mut self, days: u32) -> Self {
        self.event_retention_days = days;
        self
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and
    /// stops the background work (the indexer finishes its batch first).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let mut background = vec![
            tokio::spawn(purge_idempotency_keys(
                self.state.db.clone(),
                stopped.clone(),
            )),
            tokio::spawn(refresh_search_gauges(
                self.state.db.clone(),
                stopped.clone(),
            )),
            tokio::spawn(compact_rollups(self.state.db.clone(), stopped.clone())),
            tokio::spawn(crate::analytics::projector::run(
                self.state.db.clone(),
                stopped.clone(),
            )),
            tokio::spawn(prune_events(
                self.state.db.clone(),
                self.event_retention_days,
                stopped.clone(),
            )),
        ];
        background.push(tokio::spawn(crate::webhooks::dispatch::run(
            self.state.db.clone(),
            (*self.state.webhooks).clone(),
            stopped.clone(),
        )));
        if let Some(url) = self.relay_url {
            let relay = crate::events::relay::run(self.state.db.clone(), url, stopped.clone());
            background.push(tokio::spawn(relay));
        }
        if self.run_indexer {
            // Off the start path (a slow engine must not delay serving), and
            // before the indexer, whose first delivery would make a lost
            // index look merely new.
            // A rebuild at start is left unfinished by a shutdown (the next
            // start finds the index empty again and rebuilds it).
            let state = self.state.clone();
            background.push(tokio::spawn(async move {
                let mut stopping = stopped.clone();
                tokio::select! {
                    () = crate::search::rebuild::rebuild_at_start(&state) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                crate::search::indexer::run(state.db.clone(), state.search.clone(), stopped).await;
            }));
        }
        let draining = self.state.draining.clone();
        let shutdown = async move {
            shutdown.await;
            draining.store(true, std::sync::atomic::Ordering::Relaxed);
        };
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        let _ = stop.send(true);
        for task in background {
            let _ = task.await;
        }
        served
    }
}

/// A listener with a deep accept queue: bursts of thousands of new connections
/// wait for `accept` instead of being dropped by the kernel (capped by somaxconn).
fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    const ACCEPT_BACKLOG: u32 = 8192;
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Runs `work` at once and then every `interval` until `stopped` turns true.
async fn every<Work, Done>(interval: Duration, stopped: watch::Receiver<bool>, work: Work)
where
    Work: FnMut() -> Done,
    Done: Future<Output = ()>,
{
    every_paced(interval, 0, stopped, work).await
}

/// [`every`], but a run that took longer than `interval / pace` is followed by
/// a pause of `pace` times its own length: the work never takes more than
/// `1 / (pace + 1)` of a core, however slow it gets.
async fn every_paced<Work, Done>(
    interval: Duration,
    pace: u32,
    mut stopped: watch::Receiver<bool>,
    mut work: Work,
) where
    Work: FnMut() -> Done,
    Done: Future<Output = ()>,
{
    while !*stopped.borrow() {
        let started = tokio::time::Instant::now();
        work().await;
        let pause = interval.max(started.elapsed() * pace);
        let _ = tokio::time::timeout(pause, stopped.changed()).await;
    }
}

async fn purge_idempotency_keys(pool: PgPool, stopped: watch::Receiver<bool>) {
    every(PURGE_INTERVAL, stopped, || async {
        match crate::http::idempotency::purge_expired(&pool).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "purging idempotency keys failed"
            ),
        }
    })
    .await;
}

/// Deletes events past retention (`events::feed::prune`).
async fn prune_events(pool: PgPool, retention_days: u32, stopped: watch::Receiver<bool>) {
    every(PURGE_INTERVAL, stopped, || async {
        match crate::events::feed::prune(&pool, retention_days).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned events past retention"),
            Err(error) => tracing::warn!(error = %error, "pruning events failed"),
        }
    })
    .await;
}

/// Keeps the `search_pending_changes` and `search_index_lag_ms` gauges current.
/// Counting the backlog is linear in its length (1.1–1.6 s at a million flagged
/// orders: ~20 % of a core at a 5 s interval while that many wait), so a slow
/// count is paced to at most 1/21 of a core.
async fn refresh_search_gauges(pool: PgPool, stopped: watch::Receiver<bool>) {
    every_paced(GAUGE_INTERVAL, GAUGE_PACE, stopped, || async {
        if let Ok(backlog) = crate::search::status::backlog(&pool).await {
            metrics::gauge!("search_pending_changes").set(backlog.pending_changes as f64);
            metrics::gauge!("search_index_lag_ms").set(backlog.lag_ms as f64);
        }
    })
    .await;
}

/// Folds the shard rows of closed periods in the rollups
/// (`analytics_rows_folded_total` counts the shard-0 rows written).
async fn compact_rollups(pool: PgPool, stopped: watch::Receiver<bool>) {
    use crate::analytics::compact;
    every(compact::COMPACT_INTERVAL, stopped, || async {
        match compact::compact(&pool, chrono::Utc::now()).await {
            Ok(report) => {
                metrics::counter!("analytics_rows_folded_total").increment(report.folded_into)
            }
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "folding the rollups' closed periods failed"
            ),
        }
    })
    .await;
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn slow_work_is_paced_by_its_own_length_and_stops_when_asked() {
        let (stop, stopped) = watch::channel(false);
        let starts = Arc::new(Mutex::new(Vec::new()));
        let recorded = starts.clone();
        let runner = tokio::spawn(every_paced(
            Duration::from_millis(10),
            20,
            stopped,
            move || {
                recorded.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(5))
            },
        ));
        let deadline = Instant::now() + Duration::from_secs(20);
        while starts.lock().unwrap().len() < 3 {
            assert!(Instant::now() < deadline, "it runs again and again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stop.send(true).unwrap();
        runner.await.unwrap();
        let starts = starts.lock().unwrap();
        for pair in starts.windows(2) {
            let gap = pair[1] - pair[0];
            // 5 ms of work, then 20 times that (not the 10 ms interval).
            assert!(gap >= Duration::from_millis(105), "{gap:?} between runs");
        }
    }
}
