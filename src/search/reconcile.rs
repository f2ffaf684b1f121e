//! Reconcile: compares every order's change stamp in the index with the
//! database, flags again what differs or is missing, and removes documents that
//! have no order, including documents the service did not write.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::engine::{Indexed, SearchEngine, UNREADABLE_STAMP};

/// Orders compared per database page.
const PAGE: i64 = 50_000;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ReconcileReport {
    pub orders_checked: u64,
    pub documents_checked: u64,
    /// Orders with no document: queued again.
    pub missing: u64,
    /// Documents at another change stamp than the order: queued again.
    pub stale: u64,
    /// Documents without an order: removed.
    pub orphans: u64,
    /// Documents the service did not write (no order id, or no readable
    /// stamp: another tool's, an older shape): removed, or replaced by the
    /// order's document. Counted among `orphans` or `stale` too.
    pub unreadable: u64,
}

pub async fn reconcile(pool: &PgPool, engine: &SearchEngine) -> anyhow::Result<ReconcileReport> {
    let Indexed { stamps, foreign } = engine.indexed().await?;
    let unreadable_stamps = stamps
        .iter()
        .filter(|(_, stamp)| *stamp == UNREADABLE_STAMP)
        .count();
    let mut indexed: HashMap<Uuid, i64> = stamps.into_iter().collect();
    let mut report = ReconcileReport {
        documents_checked: (indexed.len() + foreign.len()) as u64,
        orphans: foreign.len() as u64,
        unreadable: (unreadable_stamps + foreign.len()) as u64,
        ..ReconcileReport::default()
    };
    engine.delete_foreign(foreign).await?;
    let mut after: Option<Uuid> = None;
    loop {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "select id, change_stamp from orders where ($1::uuid is null or id > $1) order by id limit $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some(last.0);
        report.orders_checked += rows.len() as u64;
        let mut requeue = Vec::new();
        for (id, stamp) in rows {
            match indexed.remove(&id) {
                None => {
                    report.missing += 1;
                    requeue.push(id);
                }
                Some(indexed_stamp) if indexed_stamp != stamp => {
                    report.stale += 1;
                    requeue.push(id);
                }
                Some(_) => {}
            }
        }
        // `search_state` first, as the indexer and a rebuild's swap lock it
        // before the many order rows they update (no deadlock between them).
        let mut tx = pool.begin().await?;
        sqlx::query("select 1 from search_state for update")
            .execute(&mut *tx)
            .await?;
        sqlx::query("update orders set indexed_stamp = 0 where id = any($1)")
            .bind(&requeue)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let orphans: Vec<Uuid> = indexed.into_keys().collect();
    report.orphans += orphans.len() as u64;
    if !orphans.is_empty() {
        engine.delete(orphans).await?;
    }
    Ok(report)
}
