//! Search benchmark at 1 000 000 seeded orders, all figures from one run:
//! - full reindex docs/s (embedded tantivy);
//! - a mixed staff query set over HTTP (with totals and facets): p50/p99, next to
//!   PostgreSQL `ILIKE` and `pg_trgm` doing the same matching;
//! - freshness lag from commit to searchable at 200 writes/s sustained;
//! - export of a ~100 000-match query: rows, time and server RSS while streaming;
//! - service RSS with the index loaded.
//!
//! `cargo bench --bench search` (PostgreSQL at `DATABASE_URL` or 127.0.0.1:5432).
//! The seeded database `bench_search` is kept and reused (seeding is resumable).

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use support::{ADMIN_KEY, Stats, server_options, start_server, temp_dir};
use uuid::Uuid;

const ORDERS: u64 = 1_000_000;
const QUERIES: usize = 120;
/// Queries the PostgreSQL baselines run (each takes seconds at 1M orders).
const SQL_QUERIES: usize = 30;
const WRITES_PER_SECOND: u64 = 200;
const WRITE_SECONDS: u64 = 20;

#[tokio::main]
async fn main() {
    let pool = seeded_database().await;
    let url = support_url("bench_search");
    let data_dir = temp_dir("search");

    // Full reindex, as `ordersearch reindex` does it.
    let reindex = Command::new(env!("CARGO_BIN_EXE_ordersearch"))
        .args(["reindex"])
        .env("DATABASE_URL", &url)
        .env("ORDERSEARCH_DATA_DIR", &data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running ordersearch reindex");
    println!("{}", String::from_utf8_lossy(&reindex.stdout).trim());
    assert!(
        reindex.status.success(),
        "{}",
        String::from_utf8_lossy(&reindex.stderr)
    );

    let (mut server, _) = start_server(Some(&url), data_dir.clone()).await;
    println!(
        "service RSS with the index loaded (idle): {:.1} MiB",
        server.rss_mib()
    );
    let queries = staff_queries(&pool).await;
    let http = support::client(8);

    let engine = run_queries(&http, &server.base, &queries).await;
    let ilike = run_sql(&pool, &queries[..SQL_QUERIES], false).await;
    prepare_trigram(&pool).await;
    let trigram = run_sql(&pool, &queries[..SQL_QUERIES], true).await;
    println!(
        "mixed staff query set ({} queries × 3 rounds, with total and facets):",
        queries.len()
    );
    support::report(
        "search over HTTP (embedded tantivy)",
        &engine,
        "PostgreSQL ILIKE, same matching",
        &ilike,
    );
    support::report(
        "search over HTTP (embedded tantivy)",
        &engine,
        "PostgreSQL pg_trgm GIN, same matching",
        &trigram,
    );
    println!(
        "p99 ratio ILIKE / service: {:.1}x; pg_trgm / service: {:.1}x",
        ilike.p99_ms / engine.p99_ms,
        trigram.p99_ms / engine.p99_ms
    );
    println!(
        "service RSS after the query set: {:.1} MiB",
        server.rss_mib()
    );

    freshness(&http, &server.base, &pool).await;
    export(&http, &server, &pool).await;
    server.keep_data = false;
}

fn support_url(name: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match base.rfind('/') {
        Some(slash) => format!("{}/{name}", &base[..slash]),
        None => base,
    }
}

/// The `bench_search` database with 1M seeded orders (created or topped up).
async fn seeded_database() -> PgPool {
    let options = server_options();
    let mut admin = sqlx::ConnectOptions::connect(&options.clone().database("postgres"))
        .await
        .unwrap();
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_database where datname = 'bench_search')",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    if !exists {
        sqlx::query("create database bench_search")
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options.database("bench_search"))
        .await
        .unwrap();
    ordersearch::db::migrate(&pool).await.unwrap();
    let seed_options = ordersearch::seed::SeedOptions {
        orders: ORDERS,
        stores: vec!["default".into(), "eu".into(), "us".into()],
        ..Default::default()
    };
    let report = ordersearch::seed::seed(&pool, &seed_options, false)
        .await
        .unwrap();
    if report.written > 0 {
        println!(
            "seeded {} orders at {:.0} orders/s",
            report.written,
            report.orders_per_second()
        );
    }
    pool
}

