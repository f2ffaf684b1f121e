//! Analytics projector catch-up: the projector applying a backlog of one
//! `order.created` event per order (1 M by default) to an empty projection,
//! next to `rollups rebuild` recomputing the same rollups from the order rows,
//! in the same run on the same data; then whether both agree.
//!
//! `cargo bench --bench projector` (PostgreSQL at `DATABASE_URL` or
//! 127.0.0.1:5432; `BENCH_ORDERS=200000` for a smaller set). The data set is
//! seeded once into `bench_projector` and kept between runs.

mod support;

use std::time::Instant;

use indicatif::ProgressBar;
use sqlx::PgPool;

/// The rollup tables the projector writes, and its per-order state.
const PROJECTION: &str = "analytics_product_sales, analytics_category_sales, \
    analytics_customer_sales, analytics_hourly_sales, analytics_status_counts, \
    analytics_projected_orders";

#[tokio::main]
async fn main() {
    let orders: u64 = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let (_, pool) = support::seeded_database_named("bench_projector", orders).await;
    let events = backlog(&pool).await;

    let started = Instant::now();
    let report = ordersearch::analytics::rebuild(&pool, &ProgressBar::hidden())
        .await
        .unwrap();
    let rebuild = started.elapsed().as_secs_f64();
    let rebuilt = snapshot(&pool).await;

    reset_projection(&pool).await;
    let started = Instant::now();
    let applied = ordersearch::analytics::projector::catch_up(&pool)
        .await
        .unwrap();
    let catch_up = started.elapsed().as_secs_f64();
    let projected = snapshot(&pool).await;

    println!(
        "projector catch-up of {applied} order events      {:>9.0} events/s  {catch_up:>7.1} s",
        applied as f64 / catch_up
    );
    println!(
        "rollups rebuild of {} selling orders      {:>9.0} orders/s  {rebuild:>7.1} s",
        report.sales_orders,
        events as f64 / rebuild
    );
    println!(
        "ratio catch-up / rebuild (time)                {:>9.2}x",
        catch_up / rebuild
    );
    assert_eq!(applied as i64, events, "the projector read every event");
    assert!(
        projected == rebuilt,
        "the projected rollups differ from the rebuilt ones"
    );
    println!("projected rollups equal the rebuilt ones");
}

/// Makes the log hold one `order.created` event per order (written once and
/// kept): the order row as JSON, the status and deletion the projector reads
/// from it among the rest. Returns the number of order events.
async fn backlog(pool: &PgPool) -> i64 {
    let (orders, events): (i64, i64) = sqlx::query_as(
        "select (select count(*) from orders),
                (select count(*) from events where type = 'order.created')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    if events != orders {
        let started = Instant::now();
        for statement in [
            "truncate events",
            "insert into events (type, store_id, subject_id, subject_version, data)
             select 'order.created', store_id, id, version, to_jsonb(o) from orders o
             order by created_at",
            "vacuum analyze events",
        ] {
            sqlx::query(statement).execute(pool).await.unwrap();
        }
        println!(
            "wrote {orders} order events in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    orders
}

/// Empties the projection and moves the projector to the start of the log.
async fn reset_projection(pool: &PgPool) {
    let truncate = format!("truncate {PROJECTION}");
    sqlx::query(sqlx::AssertSqlSafe(truncate))
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("update event_readers set xact_id = '0', id = 0 where name = 'analytics'")
        .execute(pool)
        .await
        .unwrap();
}

/// Every rollup row, as text, in a fixed order.
async fn snapshot(pool: &PgPool) -> Vec<String> {
    let mut rows = Vec::new();
    for table in PROJECTION.split(", ").map(str::trim) {
        let query = format!("select t::text from {table} t order by 1");
        let mut table_rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_all(pool)
            .await
            .unwrap();
        rows.append(&mut table_rows);
    }
    rows
}
