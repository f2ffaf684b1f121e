//! Done-when 3 at scale: live writes through the API on the seeded orders,
//! then every rollup table digested before and after `ordersearch rollups
//! rebuild`; the two must be identical.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::{ADMIN_KEY, load};

/// Seeded orders walked through each move.
const PER_MOVE: i64 = 40;

/// What live writes do to seeded orders, by their status: cancels, completions
/// and deletes, and moves that change no sales figure.
const SEEDED_MOVES: [(&str, &[&str]); 7] = [
    ("pending", &["cancelled"]),
    ("pending", &["processing", "shipped", "completed"]),
    ("processing", &["cancelled", "delete"]),
    ("processing", &["shipped"]),
    ("shipped", &["completed"]),
    ("completed", &["delete"]),
    ("cancelled", &["delete"]),
];

/// What happens to a new order after its creation, by its index.
const NEW_MOVES: [&[&str]; 5] = [
    &[],
    &["cancelled"],
    &["processing", "shipped", "completed"],
    &["delete"],
    &["processing", "shipped", "completed", "delete"],
];

/// Done-when 3 at scale: live writes through the API, projected, then the
/// rollups before and after `ordersearch rollups rebuild` must be identical.
pub async fn rebuild_equals_live(http: &reqwest::Client, base: &str, pool: &PgPool, url: &str) {
    let writes = live_writes(http, base, pool).await;
    // The rollups follow the writes through the projector: caught up first.
    ordersearch::analytics::projector::catch_up(pool)
        .await
        .expect("projecting the live writes");
    let live = fingerprint(pool).await;
    let started = Instant::now();
    let rebuild = Command::new(env!("CARGO_BIN_EXE_ordersearch"))
        .args(["rollups", "rebuild"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running ordersearch rollups rebuild");
    let took = started.elapsed();
    assert!(
        rebuild.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuild.stderr)
    );
    println!("{}", String::from_utf8_lossy(&rebuild.stdout).trim());
    let rebuilt = fingerprint(pool).await;
    for ((table, rows, digest), (_, _, again)) in live.iter().zip(&rebuilt) {
        println!("  {table}: {rows} rows, live {digest}, rebuilt {again}");
    }
    let identical = live == rebuilt;
    println!(
        "rollups rebuild after {writes} live API writes: {} to the live rollups; `ordersearch rollups rebuild` took {:.1} s",
        if identical { "identical" } else { "DIFFERENT" },
        took.as_secs_f64()
    );
    assert!(identical, "live rollups differ from a rebuild");
}

/// An order a live write starts from: a new one (its body) or a seeded one.
enum Start {
    New(Value),
    Seeded(String),
}

/// New orders in every store, each then moved along, and seeded orders
/// cancelled, completed and deleted; returns the number of API writes.
async fn live_writes(http: &reqwest::Client, base: &str, pool: &PgPool) -> usize {
    let catalogs: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select store_id, array_agg(sku order by sku) from (
            select store_id, sku, row_number() over (partition by store_id order by md5(id::text)) as n
            from products where active and stock >= 100) p
         where n <= 50 group by store_id order by store_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut walks: Vec<(Start, &'static [&'static str])> = Vec::new();
    for index in 0..300 {
        let (store, skus) = &catalogs[index % catalogs.len()];
        let items: Vec<Value> = (0..3)
            .map(|line| json!({"sku": skus[(index * 7 + line * 17) % skus.len()], "quantity": 1 + index % 2}))
            .collect();
        let customer = json!({"id": format!("bench_cus_{}", index % 40)});
        let body = json!({"store": store, "customer": customer, "items": items});
        walks.push((Start::New(body), NEW_MOVES[index % NEW_MOVES.len()]));
    }
    for (status, steps) in SEEDED_MOVES {
        for id in seeded_orders(pool, status).await {
            walks.push((Start::Seeded(id), steps));
        }
    }
    let writes = walks
        .iter()
        .map(|(start, steps)| usize::from(matches!(start, Start::New(_))) + steps.len())
        .sum();
    let (client, base) = (http.clone(), base.to_string());
    let walks = Arc::new(walks);
    let stats = load(8, walks.len(), move |index| {
        let (client, base, walks) = (client.clone(), base.clone(), walks.clone());
        async move {
            let (start, steps) = &walks[index];
            walk(&client, &base, start, steps).await
        }
    })
    .await;
    assert_eq!(stats.errors, 0, "live writes failed");
    writes
}

