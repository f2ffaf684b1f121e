//! The baseline of the order bench: pgbench running `minimum.sql`, the least
//! SQL one 3-line order needs, in a database of its own on the same
//! PostgreSQL (so the service's readers never index or project its orders).

use std::process::Command;

use sqlx::PgPool;

use crate::support::{Stats, fresh_database, temp_dir};

/// The script, written where pgbench can read it.
const SCRIPT: &str = include_str!("minimum.sql");

/// Runs `orders` transactions of the script at `concurrency` clients. `source`
/// is the bench's service database: its first `order.created` event's `data`
/// is what every baseline event carries, so both sides write rows of one size.
pub async fn minimum_sql(source: &PgPool, concurrency: usize, orders: usize) -> Stats {
    let event_data: serde_json::Value = sqlx::query_scalar(
        "select data from events where type = 'order.created' order by id limit 1",
    )
    .fetch_one(source)
    .await
    .unwrap();
    let (url, pool) = fresh_database("bench_orders_sql").await;
    for statement in [
        "insert into products (id, store_id, sku, name, category, price, cost, stock)
         select gen_random_uuid(), 'default', 'SKU-' || n, 'Product ' || n, 'Bench', 9.99, 4.00, 1000000
         from generate_series(0, 299) n",
        "create table bench_event_data (data jsonb not null)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    sqlx::query("insert into bench_event_data values ($1)")
        .bind(&event_data)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("vacuum analyze").execute(&pool).await.unwrap();

    let dir = temp_dir("pgbench");
    let script = dir.join("minimum.sql");
    std::fs::write(&script, SCRIPT).unwrap();
    let output = Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared", "--jobs=2", "--log"])
        .arg(format!("--client={concurrency}"))
        .arg(format!("--transactions={}", orders / concurrency))
        .arg(format!("--file={}", script.display()))
        .arg(format!("--log-prefix={}", dir.join("log").display()))
        .arg(&url)
        .output()
        .expect("pgbench runs (Debian: postgresql-client)");
    assert!(
        output.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stats = from_logs(&dir);
    let written: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        written as usize, stats.requests,
        "every transaction wrote its order"
    );
    stats
}

/// Reads pgbench's per-transaction logs (`client transaction latency_us script
/// epoch_s epoch_us`, one file per job) into latencies and the elapsed time
/// from the first start to the last end.
fn from_logs(dir: &std::path::Path) -> Stats {
    let mut latencies = Vec::new();
    let (mut first_start, mut last_end) = (f64::MAX, f64::MIN);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("log")
        {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let fields: Vec<f64> = line
                .split_whitespace()
                .map(|field| field.parse().unwrap())
                .collect();
            let latency = fields[2] / 1e6;
            let end = fields[4] + fields[5] / 1e6;
            first_start = first_start.min(end - latency);
            last_end = last_end.max(end);
            latencies.push(std::time::Duration::from_secs_f64(latency));
        }
    }
    Stats::from_latencies(latencies, 0, last_end - first_start)
}
