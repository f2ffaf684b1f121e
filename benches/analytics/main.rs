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
//! `cargo bench --bench analytics` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432).
//! Uses the seeded database `bench_search` of the search benchmark (created or
//! topped up: seeding is resumable) and leaves its few hundred writes in it.

#[path = "../support/mod.rs"]
mod support;

mod creation;
mod naive;
mod rebuild;
mod routes;

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, PgPool};
use support::{server_options, start_server, temp_dir};

const DATABASE: &str = "bench_search";
const ORDERS: u64 = 1_000_000;

#[tokio::main]
async fn main() {
    let (url, pool) = seeded_database().await;
    let (server, _) = start_server(Some(&url), temp_dir("analytics")).await;
    wait_for_indexer(&pool).await;
    // Autovacuum may be off or behind: every plan below gets fresh statistics.
    sqlx::query("analyze").execute(&pool).await.unwrap();
    let http = support::client(8);
    let agreed = routes::measure(&http, &server.base, &pool).await;
    rebuild::rebuild_equals_live(&http, &server.base, &pool, &url).await;
    drop(server);
    creation::creation_cost().await;
    assert!(
        agreed,
        "a route answered differently from its naive GROUP BY"
    );
}

/// The `bench_search` database with its seeded orders (created or topped up);
/// its URL and a pool.
async fn seeded_database() -> (String, PgPool) {
    let options = server_options();
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        let create = format!("create database {DATABASE}");
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let options = options.database(DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options.clone())
        .await
        .unwrap();
    ordersearch::db::migrate(&pool).await.unwrap();
    let seeding = ordersearch::seed::SeedOptions {
        orders: ORDERS,
        stores: vec!["default".into(), "eu".into(), "us".into()],
        ..Default::default()
    };
    let seeded = ordersearch::seed::seed(&pool, &seeding, false)
        .await
        .unwrap();
    if seeded.written > 0 {
        println!(
            "seeded {} orders at {:.0} orders/s",
            seeded.written,
            seeded.orders_per_second()
        );
    }
    (options.to_url_lossy().to_string(), pool)
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
