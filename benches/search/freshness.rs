//! Freshness: lag from a write's commit to its change being searchable, at a
//! sustained write rate.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{ADMIN_KEY, Stats};
use crate::{WRITE_SECONDS, WRITES_PER_SECOND};

/// Sustained writes; lag from each write's commit to its change being searchable.
pub async fn freshness(http: &reqwest::Client, base: &str, pool: &PgPool) {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from orders where deleted_at is null order by md5(id::text) limit 5000",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let total = (WRITES_PER_SECOND * WRITE_SECONDS) as usize;
    let (sent, mut received) = tokio::sync::mpsc::unbounded_channel::<(Uuid, i64, Instant)>();
    let watcher_pool = pool.clone();
    let watcher = tokio::spawn(async move {
        let mut waiting: HashMap<Uuid, (i64, Instant)> = HashMap::new();
        let mut lags = Vec::new();
        let mut open = true;
        while open || !waiting.is_empty() {
            while let Ok((id, stamp, at)) = received.try_recv() {
                waiting.insert(id, (stamp, at));
            }
            if received.is_closed() && received.is_empty() {
                open = false;
            }
            if !waiting.is_empty() {
                let keys: Vec<Uuid> = waiting.keys().copied().collect();
                let done: Vec<(Uuid, i64)> =
                    sqlx::query_as("select id, indexed_stamp from orders where id = any($1)")
                        .bind(&keys)
                        .fetch_all(&watcher_pool)
                        .await
                        .unwrap();
                let now = Instant::now();
                for (id, indexed) in done {
                    if let Some((stamp, at)) = waiting.get(&id).copied()
                        && indexed >= stamp
                    {
                        lags.push(now - at);
                        waiting.remove(&id);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags
    });
    let interval = Duration::from_secs_f64(1.0 / WRITES_PER_SECOND as f64);
    let mut ticker = tokio::time::interval(interval);
    let started = Instant::now();
    let mut writers = Vec::new();
    for index in 0..total {
        ticker.tick().await;
        let (http, base, pool, sent, id) = (
            http.clone(),
            base.to_string(),
            pool.clone(),
            sent.clone(),
            ids[index % ids.len()],
        );
        writers.push(tokio::spawn(async move {
            let body = serde_json::json!({"note": format!("freshness probe {index}")});
            let response = http
                .patch(format!("{base}/v1/orders/{id}"))
                .bearer_auth(ADMIN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            let committed = Instant::now();
            assert!(response.status().is_success());
            let stamp: i64 = sqlx::query_scalar("select change_stamp from orders where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            let _ = sent.send((id, stamp, committed));
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    drop(sent);
    let lags = watcher.await.unwrap();
    let stats = Stats::from_latencies(lags, 0, 1.0);
    println!(
        "freshness at {achieved:.0} writes/s for {WRITE_SECONDS} s: commit → searchable p50 {:.1} ms, p99 {:.1} ms ({} writes)",
        stats.p50_ms, stats.p99_ms, stats.requests
    );
}
