//! Foundation benchmark: zero-config cold start, warm start, idle memory, and
//! what auth + a database read cost per request (`GET /v1/products/{id}` next to
//! `GET /healthz` on the same server, concurrency 32).
//!
//! `cargo bench --bench foundation` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432).

mod support;

use serde_json::json;
use support::{ADMIN_KEY, client, fresh_database, load, report, start_server, temp_dir};

const CONCURRENCY: usize = 32;
const REQUESTS: usize = 20_000;

#[tokio::main]
async fn main() {
    // Zero-config: a private cluster is initialized, started and migrated.
    let data_dir = temp_dir("coldstart");
    let (mut cold, cold_ready) = start_server(None, data_dir.clone()).await;
    println!(
        "serve cold start to ready (initdb + start + migrate): {:>8.0} ms",
        cold_ready.as_secs_f64() * 1000.0
    );
    cold.keep_data = true;
    drop(cold);
    let (warm, warm_ready) = start_server(None, data_dir.clone()).await;
    println!(
        "serve warm start to ready (existing data):           {:>8.0} ms",
        warm_ready.as_secs_f64() * 1000.0
    );
    println!(
        "ratio cold / warm start:                              {:>8.1}x",
        cold_ready.as_secs_f64() / warm_ready.as_secs_f64()
    );
    drop(warm);

    let (url, _pool) = fresh_database("bench_foundation").await;
    let (server, _) = start_server(Some(&url), temp_dir("foundation")).await;
    println!(
        "RSS at idle:                                          {:>8.1} MiB",
        server.rss_mib()
    );
    let http = client(CONCURRENCY);
    let product: serde_json::Value = http
        .post(format!("{}/v1/products", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"sku": "BENCH-1", "name": "Bench mug", "category": "Kitchen", "price": "9.99", "stock": 10}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product_url = format!(
        "{}/v1/products/{}",
        server.base,
        product["id"].as_str().unwrap()
    );
    let health_url = format!("{}/healthz", server.base);

    // Warm both paths, then measure.
    for url in [&health_url, &product_url] {
        let (client, url) = (http.clone(), url.clone());
        load(CONCURRENCY, 2_000, move |_| {
            get(client.clone(), url.clone())
        })
        .await;
    }
    let (client_a, url_a) = (http.clone(), health_url.clone());
    let health = load(CONCURRENCY, REQUESTS, move |_| {
        get(client_a.clone(), url_a.clone())
    })
    .await;
    let (client_b, url_b) = (http.clone(), product_url.clone());
    let products = load(CONCURRENCY, REQUESTS, move |_| {
        get(client_b.clone(), url_b.clone())
    })
    .await;
    report(
        "GET /v1/products/{id} (c=32)",
        &products,
        "GET /healthz (c=32)",
        &health,
    );
    println!(
        "RSS after load:                                       {:>8.1} MiB",
        server.rss_mib()
    );
}

async fn get(client: reqwest::Client, url: String) -> bool {
    match client.get(&url).bearer_auth(ADMIN_KEY).send().await {
        Ok(response) => {
            let ok = response.status().is_success();
            let _ = response.bytes().await;
            ok
        }
        Err(_) => false,
    }
}
