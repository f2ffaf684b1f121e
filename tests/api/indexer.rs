//! The outbox indexer under fire: racing writers, an indexer killed and
//! restarted, and at the end an index that matches the database exactly.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ordersearch::search::engine::SearchEngine;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::{Served, TestApp, eventually};
use crate::orders::{order_body, place};

const WRITERS: usize = 8;
const WRITES_EACH: usize = 40;

/// An indexer task running beside a test app.
struct RunningIndexer {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl RunningIndexer {
    /// Starts an indexer over `app`'s database and search index.
    fn start(app: &TestApp) -> RunningIndexer {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(ordersearch::search::indexer::run(
            app.pool.clone(),
            app.search.clone(),
            stopped,
        ));
        RunningIndexer { task, stop }
    }

    /// Aborts it wherever it is, as a crash would.
    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
        drop(self.stop);
    }

    /// Asks it to stop and waits until it has, failing if it panicked.
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap();
    }
}

/// How many orders have changes the index has not seen yet.
async fn pending_changes(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from orders where indexed_stamp < change_stamp")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// `Some` once the index holds every change the database has.
async fn indexed_equals_database(app: &TestApp) -> Option<()> {
    (pending_changes(app).await == 0).then_some(())
}

/// Places `count` one-mug orders; returns their ids.
async fn place_mug_orders(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(
            place(app, json!([{"sku": "MUG", "quantity": 1}])).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids
}

/// Each order's latest change stamp: in the database, and as `engine` has it.
async fn database_and_indexed_stamps(
    pool: &PgPool,
    engine: &SearchEngine,
) -> (HashMap<Uuid, i64>, HashMap<Uuid, i64>) {
    let database: HashMap<Uuid, i64> = sqlx::query_as("select id, change_stamp from orders")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let indexed: HashMap<Uuid, i64> = engine.indexed_stamps().await.unwrap().into_iter().collect();
    (database, indexed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers_and_a_killed_indexer_leave_no_drift() {
    let app = TestApp::spawn_with_pool(24).await;
    app.product("default", "MUG", "1.00", 100_000).await;
    let ids = Arc::new(place_mug_orders(&app, 40).await);
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (app, ids, writes) = (app.clone(), ids.clone(), writes.clone());
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(writer as u64);
                for step in 0..WRITES_EACH {
                    let id = &ids[rng.random_range(0..ids.len())];
                    let path = format!("/v1/orders/{id}");
                    let response = match rng.random_range(0..10) {
                        0 => app.delete(&path).key(&app.admin).send().await,
                        1..=3 => {
                            let status = ["processing", "shipped", "completed", "cancelled"][rng.random_range(0..4)];
                            app.patch(&path, &json!({"status": status})).key(&app.admin).send().await
                        }
                        4 => app.post("/v1/orders", &order_body(json!([{"sku": "MUG", "quantity": 1}]))).key(&app.admin).send().await,
                        _ => app.patch(&path, &json!({"note": format!("w{writer} s{step}"), "tags": [format!("t{step}")]})).key(&app.admin).send().await,
                    };
                    assert!(response.status.as_u16() < 500, "{}", response.body);
                    writes.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Kill the indexer mid-flight three times, at a quarter, half and three quarters of the writes.
    let total = WRITERS * WRITES_EACH;
    for threshold in [total / 4, total / 2, total * 3 / 4] {
        let indexer = RunningIndexer::start(&app);
        eventually("writers to make progress", || {
            let done = writes.load(Ordering::SeqCst);
            async move { (done >= threshold).then_some(()) }
        })
        .await;
        indexer.kill().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let indexer = RunningIndexer::start(&app);
    eventually("the index to catch up", || indexed_equals_database(&app)).await;
    indexer.stop().await;

    let (database, indexed) = database_and_indexed_stamps(&app.pool, &app.search).await;
    assert_eq!(
        indexed.len(),
        database.len(),
        "one document per order, none without its order"
    );
    for (id, stamp) in &database {
        assert_eq!(
            indexed.get(id),
            Some(stamp),
            "order {id} is indexed at its latest change"
        );
    }
}

#[tokio::test]
async fn two_indexers_never_run_at_once() {
    let app = TestApp::spawn().await;
    let mut first = app.pool.acquire().await.unwrap();
    let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(ordersearch::search::indexer::INDEXER_LOCK)
        .fetch_one(&mut *first)
        .await
        .unwrap();
    assert!(taken);
    app.product("default", "MUG", "1.00", 10).await;
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    // A second indexer stands by while the lock is held: once it has tried
    // the lock (its session shows the finished try), the order is still waiting...
    let holder: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *first)
        .await
        .unwrap();
    let started: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select clock_timestamp()")
        .fetch_one(&mut *first)
        .await
        .unwrap();
    let standby = RunningIndexer::start(&app);
    eventually("the standby to try the lock", || async {
        let tried: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_stat_activity
             where datname = current_database() and pid <> $1 and state = 'idle'
               and query like 'select pg_try_advisory_lock%' and query_start > $2)",
        )
        .bind(holder)
        .bind(started)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        tried.then_some(())
    })
    .await;
    assert_eq!(pending_changes(&app).await, 1);
    // ...and takes over when the holder's session ends.
    sqlx::query("select pg_advisory_unlock_all()")
        .execute(&mut *first)
        .await
        .unwrap();
    eventually("the standby to take over", || indexed_equals_database(&app)).await;
    standby.stop().await;
}

#[tokio::test]
async fn reconcile_repairs_a_corrupted_index_and_reindex_rebuilds_it() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 100).await;
    let mut orders = Vec::new();
    for _ in 0..6 {
        orders.push(place(&app, json!([{"sku": "MUG", "quantity": 1}])).await);
    }
    app.index_all().await;
    let id = |n: usize| Uuid::parse_str(orders[n]["id"].as_str().unwrap()).unwrap();
    // Corrupt it: two documents gone, one stale, one orphan.
    app.search.delete(vec![id(0), id(1)]).await.unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let mut stale = ordersearch::search::document::load(&mut conn, &[id(2)])
        .await
        .unwrap();
    stale[0].change_stamp -= 1;
    let mut orphan = stale[0].clone();
    orphan.id = Uuid::now_v7();
    app.search
        .upsert(vec![stale[0].clone(), orphan])
        .await
        .unwrap();
    drop(conn);

    let report = app
        .post("/v1/search/reconcile", &json!({}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(report.body["missing"], 2, "{}", report.body);
    assert_eq!(report.body["stale"], 1);
    assert_eq!(report.body["orphans"], 1);
    app.index_all().await;
    let again = app
        .post("/v1/search/reconcile", &json!({}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(
        (
            again.body["missing"].as_u64(),
            again.body["stale"].as_u64(),
            again.body["orphans"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );

    let progress = indicatif::ProgressBar::hidden();
    let rebuilt = ordersearch::search::reindex::reindex(&app.pool, &app.search, &progress)
        .await
        .unwrap();
    assert_eq!(rebuilt.documents, 6);
    assert_eq!(app.search.document_count().await.unwrap(), 6);
}

/// Rebuilds raced against the writes in one test.
const REBUILDS_UNDER_LOAD: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reindexing_under_write_load_swaps_in_a_complete_index_without_search_errors() {
    let app = TestApp::spawn_with_pool(24).await;
    app.product("default", "MUG", "1.00", 100_000).await;
    let ids = place_mug_orders(&app, 60).await;
    app.index_all().await;
    let indexer = RunningIndexer::start(&app);
    // Rebuild after rebuild while orders are written and the indexer
    // acknowledges: every one must succeed (no deadlock with the indexer).
    let rebuilding = {
        let app = app.clone();
        tokio::spawn(async move {
            let progress = indicatif::ProgressBar::hidden();
            for _ in 0..REBUILDS_UNDER_LOAD {
                ordersearch::search::reindex::reindex(&app.pool, &app.search, &progress)
                    .await
                    .unwrap();
            }
        })
    };
    let writer = {
        let (app, ids) = (app.clone(), ids.clone());
        tokio::spawn(async move {
            for (step, id) in ids.iter().enumerate() {
                let body = json!({"note": format!("edited during rebuild {step}")});
                let response = app
                    .patch(&format!("/v1/orders/{id}"), &body)
                    .key(&app.admin)
                    .send()
                    .await;
                assert_eq!(response.status.as_u16(), 200);
                place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
            }
        })
    };
    let mut searches = 0;
    while !rebuilding.is_finished() || !writer.is_finished() {
        let response = app
            .get("/v1/orders/search?q=mug")
            .key(&app.admin)
            .send()
            .await;
        assert_eq!(
            response.status.as_u16(),
            200,
            "search failed during the rebuild: {}",
            response.body
        );
        searches += 1;
    }
    assert!(searches > 0);
    rebuilding.await.unwrap();
    writer.await.unwrap();
    eventually("the index to catch up", || indexed_equals_database(&app)).await;
    indexer.stop().await;
    let (database, indexed) = database_and_indexed_stamps(&app.pool, &app.search).await;
    assert_eq!(
        indexed, database,
        "every change made during the rebuild reached the new index"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rebuilds_an_index_that_was_lost_and_keeps_one_that_was_not() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 100).await;
    let lost = |engine| ordersearch::search::rebuild::index_was_lost(&app.pool, engine);
    // No order yet: an empty index is simply new.
    assert!(!lost(&app.search).await.unwrap());
    place_mug_orders(&app, 5).await;
    app.index_all().await;
    assert!(!lost(&app.search).await.unwrap());

    // The same database with a new, empty index: as after a new data directory.
    let (engine, _index_dir) = crate::helpers::empty_index();
    assert!(lost(&engine).await.unwrap());
    let served = Served::start(&app.pool, &engine, true).await;
    eventually("serve to rebuild the lost index", || {
        let engine = engine.clone();
        async move { (engine.document_count().await.ok()? == 5).then_some(()) }
    })
    .await;
    served.shut_down().await;
    assert!(!lost(&engine).await.unwrap());
    let (database, indexed) = database_and_indexed_stamps(&app.pool, &engine).await;
    assert_eq!(indexed, database, "every order, at its latest change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_indexes_a_large_first_backlog_in_bulk_rather_than_through_the_outbox() {
    let app = TestApp::spawn().await;
    let orders = ordersearch::search::rebuild::BULK_BACKLOG as u64;
    let seeding = ordersearch::seed::SeedOptions {
        orders,
        ..Default::default()
    };
    ordersearch::seed::seed(&app.pool, &seeding, false)
        .await
        .unwrap();
    assert!(
        ordersearch::search::rebuild::backlog_is_bulk(&app.pool)
            .await
            .unwrap()
    );
    let generation = || async {
        sqlx::query_scalar::<_, i64>("select generation from search_state")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = generation().await;

    let served = Served::start(&app.pool, &app.search, true).await;
    eventually("the first indexing to finish", || {
        indexed_equals_database(&app)
    })
    .await;
    served.shut_down().await;
    assert_eq!(app.search.document_count().await.unwrap(), orders);
    assert_eq!(
        generation().await,
        before + 1,
        "a bulk rebuild was swapped in (the outbox alone keeps the generation)"
    );
}