/// One staff query: the `q` text and the SQL predicate doing the same matching.
struct StaffQuery {
    q: String,
    words: Vec<String>,
    filter_sql: String,
}

#[derive(sqlx::FromRow)]
struct Sample {
    number: i64,
    customer_name: Option<String>,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    city: Option<String>,
    sku: String,
    item_name: String,
    category: String,
}

fn swap_two(word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() > 3 {
        chars.swap(1, 2);
    }
    chars.into_iter().collect()
}

/// A mixed set drawn from real seeded orders: names (with typos), emails, phone
/// digits, SKUs with and without separators, number prefixes, qualifiers.
async fn staff_queries(pool: &PgPool) -> Vec<StaffQuery> {
    let samples: Vec<Sample> = sqlx::query_as(
        "select o.number, o.customer_name, o.customer_email, o.customer_phone, o.shipping_address->>'city' as city,
                i.sku, i.name as item_name, i.category
         from orders o join order_items i on i.order_id = o.id and i.line = 1
         where o.deleted_at is null
         order by md5(o.id::text) limit $1",
    )
    .bind(QUERIES as i64)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let text = |q: String, words: Vec<String>| StaffQuery {
        q,
        words,
        filter_sql: String::new(),
    };
    samples
        .into_iter()
        .enumerate()
        .map(|(index, sample)| {
            let name = sample.customer_name.unwrap_or_default();
            let mut parts = name.split_whitespace();
            let first = parts.next().unwrap_or("x").to_string();
            let last = parts.last().unwrap_or("x").to_string();
            let email = sample.customer_email.unwrap_or_default();
            let digits: String = sample.customer_phone.unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
            match index % 10 {
                0 => text(last.clone(), vec![last]),
                1 => text(format!("{} {last}", swap_two(&first)), vec![last]),
                2 => text(email.clone(), vec![email]),
                3 => {
                    let tail = digits[digits.len().saturating_sub(4)..].to_string();
                    text(tail.clone(), vec![tail])
                }
                4 => text(sample.sku.clone(), vec![sample.sku]),
                5 => {
                    let compact: String = sample.sku.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
                    text(compact, vec![sample.sku])
                }
                6 => {
                    let prefix = sample.number.to_string()[..5].to_string();
                    text(prefix.clone(), vec![prefix])
                }
                7 => StaffQuery {
                    q: format!("city:\"{}\" status:shipped", sample.city.clone().unwrap_or_default()),
                    words: vec![],
                    filter_sql: format!(
                        "o.shipping_address->>'city' = '{}' and o.status = 'shipped'",
                        sample.city.unwrap_or_default().replace('\'', "''")
                    ),
                },
                8 => {
                    let days = rng.random_range(7..90);
                    StaffQuery {
                        q: format!("status:completed total:>100 created:-{days}d"),
                        words: vec![],
                        filter_sql: format!(
                            "o.status = 'completed' and o.total > 100 and o.created_at >= now() - interval '{days} days'"
                        ),
                    }
                }
                _ => {
                    let word = sample.item_name.split_whitespace().last().unwrap_or("x").to_lowercase();
                    StaffQuery {
                        q: format!("{word} category:\"{}\"", sample.category),
                        words: vec![word],
                        filter_sql: format!(
                            "exists (select 1 from order_items c where c.order_id = o.id and c.category = '{}')",
                            sample.category.replace('\'', "''")
                        ),
                    }
                }
            }
        })
        .collect()
}

