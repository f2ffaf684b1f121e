//! Meilisearch, for real: the relevance suite and an engine outage, against the
//! server at `MEILI_URL` (with `MEILI_MASTER_KEY`). Without `MEILI_URL` these
//! tests print that they were skipped, and why, and pass.

use std::sync::Arc;

use ordersearch::search::engine::SearchEngine;
use ordersearch::search::meili::MeiliEngine;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, eventually, skipped};
use crate::orders::place;
use crate::search::{assert_relevance, fixture_on};

/// The server to test against, or `None` after printing why the test is skipped.
fn meili_server() -> Option<(String, Option<String>)> {
    match std::env::var("MEILI_URL") {
        Ok(url) => Some((url, std::env::var("MEILI_MASTER_KEY").ok())),
        Err(_) => {
            skipped("MEILI_URL is not set (no Meilisearch server to test against)");
            None
        }
    }
}

async fn engine_at(url: &str, key: Option<&str>) -> SearchEngine {
    let index = format!("test_{}", uuid::Uuid::new_v4().simple());
    let engine = MeiliEngine::connect(url, key, &index)
        .await
        .expect("connecting to Meilisearch");
    SearchEngine::Meili(Arc::new(engine))
}

#[tokio::test]
async fn the_relevance_suite_passes_on_meilisearch() {
    let Some((url, key)) = meili_server() else {
        return;
    };
    let app = TestApp::spawn_with_engine(engine_at(&url, key.as_deref()).await, 20).await;
    assert_relevance(&fixture_on(app).await).await;
}

/// A TCP relay to the real server that can be cut and restored, to take the
/// engine away from the service without touching the server.
struct Relay {
    port: u16,
    target: String,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Relay {
            port,
            target,
            task: None,
        };
        relay.task = Some(tokio::spawn(serve(listener, relay.target.clone())));
        relay
    }

    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.task = Some(tokio::spawn(serve(listener, self.target.clone())));
    }
}

async fn serve(listener: TcpListener, target: String) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        let target = target.clone();
        // Aborting `serve` drops the set, which aborts every relayed connection.
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_succeed_while_meilisearch_is_away_and_the_backlog_drains_when_it_returns() {
    let Some((url, key)) = meili_server() else {
        return;
    };
    let target = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut relay = Relay::start(target).await;
    let engine = engine_at(&format!("http://127.0.0.1:{}", relay.port), key.as_deref()).await;
    let app = TestApp::spawn_with_engine(engine, 20).await;
    app.product("default", "MUG", "1.00", 1000).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(ordersearch::search::indexer::run(
        app.pool.clone(),
        app.search.clone(),
        stopped,
    ));
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let pending = || async {
        let status = app.get("/v1/search/status").key(&app.admin).send().await;
        status.body["pending_changes"].as_i64()
    };
    eventually("the first order to be indexed", || async {
        (pending().await == Some(0)).then_some(())
    })
    .await;

    relay.cut();
    for _ in 0..20 {
        place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    }
    let backlog = pending().await.unwrap();
    assert!(
        backlog >= 20,
        "the backlog grows while the engine is away: {backlog}"
    );
    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.status.as_u16(), 503);
    assert_eq!(ready.body["search"]["status"], "down");
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    assert!(pending().await.unwrap() > backlog, "and keeps growing");

    relay.restore().await;
    eventually("the backlog to drain", || async {
        (pending().await == Some(0)).then_some(())
    })
    .await;
    let report = app
        .post("/v1/search/reconcile", &json!({}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(report.body["missing"], 0, "{}", report.body);
    assert_eq!(report.body["stale"], 0);
    assert_eq!(report.body["orphans"], 0);
    let _ = stop.send(true);
    indexer.await.unwrap();
}
