//! Search benchmark at 1 000 000 seeded orders, all figures from one run:
//! - full reindex docs/s (embedded tantivy);
//! - a mixed staff query set over HTTP (with totals and facets): p50/p99, next to
//!   PostgreSQL `ILIKE` and `pg_trgm` doing the same matching;
//! - freshness lag from commit to searchable at 200 writes/s sustained;
//! - export of a ~100 000-match query: rows, time and server RSS while streaming;
//! - service RSS with the index loaded;
//! - with `MEILI_URL` set: the query set through the service on Meilisearch next
//!   to the engine's own round trip, and reindex docs/s next to posting the same
//!   documents to Meilisearch directly.
//!
//! `cargo bench --bench search` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432);
//! `cargo bench --bench search -- meili` takes the Meilisearch figures alone
//! (`-- meili queries`: only the query set, on the index an earlier run built);
//! `cargo bench --bench search -- queries` runs the query set alone, on the index
//! in `BENCH_INDEX_DIR` when set (built there once and kept between runs), and
//! `-- freshness` the freshness figure alone, the same way, and `-- console`
//! search as you type in the staff console in Chromium.
//! The seeded database `bench_search` is kept and reused (seeding is resumable).

#[path = "../support/mod.rs"]
mod support;

mod baseline;
mod console;
mod export;
mod freshness;
mod meili;
mod queries;

use std::process::Command;
use std::time::Duration;

use sqlx::PgPool;
use support::{start_server, temp_dir};

const ORDERS: u64 = 1_000_000;
const QUERIES: usize = 120;
/// Queries the PostgreSQL baselines run (each takes seconds at 1M orders): two
/// of each of the ten kinds.
const SQL_QUERIES: usize = 20;
/// A baseline statement running longer than this counts as this long.
const SQL_TIMEOUT: Duration = Duration::from_secs(60);
const WRITES_PER_SECOND: u64 = 200;
const WRITE_SECONDS: u64 = 20;

#[tokio::main]
async fn main() {
    let (url, pool) = support::seeded_database(ORDERS).await;
    let queries = queries::staff_queries(&pool).await;
    let meili_only = std::env::args().any(|arg| arg == "meili");
    if !meili_only && std::env::args().any(|arg| arg == "queries") {
        return query_set_alone(&url, &queries).await;
    }
    if std::env::args().any(|arg| arg == "console") {
        let server = on_kept_index(&url).await;
        return console::figures(&server.base, &queries).await;
    }
    if std::env::args().any(|arg| arg == "freshness") {
        let server = on_kept_index(&url).await;
        return freshness::freshness(&support::client(8), &server.base, &pool).await;
    }
    if !meili_only {
        embedded_figures(&pool, &url, &queries).await;
    }
    match meili::MeiliTarget::from_env() {
        Some(target) => meili::figures(&target, &pool, &url, &queries).await,
        None => println!("Meilisearch figures skipped: MEILI_URL is not set"),
    }
}

/// Every figure of the embedded engine.
async fn embedded_figures(pool: &PgPool, url: &str, queries: &[queries::StaffQuery]) {
    let data_dir = temp_dir("search");
    reindex(url, &data_dir, &[]);

    let (mut server, _) = start_server(Some(url), data_dir.clone()).await;
    println!(
        "service RSS with the index loaded (idle): {:.1} MiB",
        server.rss_mib()
    );
    let http = support::client(8);
    query_set(&http, &server.base, pool, queries).await;
    println!(
        "service RSS after the query set: {:.1} MiB",
        server.rss_mib()
    );
    freshness::freshness(&http, &server.base, pool).await;
    export::export(&http, &server, pool).await;
    server.keep_data = false;
}

/// The service on the index kept in `BENCH_INDEX_DIR` (built there when
/// missing), or on a fresh one.
async fn on_kept_index(url: &str) -> support::Server {
    let kept = std::env::var_os("BENCH_INDEX_DIR").map(std::path::PathBuf::from);
    let data_dir = kept.clone().unwrap_or_else(|| temp_dir("search"));
    if !data_dir.join("index").join("CURRENT").exists() {
        reindex(url, &data_dir, &[]);
    }
    let (mut server, _) = start_server(Some(url), data_dir).await;
    server.keep_data = kept.is_some();
    server
}

/// The query set alone, for working on search latency: on a kept index when
/// `BENCH_INDEX_DIR` names one.
async fn query_set_alone(url: &str, queries: &[queries::StaffQuery]) {
    let server = on_kept_index(url).await;
    let http = support::client(8);
    let engine = queries::run_queries(&http, &server.base, queries).await;
    println!(
        "search over HTTP (embedded tantivy), {} queries: p50 {:.2} ms  p99 {:.2} ms  errors {}",
        queries.len(),
        engine.p50_ms,
        engine.p99_ms,
        engine.errors
    );
}

/// Runs `ordersearch reindex` (the embedded index under `data_dir`, or the
/// engine named by `env`) and prints its report.
fn reindex(url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ordersearch"))
        .args(["reindex"])
        .env("DATABASE_URL", url)
        .env("ORDERSEARCH_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        // The embedded index unless `env` names Meilisearch.
        .env_remove("MEILI_URL")
        .env_remove("MEILI_MASTER_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("running ordersearch reindex");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout).trim().to_string();
    println!("{report}");
    report
}

/// The query set over HTTP, and the first `SQL_QUERIES` of it next to
/// PostgreSQL doing the same matching.
async fn query_set(
    http: &reqwest::Client,
    base: &str,
    pool: &PgPool,
    queries: &[queries::StaffQuery],
) {
    let engine = queries::run_queries(http, base, queries).await;
    let engine_subset = queries::run_queries(http, base, &queries[..SQL_QUERIES]).await;
    let ilike = baseline::run_sql(pool, &queries[..SQL_QUERIES], false).await;
    baseline::prepare_trigram(pool).await;
    let trigram = baseline::run_sql(pool, &queries[..SQL_QUERIES], true).await;
    println!(
        "mixed staff query set, {} queries, with total and status/category facets:",
        queries.len()
    );
    println!(
        "search over HTTP (embedded tantivy), all queries: p50 {:.2} ms  p99 {:.2} ms  errors {}",
        engine.p50_ms, engine.p99_ms, engine.errors
    );
    println!(
        "the first {SQL_QUERIES} (two of each kind), next to PostgreSQL doing the same matching (errors = statements stopped at {} s):",
        SQL_TIMEOUT.as_secs()
    );
    for (name, baseline) in [
        ("PostgreSQL ILIKE", &ilike),
        ("PostgreSQL pg_trgm GIN", &trigram),
    ] {
        support::report(
            "search over HTTP (embedded tantivy)",
            &engine_subset,
            name,
            baseline,
        );
        println!(
            "{:<44} p50 {:.0}x  p99 {:.0}x faster",
            format!("service vs {name}"),
            baseline.p50_ms / engine_subset.p50_ms,
            baseline.p99_ms / engine_subset.p99_ms
        );
    }
}
