//! Analytics benchmark at 1 000 000 seeded orders (issue #5), all figures from
//! one run:
//! - [`routes`]: every analytics route over HTTP (p50/p99 of sequential
//!   requests) for one store over the last 30 days, the last year and all
//!   history, next to the naive `GROUP BY` over orders ⋈ order_items answering
//!   the same question ([`reference`], the tests' own recomputation
//!   [`naive`]), a few runs each; both answers are compared;
//! - [`rebuild`]: `ordersearch rollups rebuild` after live API writes on the
//!   seeded orders (creates, cancels, completions, deletes) gives exactly the
//!   live rollups.
//!
//! Order creation, which no longer touches the rollups, is measured by
//! `cargo bench --bench orders` (against pgbench), and the projector's
//! catch-up by `cargo bench --bench projector`.
//!
//! `cargo bench --bench analytics` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432);
//! `cargo bench --bench analytics -- routes` takes the route figures alone.
//! Uses the seeded database `bench_search` of the search benchmark (created or
//! topped up: seeding is resumable) and leaves its few hundred writes in it.

#[path = "../support/mod.rs"]
mod support;

#[path = "../../tests/api/analytics/naive.rs"]
mod naive;
mod rebuild;
mod reference;
mod routes;

use std::time::{Duration, Instant};

use sqlx::PgPool;
use support::{start_server, temp_dir};

const ORDERS: u64 = 1_000_000;

#[tokio::main]
async fn main() {
    let (url, pool) = support::seeded_database(ORDERS).await;
    let (server, _) = start_server(Some(&url), temp_dir("analytics")).await;
    wait_for_indexer(&pool, &server.base).await;
    // Autovacuum may be off or behind: every plan below gets fresh statistics.
    sqlx::query("analyze").execute(&pool).await.unwrap();
    let http = support::client(8);
    let agreed = routes::measure(&http, &server.base, &pool).await;
    if std::env::args().any(|arg| arg == "routes") {
        assert!(
            agreed,
            "a route answered differently from its naive GROUP BY"
        );
        return;
    }
    rebuild::rebuild_equals_live(&http, &server.base, &pool, &url).await;
    drop(server);
    assert!(
        agreed,
        "a route answered differently from its naive GROUP BY"
    );
}

/// Waits until the server's search index holds every order, so indexing does
/// not compete for the CPU: a freshly seeded database has every order waiting
/// for the indexer, and a new data directory over an indexed one is rebuilt.
async fn wait_for_indexer(pool: &PgPool, base: &str) {
    let started = Instant::now();
    let http = reqwest::Client::new();
    loop {
        let (orders, pending): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where indexed_stamp < change_stamp) from orders",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let status = support::admin_get(&http, &format!("{base}/v1/search/status")).await;
        if pending == 0 && status["documents"].as_i64() == Some(orders) {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            println!("warning: {pending} orders still wait for the search indexer: {status}");
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if started.elapsed() > Duration::from_secs(5) {
        println!(
            "waited {:.0} s for the search index to hold every order",
            started.elapsed().as_secs_f64()
        );
    }
}
