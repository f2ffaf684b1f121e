//! Full rebuilds started in the background while the service serves: on an
//! admin's request, and at start when the index was lost (a new data
//! directory, a wiped Meilisearch) while PostgreSQL still says every order
//! was delivered to it, which the outbox alone would never repair.

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
    tokio::spawn(async move {
        let progress = indicatif::ProgressBar::hidden();
        match super::reindex::reindex(&state.db, &state.search, &progress).await {
            Ok(report) => tracing::info!(?report, "reindex finished"),
            Err(error) => tracing::error!(error = format!("{error:#}"), "reindex failed"),
        }
        state.reindexing.store(false, Ordering::SeqCst);
    });
    true
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

/// Rebuilds the index in the background if it was lost; a check that fails
/// (the engine unreachable) is logged and leaves the index as it is.
pub async fn rebuild_if_lost(state: &AppState) {
    match index_was_lost(&state.db, &state.search).await {
        Ok(true) => {
            tracing::warn!("the search index is empty but orders were delivered to it: rebuilding");
            start_in_background(state);
        }
        Ok(false) => {}
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "could not check whether the search index was lost"
        ),
    }
}