/// `PER_MOVE` seeded orders in `status` (different ones on every run).
async fn seeded_orders(pool: &PgPool, status: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select id::text from orders
         where status = $1 and deleted_at is null and external_id like 'seed-%'
         order by md5(id::text || now()::text) limit $2",
    )
    .bind(status)
    .bind(PER_MOVE)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Creates the order (when new) and walks it through `steps` (statuses, or
/// `delete`); whether every write succeeded.
async fn walk(http: &reqwest::Client, base: &str, start: &Start, steps: &[&str]) -> bool {
    let id = match start {
        Start::New(body) => {
            let sent = http
                .post(format!("{base}/v1/orders"))
                .bearer_auth(ADMIN_KEY)
                .json(body)
                .send()
                .await;
            let response = match sent.and_then(|response| response.error_for_status()) {
                Ok(response) => response,
                Err(error) => return failed("create", &error),
            };
            let created: Value = response.json().await.unwrap_or_default();
            created["id"].as_str().unwrap_or_default().to_string()
        }
        Start::Seeded(id) => id.clone(),
    };
    let url = format!("{base}/v1/orders/{id}");
    for step in steps {
        let request = match *step {
            "delete" => http.delete(&url),
            status => http.patch(&url).json(&json!({ "status": status })),
        };
        let sent = request.bearer_auth(ADMIN_KEY).send().await;
        if let Err(error) = sent.and_then(|response| response.error_for_status()) {
            return failed(step, &error);
        }
    }
    true
}

/// Says which write of a walk failed and how; false.
fn failed(step: &str, error: &reqwest::Error) -> bool {
    println!("live write `{step}` failed: {error}");
    false
}

/// Each rollup table: its rows as the tests' `snapshot` renders them (numbers
/// at a fixed scale; sharded tables summed over their shards, which are storage
/// that compaction and rebuilds lay out differently) and their key.
const ROLLUP_TABLES: [(&str, &str, &str); 5] = [
    (
        "analytics_product_sales",
        "select store_id, grain, period, product_id, quantity, round(revenue, 6), orders, lines,
                lines_without_cost, round(costed_revenue, 6), round(cost, 6)
         from analytics_product_sales",
        "store_id, grain, period, product_id",
    ),
    (
        "analytics_category_sales",
        "select store_id, grain, period, category, round(sum(revenue), 6), sum(quantity), sum(orders)
         from analytics_category_sales group by 1, 2, 3, 4
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(quantity) <> 0",
        "store_id, grain, period, category",
    ),
    (
        "analytics_customer_sales",
        "select store_id, customer_id, day, orders, round(revenue, 6), first_at, last_at
         from analytics_customer_sales",
        "store_id, customer_id, day",
    ),
    (
        "analytics_hourly_sales",
        "select store_id, hour, sum(orders), round(sum(revenue), 6)
         from analytics_hourly_sales group by 1, 2 having sum(orders) <> 0 or sum(revenue) <> 0",
        "store_id, hour",
    ),
    (
        "analytics_status_counts",
        "select store_id, grain, period, status, sum(orders), round(sum(revenue), 6),
                round(sum(processing_seconds), 6)
         from analytics_status_counts group by 1, 2, 3, 4
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(processing_seconds) <> 0",
        "store_id, grain, period, status",
    ),
];

/// Per rollup table: its rows and the md5 of all of them in key order.
async fn fingerprint(pool: &PgPool) -> Vec<(&'static str, i64, String)> {
    let mut digests = Vec::new();
    for (table, rows, key) in ROLLUP_TABLES {
        let sql = format!(
            "select count(*), coalesce(md5(string_agg(md5(r::text), '' order by {key})), '')
             from ({rows}) r"
        );
        let (rows, digest): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .unwrap();
        digests.push((table, rows, digest));
    }
    digests
}
