//! Webhook and relay delivery under load: 10 000 3-line orders at concurrency
//! 32 (every tenth also moved to `processing`) on a server without webhooks
//! or the relay, then on one relaying to RabbitMQ and delivering to two
//! webhook endpoints on loopback, one healthy and one answering 500 for its
//! first 30 s. Checks that every event of the loaded phase reached the queue
//! and both endpoints once per id after dedupe, each order's in version
//! order, with 0 write errors, and prints the throughput ratio.
//!
//! `cargo bench --bench webhooks` (PostgreSQL at `DATABASE_URL` or
//! 127.0.0.1:5432, RabbitMQ at `AMQP_URL` or amqp://guest:guest@127.0.0.1:5672/%2f;
//! `BENCH_ORDERS` overrides the 10 000).

#[path = "../tests/api/webhooks/receiver.rs"]
mod receiver;
mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use receiver::{Behaviour, Receiver};
use serde_json::{Value, json};
use support::{
    ADMIN_KEY, Server, Stats, client, fresh_database, load, report, start_server_with, temp_dir,
};

const CONCURRENCY: usize = 32;
const PRODUCTS: usize = 300;
/// How long the failing endpoint answers 500.
const FAILING_FOR: Duration = Duration::from_secs(30);
/// How long delivery may take after the last write before the run fails.
const DRAIN_DEADLINE: Duration = Duration::from_secs(300);

/// Creates an order, and moves every tenth to `processing`.
async fn write(http: &reqwest::Client, base: &str, index: usize, phase: &str) -> bool {
    let created = http
        .post(format!("{base}/v1/orders"))
        .bearer_auth(ADMIN_KEY)
        .json(&support::three_line_order(index, phase, PRODUCTS))
        .send()
        .await;
    let Ok(created) = created else { return false };
    if created.status() != 201 {
        return false;
    }
    if !index.is_multiple_of(10) {
        return true;
    }
    let Ok(order) = created.json::<Value>().await else {
        return false;
    };
    let moved = http
        .patch(format!(
            "{base}/v1/orders/{}",
            order["id"].as_str().unwrap_or_default()
        ))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"status": "processing"}))
        .send()
        .await;
    matches!(moved, Ok(moved) if moved.status() == 200)
}

async fn phase(server: &Server, orders: usize, name: &'static str) -> Stats {
    let (http, base) = (client(CONCURRENCY), server.base.clone());
    load(CONCURRENCY, orders, move |index| {
        let (http, base) = (http.clone(), base.clone());
        async move { write(&http, &base, index, name).await }
    })
    .await
}

async fn register(http: &reqwest::Client, base: &str, url: &str) {
    let response = http
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"url": url, "types": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// `(event id, subject, version)` of every event a consumer kept, first arrival
/// per id, in arrival order.
fn deduped(events: impl IntoIterator<Item = Value>) -> Vec<(String, String, i64)> {
    let mut seen = HashSet::new();
    events
        .into_iter()
        .filter_map(|event| {
            let id = event["id"].as_str()?.to_string();
            seen.insert(id.clone()).then(|| {
                let subject = event["subject_id"].as_str().unwrap_or_default().to_string();
                (
                    id,
                    subject,
                    event["subject_version"].as_i64().unwrap_or_default(),
                )
            })
        })
        .collect()
}

/// Events missing from `got` and subjects seen out of version order.
fn check(name: &str, expected: &HashSet<String>, got: &[(String, String, i64)]) -> bool {
    let ids: HashSet<&String> = got.iter().map(|(id, _, _)| id).collect();
    let missing = expected.iter().filter(|id| !ids.contains(id)).count();
    let mut last: HashMap<&str, i64> = HashMap::new();
    let out_of_order = got
        .iter()
        .filter(|(_, subject, version)| {
            last.insert(subject, *version)
                .is_some_and(|before| before > *version)
        })
        .count();
    println!(
        "{name:<28} {:>6} events once per id, {missing} missing, {out_of_order} out of version order",
        got.len()
    );
    missing == 0 && out_of_order == 0
}

#[tokio::main]
async fn main() {
    let orders: usize = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let (url, pool) = fresh_database("bench_webhooks").await;
    let quiet = [("ORDERSEARCH_NO_INDEXER", "true")];
    let (plain, _) = start_server_with(Some(&url), temp_dir("webhooks-plain"), &quiet).await;
    let http = client(CONCURRENCY);
    support::create_products(&http, &plain.base, PRODUCTS).await;
    let without = phase(&plain, orders, "without").await;
    drop(plain);

    let healthy = Receiver::start(Behaviour::Healthy).await;
    let failing = Receiver::start(Behaviour::FailFor(FAILING_FOR)).await;
    let relaying = [
        ("ORDERSEARCH_NO_INDEXER", "true"),
        ("ORDERSEARCH_AMQP_URL", amqp.as_str()),
    ];
    let (server, _) = start_server_with(Some(&url), temp_dir("webhooks-all"), &relaying).await;
    let queue = support::broker::consume(&amqp, "#").await;
    register(&http, &server.base, &healthy.url).await;
    register(&http, &server.base, &failing.url).await;
    let first: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let with = phase(&server, orders, "with").await;
    report(
        "orders with relay + 2 webhooks (c=32)",
        &with,
        "without either",
        &without,
    );
    let expected: HashSet<String> =
        sqlx::query_scalar::<_, i64>("select id from events where id > $1")
            .bind(first)
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|id| format!("evt_{id}"))
            .collect();

    let last_write = Instant::now();
    let delivered_to = |receiver: &Receiver| -> usize {
        receiver
            .delivered()
            .iter()
            .filter(|attempt| expected.contains(&attempt.id))
            .count()
    };
    let at_queue = || -> usize {
        let queue = queue.lock().unwrap();
        let ids: HashSet<&str> = queue
            .iter()
            .filter_map(|(_, event)| event["id"].as_str())
            .collect();
        expected
            .iter()
            .filter(|id| ids.contains(id.as_str()))
            .count()
    };
    let mut drained = HashMap::new();
    while drained.len() < 3 && last_write.elapsed() < DRAIN_DEADLINE {
        for (name, count) in [
            ("RabbitMQ", at_queue()),
            ("healthy endpoint", delivered_to(&healthy)),
            ("failing endpoint", delivered_to(&failing)),
        ] {
            if count == expected.len() {
                drained.entry(name).or_insert_with(|| last_write.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (name, after) in &drained {
        println!(
            "{name:<28} complete {:.1} s after the last write",
            after.as_secs_f64()
        );
    }
    let from_queue: Vec<Value> = queue
        .lock()
        .unwrap()
        .iter()
        .map(|(_, event)| event.clone())
        .collect();
    let attempts = |receiver: &Receiver| {
        receiver
            .delivered()
            .into_iter()
            .map(|attempt| attempt.event())
    };
    let all_held = [
        check("RabbitMQ", &expected, &deduped(from_queue)),
        check("healthy endpoint", &expected, &deduped(attempts(&healthy))),
        check("failing endpoint", &expected, &deduped(attempts(&failing))),
    ]
    .into_iter()
    .all(|held| held);
    let refused = failing
        .attempts()
        .iter()
        .filter(|attempt| !attempt.accepted)
        .count();
    println!(
        "{} events; the failing endpoint refused {refused} attempts; write errors {} without, {} with; every check held: {all_held}",
        expected.len(),
        without.errors,
        with.errors
    );
    drop(server);
}
