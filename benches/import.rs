//! Import throughput (issue 19): `ordersearch import file` of N orders with 3
//! lines each from NDJSON, against `seed` writing N orders in the same run
//! (its own database, same catalog size), both with their rollup rebuild;
//! then what the import leaves to the readers (the analytics projector and
//! the search indexer catching up on its events and outbox stamps) against
//! `rollups rebuild` plus `reindex` on the same data.
//!
//! `cargo bench --bench import` (N = 100 000); `BENCH_IMPORT_ORDERS=1000000
//! cargo bench --bench import` for the figure. PostgreSQL at
//! `DATABASE_URL` or 127.0.0.1:5432.

mod support;

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use ordersearch::search::embedded::EmbeddedEngine;
use ordersearch::search::engine::SearchEngine;
use ordersearch::seed::{SeedOptions, seed};
use serde_json::json;
use sqlx::PgPool;
use support::{fresh_database, temp_dir};

const DEFAULT_ORDERS: u64 = 100_000;
const PRODUCTS: usize = 1000;
const STATUSES: [&str; 10] = [
    "completed",
    "completed",
    "completed",
    "completed",
    "completed",
    "completed",
    "completed",
    "cancelled",
    "shipped",
    "pending",
];

fn options(orders: u64) -> SeedOptions {
    SeedOptions {
        orders,
        stores: vec!["default".into()],
        products: PRODUCTS,
        ..SeedOptions::default()
    }
}

/// N orders of 3 different catalog products, placed over the last two years.
fn write_history(path: &std::path::Path, orders: u64, skus: &[String]) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    let now = chrono::Utc::now() - chrono::Duration::hours(1);
    for n in 0..orders {
        let at = now - chrono::Duration::seconds(((n * 7919) % (730 * 86_400)) as i64);
        let status = STATUSES[(n % 10) as usize];
        let items: Vec<_> = (0..3)
            .map(|line| {
                let sku = &skus[((n as usize) * 7 + line * 331) % skus.len()];
                json!({"sku": sku, "quantity": 1 + (n + line as u64) % 3})
            })
            .collect();
        let order = json!({
            "external_id": format!("legacy-{n}"), "created_at": at.to_rfc3339(), "status": status,
            "customer": {"id": format!("cus-{}", n % 50_000), "email": format!("buyer{}@example.com", n % 50_000),
                          "name": "Legacy Buyer"},
            "shipping_address": {"name": "Legacy Buyer", "line1": "Rynek 1", "city": "Kraków",
                                 "postal_code": "30-001", "country": "PL"},
            "tags": ["legacy"],
            "items": items
        });
        serde_json::to_writer(&mut out, &order).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

fn rate(orders: u64, elapsed: Duration) -> f64 {
    orders as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn engine(name: &str) -> SearchEngine {
    let dir = temp_dir(name);
    SearchEngine::Embedded(Arc::new(EmbeddedEngine::open(&dir).unwrap()))
}

/// Projector and indexer from where the import left them to caught up.
async fn catch_up(pool: &PgPool) -> (Duration, Duration) {
    let started = Instant::now();
    loop {
        ordersearch::analytics::projector::catch_up(pool)
            .await
            .unwrap();
        let status = ordersearch::analytics::freshness::status(pool)
            .await
            .unwrap();
        if status.pending_events == 0 {
            break;
        }
    }
    let projector = started.elapsed();
    let search = engine("import-catch-up");
    let started = Instant::now();
    ordersearch::search::indexer::catch_up(pool, &search)
        .await
        .unwrap();
    (projector, started.elapsed())
}

#[tokio::main]
async fn main() {
    let orders: u64 = std::env::var("BENCH_IMPORT_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_ORDERS);
    println!("import benchmark: {orders} orders of 3 lines");

    let (_, seed_pool) = fresh_database("bench_import_seed").await;
    let seeded = seed(&seed_pool, &options(orders), false).await.unwrap();
    seed_pool.close().await;

    let (url, pool) = fresh_database("bench_import").await;
    seed(&pool, &options(0), false).await.unwrap();
    let skus: Vec<String> =
        sqlx::query_scalar("select sku from products where store_id = 'default' order by sku")
            .fetch_all(&pool)
            .await
            .unwrap();
    let dir = temp_dir("import");
    let history = dir.join("history.ndjson");
    write_history(&history, orders, &skus);
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ordersearch"))
        .args(["import", "file"])
        .arg(&history)
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let imported = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    print!("{}", String::from_utf8_lossy(&output.stdout));

    // Both write the orders, then recompute the rollups from them (the
    // import does so at the end of a run that created 10 000 or more).
    let seed_total = seeded.elapsed + seeded.rollups.unwrap_or_default();
    let import_rate = rate(orders, imported);
    let seed_rate = rate(orders, seed_total);
    println!(
        "{:<44} {import_rate:>9.0} orders/s ({:.1} s with the rollups, process start included)",
        "import file (NDJSON, 3 lines)",
        imported.as_secs_f64()
    );
    println!(
        "{:<44} {seed_rate:>9.0} orders/s ({:.1} s with the rollups; {:.0} orders/s writing alone)",
        "seed (COPY)",
        seed_total.as_secs_f64(),
        seeded.orders_per_second()
    );
    println!(
        "{:<44} {:>9.2}x",
        "ratio import / seed",
        import_rate / seed_rate
    );

    sqlx::query("analyze").execute(&pool).await.unwrap();
    let (projector, indexer) = catch_up(&pool).await;
    let started = Instant::now();
    ordersearch::analytics::rebuild(&pool, &ProgressBar::hidden())
        .await
        .unwrap();
    let rebuild = started.elapsed();
    let started = Instant::now();
    ordersearch::search::reindex::reindex(&pool, &engine("import-reindex"), &ProgressBar::hidden())
        .await
        .unwrap();
    let reindex = started.elapsed();
    let follow = projector + indexer;
    let redo = rebuild + reindex;
    println!(
        "{:<44} {:>9.1} s (projector {:.1} s, indexer {:.1} s)",
        "readers catching up on the import",
        follow.as_secs_f64(),
        projector.as_secs_f64(),
        indexer.as_secs_f64()
    );
    println!(
        "{:<44} {:>9.1} s (rollups rebuild {:.1} s, reindex {:.1} s)",
        "rollups rebuild + reindex, same data",
        redo.as_secs_f64(),
        rebuild.as_secs_f64(),
        reindex.as_secs_f64()
    );
    println!(
        "{:<44} {:>9.2}x",
        "ratio catch-up / (rebuild + reindex)",
        follow.as_secs_f64() / redo.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}
