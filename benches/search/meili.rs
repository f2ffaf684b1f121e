//! Meilisearch figures, when `MEILI_URL` (and `MEILI_MASTER_KEY`) name a server:
//! - `ordersearch reindex` into Meilisearch, docs/s, next to posting the same
//!   documents (same serialization, same batch size) straight to a fresh index
//!   with the same settings and waiting for the last task;
//! - the staff query set through the service (HTTP) next to the engine's own
//!   round trip (the same search sent with meilisearch-sdk), each query's two
//!   requests made back to back.

use std::time::{Duration, Instant};

use ordersearch::search::document::{self, OrderDocument};
use ordersearch::search::engine::{FacetField, SearchRequest, Sort};
use ordersearch::search::meili::MeiliEngine;
use ordersearch::search::meili::document::MeiliDocument;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::queries::{StaffQuery, search_once};
use crate::support::{self, Stats, start_server_with, temp_dir};

/// The index the service's reindex builds, and the one posted to directly.
const SERVICE_INDEX: &str = "bench_orders";
const DIRECT_INDEX: &str = "bench_direct";
/// Documents per posted batch: the reindex page size.
const BATCH: i64 = 5000;
/// How long the last task of the direct load may take.
const DIRECT_TIMEOUT: Duration = Duration::from_secs(3600);

/// The Meilisearch server under test.
pub struct MeiliTarget {
    url: String,
    key: Option<String>,
}

impl MeiliTarget {
    pub fn from_env() -> Option<Self> {
        let url = std::env::var("MEILI_URL").ok()?;
        Some(Self {
            url: url.trim_end_matches('/').to_string(),
            key: std::env::var("MEILI_MASTER_KEY").ok(),
        })
    }

    fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![
            ("MEILI_URL", self.url.as_str()),
            ("ORDERSEARCH_MEILI_INDEX", SERVICE_INDEX),
        ];
        if let Some(key) = &self.key {
            env.push(("MEILI_MASTER_KEY", key.as_str()));
        }
        env
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let builder = client.request(method, format!("{}{path}", self.url));
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// `GET path`, its JSON body.
    async fn get_json(&self, http: &reqwest::Client, path: &str) -> Value {
        support::json_of(self.request(http, reqwest::Method::GET, path)).await
    }