async fn run_queries(http: &reqwest::Client, base: &str, queries: &[StaffQuery]) -> Stats {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let started = Instant::now();
    for round in 0..4 {
        for query in queries {
            let encoded: String = form_urlencoded::byte_serialize(query.q.as_bytes()).collect();
            let url =
                format!("{base}/v1/orders/search?q={encoded}&facets=status,category&limit=20");
            let begun = Instant::now();
            let response = http.get(&url).bearer_auth(ADMIN_KEY).send().await.unwrap();
            let ok = response.status().is_success();
            let _ = response.bytes().await;
            if round > 0 {
                latencies.push(begun.elapsed());
                errors += usize::from(!ok);
            }
        }
    }
    Stats::from_latencies(latencies, errors, started.elapsed().as_secs_f64() * 0.75)
}

/// The matching of one free-text word in SQL, over the fields search covers.
fn word_sql(word: &str, table_text: bool) -> String {
    let pattern = format!("'%{}%'", word.replace('\'', "''").replace('%', "\\%"));
    if table_text {
        return format!("t.text ilike {pattern}");
    }
    format!(
        "(o.customer_name ilike {p} or o.customer_email ilike {p} or o.customer_phone ilike {p} \
         or o.number::text ilike {p} or o.note ilike {p} or o.shipping_address::text ilike {p} \
         or array_to_string(o.tags, ' ') ilike {p} \
         or exists (select 1 from order_items w where w.order_id = o.id and (w.name ilike {p} or w.sku ilike {p})))",
        p = pattern
    )
}

async fn run_sql(pool: &PgPool, queries: &[StaffQuery], trigram: bool) -> Stats {
    let mut latencies = Vec::new();
    let started = Instant::now();
    for round in 0..2 {
        for query in queries {
            let mut predicates: Vec<String> = query
                .words
                .iter()
                .map(|word| word_sql(word, trigram))
                .collect();
            predicates.push("o.deleted_at is null".into());
            if !query.filter_sql.is_empty() {
                predicates.push(query.filter_sql.clone());
            }
            let from = if trigram {
                "orders o join bench_search_text t on t.order_id = o.id"
            } else {
                "orders o"
            };
            let condition = predicates.join(" and ");
            let begun = Instant::now();
            let page = format!(
                "select o.id from {from} where {condition} order by o.created_at desc limit 20"
            );
            let total = format!("select count(*) from {from} where {condition}");
            let status = format!(
                "select o.status, count(*) from {from} where {condition} group by o.status"
            );
            let category = format!(
                "select i.category, count(distinct o.id) from {from} join order_items i on i.order_id = o.id where {condition} group by i.category"
            );
            for sql in [page, total, status, category] {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            }
            if round > 0 {
                latencies.push(begun.elapsed());
            }
        }
    }
    Stats::from_latencies(latencies, 0, started.elapsed().as_secs_f64() * 0.5)
}

