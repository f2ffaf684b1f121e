//! Full rebuild into a fresh index, swapped in when complete; search serves the
//! old index meanwhile. Changes made during the rebuild reach the new index: the
//! scan starts after every transaction in flight has ended, and at the swap the
//! generation changes and every order changed since the scan began is flagged
//! again in the same transaction (see `search_state`), while every other order
//! is marked delivered: the scan saw it as it still is.

use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::document;
use super::engine::SearchEngine;

/// Orders read per page of the scan.
const PAGE: i64 = 5000;
/// Orders marked delivered at the swap above which `orders` is vacuumed.
const VACUUM_AFTER: u64 = 10_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReindexReport {
    pub documents: u64,
    pub seconds: f64,
    pub documents_per_second: f64,
    /// Orders changed during the rebuild, flagged again for the new index.
    pub requeued: u64,
}

/// Rebuilds the whole index. `progress` is ticked per document.
pub async fn reindex(
    pool: &PgPool,
    engine: &SearchEngine,
    progress: &ProgressBar,
) -> anyhow::Result<ReindexReport> {
    let started = Instant::now();
    let total: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(pool)
        .await?;
    progress.set_length(u64::try_from(total).unwrap_or_default());
    let scan_start_stamp: i64 = sqlx::query_scalar("select last_value from order_change_seq")
        .fetch_one(pool)
        .await?;
    wait_for_older_transactions(pool).await?;
    engine
        .begin_rebuild()
        .await
        .context("starting a fresh index")?;
    // Reading the next page from PostgreSQL overlaps with indexing this one.
    let (pages, mut received) = tokio::sync::mpsc::channel(2);
    let reader = tokio::spawn(read_pages(pool.clone(), pages));
    let mut documents = 0u64;
    while let Some(page) = received.recv().await {
        documents += page.len() as u64;
        progress.inc(page.len() as u64);
        engine
            .rebuild_upsert(page)
            .await
            .context("writing the fresh index")?;
    }
    reader.await.context("the page reader stopped")??;
    let sent = started.elapsed();
    engine
        .finish_rebuild()
        .await
        .context("swapping in the fresh index")?;
    let swapped = started.elapsed();
    // The new index is live: the flags must now follow it, or changes made
    // during the rebuild would be missing from it while marked delivered.
    let mut attempt = 1;
    let (requeued, delivered) = loop {
        match settle_flags(pool, scan_start_stamp).await {
            Ok(counts) => break counts,
            Err(error) if attempt < SETTLE_ATTEMPTS && is_transient(&error) => {
                tracing::warn!(error = %error, attempt, "settling the flags after a swap; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                attempt += 1;
            }
            Err(error) => return Err(error).context("settling the outbox flags after the swap"),
        }
    };
    if delivered > VACUUM_AFTER {
        super::indexer::vacuum_outbox(pool.clone()).await;
    }
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        documents,
        sent_s = sent.as_secs_f64(),
        confirmed_and_swapped_s = swapped.as_secs_f64(),
        total_s = seconds,
        "reindex phases"
    );
    Ok(ReindexReport {
        documents,
        seconds,
        documents_per_second: documents as f64 / seconds.max(1e-9),
        requeued,
    })
}

/// Tries of [`settle_flags`] before a rebuild gives up.
const SETTLE_ATTEMPTS: u64 = 5;

/// In one transaction after the swap: a new generation (voiding acknowledgements
/// of batches read before it), every order changed since the scan began flagged
/// again, every other one marked delivered. Returns (requeued, delivered).
///
/// `search_state` is locked first, as the indexer's acknowledgement locks it
/// before the orders it updates: two writers of many order rows that took them
/// in different orders could deadlock.
async fn settle_flags(pool: &PgPool, scan_start_stamp: i64) -> sqlx::Result<(u64, u64)> {
    let mut tx = pool.begin().await?;
    sqlx::query("update search_state set generation = generation + 1")
        .execute(&mut *tx)
        .await?;
    // Orders unchanged since the scan began are in the new index as they are now;
    // the others go again through the outbox.
    let requeued = sqlx::query("update orders set indexed_stamp = 0 where change_stamp > $1")
        .bind(scan_start_stamp)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let delivered = sqlx::query(
        "update orders set indexed_stamp = change_stamp
         where change_stamp <= $1 and indexed_stamp <> change_stamp",
    )
    .bind(scan_start_stamp)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok((requeued, delivered))
}

/// A deadlock or serialization failure: the same transaction may succeed again.
fn is_transient(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// Sends every order's document, a page at a time, in id order.
async fn read_pages(
    pool: PgPool,
    pages: tokio::sync::mpsc::Sender<Vec<document::OrderDocument>>,
) -> anyhow::Result<()> {
    let mut after: Option<Uuid> = None;
    loop {
        let mut conn = pool.acquire().await?;
        let page = document::load_page(&mut conn, after, PAGE).await?;
        drop(conn);
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.id);
        if pages.send(page).await.is_err() {
            return Ok(());
        }
    }
}

/// Waits until every transaction that was running when this was called has ended,
/// so a change stamped before the scan started is committed before it reads.
///
/// The horizon is a transaction id of our own: every transaction that held an
/// id before has a lower one, and they have all ended once the oldest running
/// id is past ours. (Not the snapshot's `xmax`: one past the latest *completed*
/// id, it can sit at an id still running, which then looked ended.)
async fn wait_for_older_transactions(pool: &PgPool) -> anyhow::Result<()> {
    let horizon: String = sqlx::query_scalar("select pg_current_xact_id()::text")
        .fetch_one(pool)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done: bool =
            sqlx::query_scalar("select pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8")
                .bind(&horizon)
                .fetch_one(pool)
                .await?;
        if done {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "transactions older than the rebuild did not end"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
