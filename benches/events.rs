//! Event relay benchmark: `POST /v1/orders` at concurrency 32 on a server
//! without the relay, then on one relaying every event to RabbitMQ, then
//! without again (same database, same run); then orders at a steady 200/s
//! with the relay, timing each event from the request's start to its arrival
//! in a queue bound to `ordersearch.events` (an upper bound of commit →
//! broker confirm: it includes the write itself and the delivery).
//!
//! `cargo bench --bench events` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432,
//! RabbitMQ at `AMQP_URL` or amqp://guest:guest@127.0.0.1:5672/%2f).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{
    ADMIN_KEY, Server, Stats, client, fresh_database, load, report, start_server_with, temp_dir,
};

const CONCURRENCY: usize = 32;
const ORDERS: usize = 3_000;
const PRODUCTS: usize = 300;
/// The steady rate of the latency phase, and how long it lasts.
const RATE: u64 = 200;
const STEADY_SECONDS: u64 = 15;

async fn create(http: &reqwest::Client, base: &str, body: &Value) -> bool {
    let response = http
        .post(format!("{base}/v1/orders"))
        .bearer_auth(ADMIN_KEY)
        .json(body)
        .send()
        .await;
    matches!(response, Ok(response) if response.status() == 201)
}

async fn throughput(server: &Server, phase: &'static str) -> Stats {
    let (http, base) = (client(CONCURRENCY), server.base.clone());
    load(CONCURRENCY, ORDERS, move |index| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            create(
                &http,
                &base,
                &support::three_line_order(index, phase, PRODUCTS),
            )
            .await
        }
    })
    .await
}

/// Orders at `RATE` per second for `STEADY_SECONDS`; each one's request start,
/// and the statuses that were not 201.
async fn steady(server: &Server) -> (HashMap<String, Instant>, usize) {
    let http = client(64);
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let mut sent = HashMap::new();
    let mut tasks = Vec::new();
    for index in 0..(RATE * STEADY_SECONDS) as usize {
        ticks.tick().await;
        let body = support::three_line_order(index, "steady", PRODUCTS);
        sent.insert(format!("steady-{index}"), Instant::now());
        let (http, base) = (http.clone(), server.base.clone());
        tasks.push(tokio::spawn(
            async move { create(&http, &base, &body).await },
        ));
    }
    let mut errors = 0;
    for task in tasks {
        if !task.await.unwrap() {
            errors += 1;
        }
    }
    (sent, errors)
}

/// Whether the relay has published every event committed so far.
async fn relay_caught_up(http: &reqwest::Client, server: &Server) -> bool {
    let status = support::admin_get(http, &format!("{}/v1/events/status", server.base)).await;
    status["relay"]["events_behind"] == 0
}

#[tokio::main]
async fn main() {
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let (url, _pool) = fresh_database("bench_events").await;
    let quiet = [("ORDERSEARCH_NO_INDEXER", "true")];
    let (plain, _) = start_server_with(Some(&url), temp_dir("events-plain"), &quiet).await;
    let http = client(CONCURRENCY);
    support::create_products(&http, &plain.base, PRODUCTS).await;

    let before = throughput(&plain, "before").await;
    let relaying = [
        ("ORDERSEARCH_NO_INDEXER", "true"),
        ("ORDERSEARCH_AMQP_URL", amqp.as_str()),
    ];
    let (relay, _) = start_server_with(Some(&url), temp_dir("events-relay"), &relaying).await;
    let with_relay = throughput(&relay, "relay").await;
    report(
        "POST /v1/orders with the relay (c=32)",
        &with_relay,
        "without the relay, before",
        &before,
    );
    let after = throughput(&plain, "after").await;
    report(
        "POST /v1/orders with the relay (c=32)",
        &with_relay,
        "without the relay, after",
        &after,
    );

    let caught_up = Instant::now();
    while !relay_caught_up(&http, &relay).await {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "the relay caught up {:.1} s after the last write",
        caught_up.elapsed().as_secs_f64()
    );
    let arrivals = support::broker::consume(&amqp, "order.created").await;
    let (sent, errors) = steady(&relay).await;
    let started = Instant::now();
    let arrived_at = || -> HashMap<String, Instant> {
        let arrivals = arrivals.lock().unwrap();
        arrivals
            .iter()
            .filter_map(|(at, event)| {
                Some((event["data"]["external_id"].as_str()?.to_string(), *at))
            })
            .collect()
    };
    while arrived_at().len() < sent.len() - errors && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrivals = arrived_at();
    let latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, at)| arrivals.get(id).map(|arrived| arrived.duration_since(*at)))
        .collect();
    let missing = sent.len() - errors - latencies.len();
    let stats = Stats::from_latencies(latencies, errors, STEADY_SECONDS as f64);
    println!(
        "{RATE} orders/s for {STEADY_SECONDS} s with the relay: request start → event at the queue p50 {:.1} ms, p99 {:.1} ms; {errors} write errors, {missing} events missing",
        stats.p50_ms, stats.p99_ms
    );
    drop(relay);
    drop(plain);
}
