//! Order creation benchmark: 3-line orders over HTTP at concurrency 32 next to
//! pgbench running the minimum SQL of the same order against the same
//! PostgreSQL in the same run; then bursts of 1 000 and 10 000 concurrent creates
//! that must produce no error other than the intended 409s (short stock).
//!
//! `cargo bench --bench orders` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432);
//! `cargo bench --bench orders -- bursts` runs the bursts alone, `-- lag` the
//! projector's lag at 200 orders/s alone.

mod pgbench;
#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::{
    ADMIN_KEY, Stats, admin_get, client, fresh_database, load, report, start_server, temp_dir,
};

const CONCURRENCY: usize = 32;
const ORDERS: usize = 4_000;
const PRODUCTS: usize = 300;

/// A 3-line order for request `index`, over the catalog `SKU-0..SKU-299`.
fn order_body(index: usize, hot_sku: Option<&str>) -> Value {
    let skus: Vec<String> = (0..3)
        .map(|line| format!("SKU-{}", (index * 7 + line * 101) % PRODUCTS))
        .collect();
    let mut items: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"sku": sku, "quantity": 1 + line_qty(index)}))
        .collect();
    if let Some(hot) = hot_sku {
        items[0] = json!({"sku": hot, "quantity": 1});
    }
    json!({
        "customer": {"id": format!("cus_{}", index % 5000), "email": format!("buyer{}@example.com", index % 5000),
                      "name": "Bench Buyer", "phone": "+48 600 100 200"},
        "items": items,
        "shipping_address": {"name": "Bench Buyer", "line1": "Rynek 1", "city": "Kraków", "postal_code": "30-001", "country": "PL"},
        "tags": ["bench"]
    })
}

fn line_qty(index: usize) -> usize {
    index % 2
}

#[tokio::main]
async fn main() {
    let (url, pool) = fresh_database("bench_orders").await;
    let (server, _) = start_server(Some(&url), temp_dir("orders")).await;
    let http = client(CONCURRENCY);
    support::create_products(&http, &server.base, PRODUCTS).await;

    let base = server.base.clone();
    let only = |part: &str| std::env::args().any(|arg| arg == part);
    if !only("bursts") && !only("lag") {
        throughput(&http, &base, &pool).await;
    }
    if !only("bursts") {
        projector_lag(&http, &base).await;
    }
    if only("lag") {
        return;
    }

    for burst in [1_000usize, 10_000] {
        let hot = format!("HOT-{burst}");
        let stock = burst / 2;
        let body = json!({"sku": hot, "name": "Hot item", "category": "Bench", "price": "5.00", "stock": stock});
        http.post(format!("{}/v1/products", server.base))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
            u16,
            usize,
        >::new()));
        let (client, base, seen, hot_sku) =
            (client(burst), base.clone(), statuses.clone(), hot.clone());
        let stats = load(burst, burst, move |index| {
            let (client, base, seen, hot_sku) =
                (client.clone(), base.clone(), seen.clone(), hot_sku.clone());
            async move {
                let status = post_order(&client, &base, &order_body(index, Some(&hot_sku))).await;
                *seen.lock().unwrap().entry(status).or_default() += 1;
                status == 201 || status == 409
            }
        })
        .await;
        let statuses = statuses.lock().unwrap().clone();
        println!(
            "burst of {burst:>6} concurrent creates (hot stock {stock}): {:>7.0}/s  p50 {:>8.1} ms  p99 {:>8.1} ms  statuses {statuses:?}  unintended errors {}",
            stats.per_second(),
            stats.p50_ms,
            stats.p99_ms,
            stats.errors
        );
    }
    println!("server RSS after the run: {:.1} MiB", server.rss_mib());
}

/// 3-line orders over HTTP at concurrency 32, with the service's search
/// indexer and analytics projector running, next to pgbench running the
/// minimum SQL of the same order (`minimum.sql`) in a database of its own on
/// the same PostgreSQL; then how long the readers take to drain.
async fn throughput(http: &reqwest::Client, base: &str, pool: &sqlx::PgPool) {
    let (client_http, base_http) = (http.clone(), base.to_string());
    let over_http = load(CONCURRENCY, ORDERS, move |index| {
        let (client, base) = (client_http.clone(), base_http.clone());
        async move { post_order(&client, &base, &order_body(index, None)).await == 201 }
    })
    .await;
    let drained = wait_until_drained(http, base).await;
    let minimum = pgbench::minimum_sql(pool, CONCURRENCY, ORDERS).await;
    report(
        "POST /v1/orders over HTTP (3 lines, c=32)",
        &over_http,
        "pgbench, the minimum SQL of the order",
        &minimum,
    );
    println!("search index and analytics caught up {drained:.2} s after the last write");
}

/// The projector's lag (`/v1/analytics/status`, sampled every 50 ms) while
/// orders arrive at a steady 200/s for 30 s.
async fn projector_lag(http: &reqwest::Client, base: &str) {
    const RATE: u64 = 200;
    const SECONDS: u64 = 30;
    let sampling = {
        let (http, base) = (http.clone(), base.to_string());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let started = std::time::Instant::now();
            while started.elapsed().as_secs() < SECONDS {
                let status = admin_get(&http, &format!("{base}/v1/analytics/status")).await;
                samples.push(std::time::Duration::from_millis(
                    status["lag_ms"].as_u64().unwrap_or(u64::MAX),
                ));
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            samples
        })
    };
    let mut ticks = tokio::time::interval(std::time::Duration::from_micros(1_000_000 / RATE));
    let mut requests = Vec::new();
    for index in 0..(RATE * SECONDS) as usize {
        ticks.tick().await;
        let (http, base) = (http.clone(), base.to_string());
        requests.push(tokio::spawn(async move {
            post_order(&http, &base, &order_body(index + 2 * ORDERS, None)).await
        }));
    }
    let mut failed = 0;
    for request in requests {
        failed += usize::from(request.await.unwrap() != 201);
    }
    let lag = Stats::from_latencies(sampling.await.unwrap(), 0, 1.0);
    println!(
        "projector lag at {RATE} orders/s for {SECONDS} s: p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms \
         ({} samples; {failed} orders failed)",
        lag.p50_ms, lag.p99_ms, lag.max_ms, lag.requests
    );
}

/// Waits until the search outbox and the analytics projector have nothing
/// pending; the seconds it took.
async fn wait_until_drained(http: &reqwest::Client, base: &str) -> f64 {
    let started = std::time::Instant::now();
    loop {
        let search = admin_get(http, &format!("{base}/v1/search/status")).await;
        let analytics = admin_get(http, &format!("{base}/v1/analytics/status")).await;
        if search["pending_changes"] == 0 && analytics["pending_events"] == 0 {
            return started.elapsed().as_secs_f64();
        }
        assert!(
            started.elapsed().as_secs() < 600,
            "readers did not drain: {search} {analytics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Posts an order; the status, or 0 when the request failed at the transport.
async fn post_order(client: &reqwest::Client, base: &str, body: &Value) -> u16 {
    match client
        .post(format!("{base}/v1/orders"))
        .bearer_auth(ADMIN_KEY)
        .json(body)
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
        Err(error) => {
            static REPORTED: std::sync::Once = std::sync::Once::new();
            REPORTED.call_once(|| eprintln!("first transport error: {error:?}"));
            0
        }
    }
}