/// A denormalized text per order with a trigram GIN index: pg_trgm's best case.
async fn prepare_trigram(pool: &PgPool) {
    sqlx::query("create extension if not exists pg_trgm")
        .execute(pool)
        .await
        .unwrap();
    let exists: bool = sqlx::query_scalar("select to_regclass('bench_search_text') is not null")
        .fetch_one(pool)
        .await
        .unwrap();
    if exists {
        return;
    }
    let started = Instant::now();
    sqlx::query(
        "create table bench_search_text as
         select o.id as order_id,
                concat_ws(' ', o.customer_name, o.customer_email, o.customer_phone, o.number::text, o.note,
                          o.shipping_address::text, array_to_string(o.tags, ' '),
                          (select string_agg(i.name || ' ' || i.sku, ' ') from order_items i where i.order_id = o.id)) as text
         from orders o",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("create index on bench_search_text using gin (text gin_trgm_ops)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("create index on bench_search_text (order_id)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("analyze bench_search_text")
        .execute(pool)
        .await
        .unwrap();
    println!(
        "pg_trgm table and GIN index built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Sustained writes; lag from each write's commit to its change being searchable.
async fn freshness(http: &reqwest::Client, base: &str, pool: &PgPool) {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from orders where deleted_at is null order by md5(id::text) limit 5000",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let total = (WRITES_PER_SECOND * WRITE_SECONDS) as usize;
    let (sent, mut received) = tokio::sync::mpsc::unbounded_channel::<(Uuid, i64, Instant)>();
    let watcher_pool = pool.clone();
    let watcher = tokio::spawn(async move {
        let mut waiting: HashMap<Uuid, (i64, Instant)> = HashMap::new();
        let mut lags = Vec::new();
        let mut open = true;
        while open || !waiting.is_empty() {
            while let Ok((id, stamp, at)) = received.try_recv() {
                waiting.insert(id, (stamp, at));
            }
            if received.is_closed() && received.is_empty() {
                open = false;
            }
            if !waiting.is_empty() {
                let keys: Vec<Uuid> = waiting.keys().copied().collect();
                let done: Vec<(Uuid, i64)> =
                    sqlx::query_as("select id, indexed_stamp from orders where id = any($1)")
                        .bind(&keys)
                        .fetch_all(&watcher_pool)
                        .await
                        .unwrap();
                let now = Instant::now();
                for (id, indexed) in done {
                    if let Some((stamp, at)) = waiting.get(&id).copied()
                        && indexed >= stamp
                    {
                        lags.push(now - at);
                        waiting.remove(&id);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags
    });
    let interval = Duration::from_secs_f64(1.0 / WRITES_PER_SECOND as f64);
    let mut ticker = tokio::time::interval(interval);
    let started = Instant::now();
    let mut writers = Vec::new();
    for index in 0..total {
        ticker.tick().await;
        let (http, base, pool, sent, id) = (
            http.clone(),
            base.to_string(),
            pool.clone(),
            sent.clone(),
            ids[index % ids.len()],
        );
        writers.push(tokio::spawn(async move {
            let body = serde_json::json!({"note": format!("freshness probe {index}")});
            let response = http
                .patch(format!("{base}/v1/orders/{id}"))
                .bearer_auth(ADMIN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            let committed = Instant::now();
            assert!(response.status().is_success());
            let stamp: i64 = sqlx::query_scalar("select change_stamp from orders where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            let _ = sent.send((id, stamp, committed));
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    drop(sent);
    let lags = watcher.await.unwrap();
    let stats = Stats::from_latencies(lags, 0, 1.0);
    println!(
        "freshness at {achieved:.0} writes/s for {WRITE_SECONDS} s: commit → searchable p50 {:.1} ms, p99 {:.1} ms ({} writes)",
        stats.p50_ms, stats.p99_ms, stats.requests
    );
}

/// Streams a large export and watches the server's memory meanwhile.
async fn export(http: &reqwest::Client, server: &support::Server, pool: &PgPool) {
    let _ = pool;
    let mut chosen = None;
    for candidate in [
        "status:completed created:-180d",
        "status:completed created:-120d",
        "status:completed created:-90d",
        "status:completed",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(candidate.as_bytes()).collect();
        let body: serde_json::Value = http
            .get(format!(
                "{}/v1/orders/search?q={encoded}&limit=1",
                server.base
            ))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let total = body["total"].as_u64().unwrap_or(0);
        if (80_000..=250_000).contains(&total) || candidate == "status:completed" {
            chosen = Some((candidate, total));
            break;
        }
    }
    let (query, total) = chosen.unwrap();
    let before = server.rss_mib();
    let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let started = Instant::now();
    let mut response = http
        .get(format!(
            "{}/v1/orders/export?q={encoded}&format=csv",
            server.base
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let (mut bytes, mut lines, mut peak) = (0usize, 0usize, before);
    let mut last_sample = Instant::now();
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        if last_sample.elapsed() > Duration::from_millis(50) {
            peak = peak.max(server.rss_mib());
            last_sample = Instant::now();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "export {query:?} ({total} matches): {} rows, {:.1} MB in {seconds:.1} s ({:.0} rows/s); server RSS {before:.1} MiB before, peak {peak:.1} MiB while streaming, {:.1} MiB after",
        lines.saturating_sub(1),
        bytes as f64 / 1e6,
        lines as f64 / seconds,
        server.rss_mib()
    );
}
