//! Full rebuilds while the service serves: on an admin's request (in the
//! background), and at start, before the indexer, for an empty index that was
//! lost (a new data directory, a wiped Meilisearch) while PostgreSQL still says
//! every order was delivered to it, which the outbox alone would never repair,
//! or that many orders wait to be indexed for the first time.

use std::sync::atomic::Ordering;

use sqlx::PgPool;

use super::engine::SearchEngine;
use crate::state::AppState;

/// Starts [`super::reindex::reindex`] in the background; `false` (and nothing
/// started) when a rebuild is already running.
pub fn start_in_background(state: &AppState) -> bool {
    if state.reindexing.swap(true, Ordering::SeqCst) {
        return false;
    }
    let state = state.clone();
    tokio::spawn(async move { rebuild_claimed(&state).await });
    true
}

/// Runs a rebuild the caller claimed by setting `state.reindexing`, logs how it
/// ended, and releases the claim.
async fn rebuild_claimed(state: &AppState) {
    let progress = indicatif::ProgressBar::hidden();
    match super::reindex::reindex(&state.db, &state.search, &progress).await {
        Ok(report) => tracing::info!(?report, "reindex finished"),
        Err(error) => tracing::error!(error = format!("{error:#}"), "reindex failed"),
    }
    state.reindexing.store(false, Ordering::SeqCst);
}

/// Whether the index was lost: it holds no document, yet some order's
/// latest change is marked delivered to it.
pub async fn index_was_lost(pool: &PgPool, engine: &SearchEngine) -> anyhow::Result<bool> {
    if engine.document_count().await? > 0 {
        return Ok(false);
    }
    let delivered: bool = sqlx::query_scalar(
        "select exists (select 1 from orders where indexed_stamp >= change_stamp)",
    )
    .fetch_one(pool)
    .await?;
    Ok(delivered)
}

/// Flagged orders from which a first indexing of an empty index is a bulk
/// rebuild rather than the outbox: the rebuild reads pages in id order and
/// writes large engine batches (tens of thousands of documents a second, where
/// the outbox's batches of a thousand manage a few thousand).
pub const BULK_BACKLOG: i64 = 10_000;

/// Whether at least [`BULK_BACKLOG`] orders wait for the index (counted no
/// further than that, on the outbox's partial index).
pub async fn backlog_is_bulk(pool: &PgPool) -> anyhow::Result<bool> {
    let bulk: bool = sqlx::query_scalar(
        "select count(*) >= $1 from (
             select 1 from orders where indexed_stamp < change_stamp limit $1) flagged",
    )
    .bind(BULK_BACKLOG)
    .fetch_one(pool)
    .await?;
    Ok(bulk)
}

/// Why an empty index is rebuilt at start, if it is.
async fn reason_to_rebuild(
    pool: &PgPool,
    engine: &SearchEngine,
) -> anyhow::Result<Option<&'static str>> {
    if engine.document_count().await? > 0 {
        return Ok(None);
    }
    if index_was_lost(pool, engine).await? {
        return Ok(Some(
            "the search index is empty but orders were delivered to it",
        ));
    }
    if backlog_is_bulk(pool).await? {
        return Ok(Some("a first indexing of many orders"));
    }
    Ok(None)
}

/// At start, before the indexer: rebuilds an empty index in bulk when it was
/// lost, or when many orders wait for their first indexing (after `seed` or an
/// import), and returns when it is swapped in; the indexer then delivers what
/// changed meanwhile. Search answers from the empty index until the swap. A
/// check that fails (the engine unreachable) is logged and leaves the outbox
/// to it.
pub async fn rebuild_at_start(state: &AppState) {
    let reason = match reason_to_rebuild(&state.db, &state.search).await {
        Ok(Some(reason)) => reason,
        Ok(None) => return,
        Err(error) => {
            return tracing::warn!(
                error = format!("{error:#}"),
                "could not check whether the search index needs a rebuild"
            );
        }
    };
    if state.reindexing.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::warn!(reason, "rebuilding the search index in bulk");
    rebuild_claimed(state).await;
}
