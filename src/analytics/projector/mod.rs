//! The analytics projector (invariant 6): the rollups are a projection of the
//! event log. Order writes no longer touch them; the projector reads the
//! order events in commit order, in batches of hundreds, sums what they change
//! per rollup row in memory ([`contribution`]), and writes those sums, the
//! orders' projected states and its position (the `analytics` row of
//! `event_readers`, so pruning never passes it) in one transaction
//! ([`batch`], [`write`]). A crash loses the batch's transaction, never half
//! of it: no event is counted twice or skipped.
//!
//! Undoing what an order contributed (a cancel, a delete) needs the state it
//! leaves, which an event does not always say (a cancel leaves `pending` or
//! `processing`, and the status counts differ). So the projector keeps each
//! order's projected state — status, deleted, and the event version it came
//! from — in its own table, `analytics_projected_orders` (migration 0015),
//! updated in the batch's transaction. The version makes applying idempotent:
//! an event at or below it is already counted. That is what lets `rollups
//! rebuild` (and `seed`) recompute the rollups and every projected state from
//! the orders in one snapshot and set the position a little behind it: the
//! events it re-reads are recognised as counted. The facts an event cannot
//! change (lines, total, customer, times) are read from the order rows.
//!
//! One projector is active per deployment: it holds an advisory lock; other
//! replicas stand by and take over when it dies. It runs in `serve` and as
//! `ordersearch analytics`.

pub mod batch;
pub mod contribution;
pub mod write;

use std::time::Duration;

use sqlx::{Connection as _, PgPool};
use tokio::sync::watch;

pub use batch::Applied;

/// The projector's row in `event_readers`.
pub const READER: &str = "analytics";
/// The advisory lock key of "the projector".
const PROJECTOR_LOCK: i64 = 0x616e_616c_7974;
/// Events per batch (and transaction) when the projector keeps up.
const BATCH: i64 = 500;
/// The most events per batch. Behind (after an import, a restore, an outage),
/// each full batch doubles the next one up to this: the rows a batch writes
/// grow far slower than its events (a day's orders share their product, day
/// and period rows), which is where catching up gets its speed.
const MAX_BATCH: i64 = 32_000;
/// How often an idle projector looks for new events.
const IDLE_POLL: Duration = Duration::from_millis(25);
/// How often the lag gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// How long a standby, or a projector that failed, waits before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// Runs the projector until `shutdown` turns true, standing by while another
/// holds the lock.
pub async fn run(pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(error) = lead(&pool, &mut shutdown).await {
            metrics::counter!("analytics_projector_failures_total").increment(1);
            tracing::warn!(
                error = format!("{error:#}"),
                "analytics projector stopped; retrying"
            );
        }
        let _ = tokio::time::timeout(RETRY, shutdown.changed()).await;
    }
}

/// Takes the lock (or returns) and applies batches while holding it.
async fn lead(pool: &PgPool, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    // A connection of its own: the session lock lives exactly as long as it.
    let mut lock = pool.acquire().await?.detach();
    let leader: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(PROJECTOR_LOCK)
        .fetch_one(&mut lock)
        .await?;
    if !leader {
        return Ok(());
    }
    tracing::info!("this process is the analytics projector");
    let mut gauges_at = tokio::time::Instant::now() - GAUGE_INTERVAL;
    let mut limit = BATCH;
    while !*shutdown.borrow() {
        if gauges_at.elapsed() >= GAUGE_INTERVAL {
            gauges_at = tokio::time::Instant::now();
            record_lag(pool).await?;
        }
        let (applied, next) = apply_batch(pool, limit).await?;
        limit = next;
        if applied.events < BATCH as usize {
            lock.ping().await?;
            let _ = tokio::time::timeout(IDLE_POLL, shutdown.changed()).await;
        }
    }
    Ok(())
}

/// Applies one batch of up to `limit` events in its own transaction; returns
/// what it did and the limit of the next batch.
async fn apply_batch(pool: &PgPool, limit: i64) -> anyhow::Result<(Applied, i64)> {
    let mut tx = pool.begin().await?;
    // Batch statements are large but simple: compiling them costs more than
    // it saves.
    sqlx::query("set local jit = off").execute(&mut *tx).await?;
    let applied = batch::apply(&mut tx, limit).await?;
    tx.commit().await?;
    metrics::counter!("analytics_events_projected_total").increment(applied.events as u64);
    let next = if applied.events as i64 >= limit {
        (limit * 2).min(MAX_BATCH)
    } else {
        BATCH
    };
    Ok((applied, next))
}

/// Applies batches until one finds the log read to its head. Returns the
/// events read.
pub async fn catch_up(pool: &PgPool) -> anyhow::Result<usize> {
    let (mut total, mut limit) = (0, BATCH);
    loop {
        let (applied, next) = apply_batch(pool, limit).await?;
        total += applied.events;
        if applied.events < limit as usize {
            return Ok(total);
        }
        limit = next;
    }
}

/// Sets the `analytics_projector_pending_events` and
/// `analytics_projector_lag_ms` gauges.
async fn record_lag(pool: &PgPool) -> anyhow::Result<()> {
    let status = super::freshness::status(pool).await?;
    metrics::gauge!("analytics_projector_pending_events").set(status.pending_events as f64);
    metrics::gauge!("analytics_projector_lag_ms").set(status.lag_ms as f64);
    Ok(())
}
