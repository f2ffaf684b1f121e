//! How far behind the index is: pending changes, lag, failures (invariant 4).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// The backlog, as every search response reports it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    pub pending_changes: i64,
    /// Age of the oldest change not yet searchable, in milliseconds.
    pub lag_ms: i64,
}

/// A document the engine keeps refusing.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FailedDocument {
    pub order_id: Uuid,
    pub attempts: i32,
    pub error: String,
}

/// `GET /v1/search/status`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchStatus {
    pub backend: &'static str,
    pub documents: u64,
    pub pending_changes: i64,
    pub oldest_pending_age_ms: i64,
    pub last_indexed_at: Option<DateTime<Utc>>,
    pub reachable: bool,
    pub failed: Vec<FailedDocument>,
}

/// The outbox backlog: flagged orders and the age of the oldest flag, in one
/// statement whose plan is pinned to the outbox's partial index (the
/// `search_backlog()` function of migration 0006 says why).
pub async fn backlog(pool: &PgPool) -> sqlx::Result<Backlog> {
    let row: (i64, Option<f64>) =
        sqlx::query_as("select pending_changes, lag_ms from search_backlog()")
            .fetch_one(pool)
            .await?;
    Ok(Backlog::from_row(row))
}

/// The backlog, and the current versions of the flagged orders when there are
/// at most `listed` of them (`search_backlog_versions()`, migration 0011): an
/// order that is not flagged is indexed at its current version.
pub async fn backlog_with_versions(
    pool: &PgPool,
    listed: i32,
) -> sqlx::Result<(Backlog, Option<HashMap<Uuid, i32>>)> {
    let (pending_changes, lag_ms, ids, versions): (i64, Option<f64>, Vec<Uuid>, Vec<i32>) =
        sqlx::query_as(
            "select pending_changes, lag_ms, ids, versions from search_backlog_versions($1)",
        )
        .bind(listed)
        .fetch_one(pool)
        .await?;
    let backlog = Backlog::from_row((pending_changes, lag_ms));
    let complete = ids.len() <= usize::try_from(listed).unwrap_or(0);
    Ok((
        backlog,
        complete.then(|| ids.into_iter().zip(versions).collect()),
    ))
}

impl Backlog {
    /// From the `(pending_changes, lag_ms)` that `search_backlog()` returns.
    pub fn from_row((pending_changes, lag_ms): (i64, Option<f64>)) -> Backlog {
        Backlog {
            pending_changes,
            lag_ms: lag_ms.unwrap_or(0.0).max(0.0) as i64,
        }
    }
}

pub async fn last_indexed_at(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("select last_indexed_at from search_state")
        .fetch_one(pool)
        .await
}

/// Documents the engine refuses, in the stores `store` allows (all when `None`).
pub async fn failures(pool: &PgPool, store: Option<&str>) -> sqlx::Result<Vec<FailedDocument>> {
    sqlx::query_as(
        "select f.order_id, f.attempts, f.last_error as error
         from search_failures f join orders o on o.id = f.order_id
         where $1::text is null or o.store_id = $1
         order by f.attempts desc, f.updated_at desc limit 100",
    )
    .bind(store)
    .fetch_all(pool)
    .await
}

/// Waits until every change committed before the call is searchable, or the
/// deadline passes; returns whether it caught up.
pub async fn wait_until_fresh(pool: &PgPool, deadline: Duration) -> sqlx::Result<bool> {
    let target: Option<i64> = sqlx::query_scalar(
        "select max(change_stamp) from orders where indexed_stamp < change_stamp",
    )
    .fetch_one(pool)
    .await?;
    let Some(target) = target else {
        return Ok(true);
    };
    let started = Instant::now();
    loop {
        let behind: bool = sqlx::query_scalar(
            "select exists (select 1 from orders where indexed_stamp < change_stamp and change_stamp <= $1)",
        )
        .bind(target)
        .fetch_one(pool)
        .await?;
        if !behind {
            return Ok(true);
        }
        if started.elapsed() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
