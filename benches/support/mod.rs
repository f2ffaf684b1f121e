//! Shared benchmark plumbing: a fresh database, the release binary started as a
//! real server process, a closed-loop HTTP load generator, and figures.
//!
//! Benchmarks are not tests: they print figures and ratios against a baseline
//! measured in the same run, for BENCHMARKS.md.
#![allow(dead_code)]

pub mod broker;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, PgPool};
use tokio::sync::Semaphore;

/// The admin key the benchmark servers accept.
pub const ADMIN_KEY: &str = "os_benchmark_admin_key_0000000000000000000000";

/// Latency figures of one load run.
#[derive(Debug, Clone)]
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn from_latencies(mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Stats {
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        Stats {
            requests: latencies.len(),
            errors,
            seconds,
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Prints a figure beside its baseline, with the ratio.
pub fn report(name: &str, stats: &Stats, baseline_name: &str, baseline: &Stats) {
    println!(
        "{name:<44} {:>9.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
        stats.per_second(),
        stats.p50_ms,
        stats.p99_ms,
        stats.errors
    );
    println!(
        "{baseline_name:<44} {:>9.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
        baseline.per_second(),
        baseline.p50_ms,
        baseline.p99_ms,
        baseline.errors
    );
    println!(
        "{:<44} {:>9.2}x throughput",
        format!("ratio {name} / {baseline_name}"),
        stats.per_second() / baseline.per_second()
    );
}

/// The PostgreSQL server benchmarks use: `DATABASE_URL`, else the local one.
pub fn server_options() -> PgConnectOptions {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
        .parse()
        .expect("DATABASE_URL parses")
}

/// A connection to the server's `postgres` database, to create others.
async fn admin_connection() -> PgConnection {
    server_options()
        .database("postgres")
        .connect()
        .await
        .expect("connecting to PostgreSQL")
}

/// A pool of `connections` on database `name`, migrated; and its URL.
async fn migrated_pool(name: &str, connections: u32) -> (String, PgPool) {
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(server_options().database(name))
        .await
        .unwrap();
    ordersearch::db::migrate(&pool).await.unwrap();
    (database_url(name), pool)
}

/// A fresh, migrated database; returns its URL and a pool.
pub async fn fresh_database(name: &str) -> (String, PgPool) {
    let mut admin = admin_connection().await;
    for statement in [
        format!("drop database if exists {name} with (force)"),
        format!("create database {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    migrated_pool(name, 40).await
}

/// `DATABASE_URL` (or the local server) naming database `name` instead.
fn database_url(name: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match base.rfind('/') {
        Some(slash) => {
            let (head, tail) = base.split_at(slash);
            let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
            format!("{head}/{name}{query}")
        }
        None => base,
    }
}

/// The database the search and analytics benchmarks share.
pub const SEEDED_DATABASE: &str = "bench_search";

/// The shared database with `orders` seeded orders over three stores (created
/// or topped up: seeding is resumable); its URL and a pool.
pub async fn seeded_database(orders: u64) -> (String, PgPool) {
    seeded_database_named(SEEDED_DATABASE, orders).await
}

/// [`seeded_database`] under another name, for a bench that changes its data.
pub async fn seeded_database_named(name: &str, orders: u64) -> (String, PgPool) {
    let mut admin = admin_connection().await;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        let create = format!("create database {name}");
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let (url, pool) = migrated_pool(name, 16).await;
    let seeding = ordersearch::seed::SeedOptions {
        orders,
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
    (url, pool)
}

/// A running `ordersearch serve` process.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    /// Leave the data directory when stopping (to start again on it).
    pub keep_data: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

impl Server {
    /// Resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    /// The anonymous part of the resident memory (heap and stacks), in MiB:
    /// without the mapped index files' pages, which the kernel can drop.
    pub fn rss_anon_mib(&self) -> f64 {
        self.status_mib("RssAnon:")
    }

    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|line| line.starts_with(field))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// Starts the release binary on a free port; `database_url` None = zero-config.
pub async fn start_server(database_url: Option<&str>, data_dir: PathBuf) -> (Server, Duration) {
    start_server_with(database_url, data_dir, &[]).await
}

/// Starts the release binary with extra environment (e.g. `MEILI_URL`).
pub async fn start_server_with(
    database_url: Option<&str>,
    data_dir: PathBuf,
    env: &[(&str, &str)],
) -> (Server, Duration) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ordersearch"));
    command
        .arg("serve")
        .env("ORDERSEARCH_BIND", format!("127.0.0.1:{port}"))
        .env("ORDERSEARCH_ADMIN_KEY", ADMIN_KEY)
        .env("ORDERSEARCH_DATA_DIR", &data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("MEILI_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .envs(env.iter().copied());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let started = Instant::now();
    let child = command.spawn().expect("starting ordersearch serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "server did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready = started.elapsed();
    (
        Server {
            child,
            base,
            data_dir,
            keep_data: false,
        },
        ready,
    )
}

/// A temporary directory for a server's data.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ordersearch-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `total` requests with `concurrency` in flight; `request(i)` returns
/// whether the answer counts as a success.
pub async fn load<F, Fut>(concurrency: usize, total: usize, request: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let begun = Instant::now();
            let ok = request(index).await;
            drop(permit);
            (begun.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for task in tasks {
        let (latency, ok) = task.await.unwrap();
        latencies.push(latency);
        if !ok {
            errors += 1;
        }
    }
    Stats::from_latencies(latencies, errors, started.elapsed().as_secs_f64())
}

/// Sends `request`; its JSON body.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// `GET url` with the admin key, its JSON body.
pub async fn admin_get(http: &reqwest::Client, url: &str) -> serde_json::Value {
    json_of(http.get(url).bearer_auth(ADMIN_KEY)).await
}

/// An HTTP client sized for `concurrency` connections.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap()
}

/// Creates `count` products `SKU-0`… in `default` through the API, each with
/// stock enough for any run, for order benches to order from.
pub async fn create_products(http: &reqwest::Client, base: &str, count: usize) {
    for n in 0..count {
        let body = serde_json::json!({"sku": format!("SKU-{n}"), "name": format!("Product {n}"),
            "category": "Bench", "price": "9.99", "cost": "4.00", "stock": 1_000_000});
        let response = http
            .post(format!("{base}/v1/products"))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
}

/// A 3-line order of the products `SKU-0`… `SKU-<products - 1>`;
/// `external_id` (`<phase>-<index>`) names it in its events.
pub fn three_line_order(index: usize, phase: &str, products: usize) -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..3)
        .map(|line| serde_json::json!({"sku": format!("SKU-{}", (index * 7 + line * 101) % products), "quantity": 1}))
        .collect();
    serde_json::json!({
        "external_id": format!("{phase}-{index}"),
        "customer": {"id": format!("cus_{}", index % 5000), "email": "buyer@example.com", "name": "Bench Buyer"},
        "items": items,
        "shipping_address": {"name": "Bench Buyer", "line1": "Rynek 1", "city": "Kraków", "postal_code": "30-001", "country": "PL"},
    })
}