    /// Waits until Meilisearch has no task enqueued or processing (the
    /// deletion a reindex queues last, say), so each load starts on an idle
    /// engine.
    async fn wait_until_idle(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + DIRECT_TIMEOUT;
        loop {
            let busy = self
                .get_json(http, "/tasks?statuses=enqueued,processing&limit=1")
                .await;
            if busy["results"].as_array().is_some_and(Vec::is_empty) {
                return;
            }
            assert!(Instant::now() < deadline, "Meilisearch stayed busy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes the directly loaded index (missing is fine).
    async fn drop_direct_index(&self, http: &reqwest::Client) {
        let path = format!("/indexes/{DIRECT_INDEX}");
        let _ = self
            .request(http, reqwest::Method::DELETE, &path)
            .send()
            .await;
    }
}

/// Every Meilisearch figure, printed.
pub async fn figures(
    target: &MeiliTarget,
    pool: &PgPool,
    database_url: &str,
    queries: &[StaffQuery],
) {
    let orders: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(pool)
        .await
        .unwrap();
    let data_dir = temp_dir("search-meili");
    // `-- meili queries`: the query figures alone, on the index a run before built.
    if !std::env::args().any(|arg| arg == "queries") {
        target.wait_until_idle(&reqwest::Client::new()).await;
        let started = Instant::now();
        crate::reindex(database_url, &data_dir, &target.env());
        let service = orders as f64 / started.elapsed().as_secs_f64();
        let direct = post_directly(target, pool).await;
        println!(
            "Meilisearch reindex: service {service:.0} docs/s, posting the same documents directly {direct:.0} docs/s, ratio {:.2}x",
            service / direct
        );
    }

    // The direct index's deletion, or a reindex's, is queued last: the query
    // set runs on an idle engine.
    target.wait_until_idle(&reqwest::Client::new()).await;
    let (server, _) = start_server_with(Some(database_url), data_dir, &target.env()).await;
    let http = support::client(8);
    let engine = MeiliEngine::connect(&target.url, target.key.as_deref(), SERVICE_INDEX)
        .await
        .expect("connecting to Meilisearch");
    let (through_service, round_trip) =
        paired_round_trips(&http, &server.base, &engine, queries).await;
    support::report(
        "search over HTTP (service on Meilisearch)",
        &through_service,
        "the engine's own round trip (SDK)",
        &round_trip,
    );
    println!(
        "service overhead on Meilisearch: p50 +{:.2} ms, p99 +{:.2} ms",
        through_service.p50_ms - round_trip.p50_ms,
        through_service.p99_ms - round_trip.p99_ms
    );
}

/// Measured rounds of the query set: a p99 over ~1 000 pairs, not the 4th
/// worst of 360, which one stall of the shared cores moved by several ms.
const ROUNDS: usize = 8;

/// Each query through the service and, right after or right before it (the
/// order alternates by round), the same search sent to the engine directly
/// through the SDK, [`ROUNDS`] rounds after one that warms up: both sides see
/// the same moments of a noisy machine.
async fn paired_round_trips(
    http: &reqwest::Client,
    base: &str,
    engine: &MeiliEngine,
    queries: &[StaffQuery],
) -> (Stats, Stats) {
    let (mut service, mut direct) = (Vec::new(), Vec::new());
    let (mut service_errors, mut direct_errors) = (0, 0);
    let started = Instant::now();
    for round in 0..=ROUNDS {
        for query in queries {
            let request = SearchRequest {
                query: ordersearch::search::query::parse(&query.q, chrono::Utc::now())
                    .expect("bench queries parse"),
                store: None,
                include_deleted: false,
                sort: Sort::Relevance,
                offset: 0,
                limit: 20,
                facets: vec![FacetField::Status, FacetField::Category],
                after_number: None,
            };
            let direct_once = async {
                let begun = Instant::now();
                let ok = engine.search(&request).await.is_ok();
                (begun.elapsed(), ok)
            };
            let ((through, through_ok), (own, own_ok)) = if round % 2 == 0 {
                let through = search_once(http, base, query).await;
                (through, direct_once.await)
            } else {
                let own = direct_once.await;
                (search_once(http, base, query).await, own)
            };
            if round > 0 {
                service.push(through);
                direct.push(own);
                service_errors += usize::from(!through_ok);
                direct_errors += usize::from(!own_ok);
            }
        }
    }
    let measured = ROUNDS as f64 / (ROUNDS + 1) as f64;
    let seconds = started.elapsed().as_secs_f64() * measured / 2.0;
    (
        Stats::from_latencies(service, service_errors, seconds),
        Stats::from_latencies(direct, direct_errors, seconds),
    )
}

/// Posts every order's document to a fresh index (same settings as the
/// service's) without waiting between batches, then waits for the last task.
/// Returns docs/s, from the first read to the last task's success.
async fn post_directly(target: &MeiliTarget, pool: &PgPool) -> f64 {
    let http = reqwest::Client::new();
    // Connecting prepares the index with the service's settings; start empty.
    target.drop_direct_index(&http).await;
    MeiliEngine::connect(&target.url, target.key.as_deref(), DIRECT_INDEX)
        .await
        .expect("preparing the direct index");
    target.wait_until_idle(&http).await;
    let started = Instant::now();
    let (mut after, mut documents, mut last_task) = (None::<Uuid>, 0usize, None);
    loop {
        let mut conn = pool.acquire().await.unwrap();
        let page: Vec<OrderDocument> = document::load_page(&mut conn, after, BATCH).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        documents += page.len();
        let rows: Vec<MeiliDocument<'_>> = page.iter().map(MeiliDocument::new).collect();
        let task: Value = target
            .request(
                &http,
                reqwest::Method::POST,
                &format!("/indexes/{DIRECT_INDEX}/documents?primaryKey=id"),
            )
            .json(&rows)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        last_task = task["taskUid"].as_u64();
    }
    let last_task = last_task.expect("documents were posted");
    let deadline = Instant::now() + DIRECT_TIMEOUT;
    loop {
        let task = target.get_json(&http, &format!("/tasks/{last_task}")).await;
        match task["status"].as_str() {
            Some("succeeded") => break,
            Some("failed" | "canceled") => panic!("direct load failed: {task}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "the direct load did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    target.drop_direct_index(&http).await;
    documents as f64 / seconds
}
