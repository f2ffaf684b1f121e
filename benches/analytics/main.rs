//! Analytics benchmark at 1 000 000 seeded orders (issue #5), all figures from
//! one run:
//! - [`routes`]: every analytics route over HTTP (p50/p99 of sequential
//!   requests) for one store over the last 30 days, the last year and all
//!   history, next to the naive `GROUP BY` over orders ⋈ order_items answering
//!   the same question ([`naive`]), a few runs each; both answers are compared;
//! - [`rebuild`]: `ordersearch rollups rebuild` after live API writes on the
//!   seeded orders (creates, cancels, completions, deletes) gives exactly the
//!   live rollups;
//! - [`creation`]: what the rollups add to order creation, 3-line orders at
//!   concurrency 32 directly on PostgreSQL with (`create_order`) and without
//!   (`insert_order`) the rollup maintenance on a fresh small database, and
//!   the same over HTTP.
//!
//! `cargo bench --bench analytics` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432);
//! `cargo bench --bench analytics -- routes` takes the route figures alone.
//! Uses the seeded database `bench_search` of the search benchmark (created or
//! topped up: seeding is resumable) and leaves its few hundred writes in it.

#[path = "../support/mod.rs"]
mod support;

mod creation;
mod naive;
mod rebuild;
mod routes;

use std::time::{Duration, Instant};

use sqlx::PgPool;
use support::{start_server, temp_dir};

const ORDERS: u64 = 1_000_000;

#[tokio::main]
async fn main() {
    let (url, pool) = support::seeded_database(ORDERS).await;
    let (server, _) = start_server(Some(&url), temp_dir("analytics")).await;
    wait_for_indexer(&pool).await;
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
    creation::creation_cost().await;
    assert!(
        agreed,
        "a route answered differently from its naive GROUP BY"
    );
}

/// Waits until the server's search indexer has caught up (a freshly seeded
/// database has every order waiting), so it does not compete for the CPU.
async fn wait_for_indexer(pool: &PgPool) {
    let started = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from orders where indexed_stamp < change_stamp")
                .fetch_one(pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            println!("warning: {pending} orders still wait for the search indexer");
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if started.elapsed() > Duration::from_secs(5) {
        println!(
            "waited {:.0} s for the search indexer to catch up",
            started.elapsed().as_secs_f64()
        );
    }
}
