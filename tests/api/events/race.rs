//! The race the feed's cursor must survive: a transaction takes its id, and
//! so its place in the log, before faster ones that commit first. A reader
//! that read past the fast ones must still get the slow one when it commits.
//! Without the snapshot-xmin guard in `events::feed` this fails every round.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ordersearch::orders::model::NewOrder;
use serde_json::{Value, json};

use super::feed_page;
use crate::helpers::{TestApp, eventually};
use crate::orders::{order_body, place};

/// Slow transactions, each overtaken by `FAST` committed orders.
const ROUNDS: usize = 10;
const FAST: usize = 3;

/// What the reader has done so far.
#[derive(Default)]
struct Reader {
    polls: AtomicUsize,
    stop: AtomicBool,
}

/// Reads the feed from `after` until told to stop; returns every event id read.
async fn follow(app: TestApp, reader: Arc<Reader>, mut after: String) -> Vec<String> {
    let mut ids = Vec::new();
    while !reader.stop.load(Ordering::SeqCst) {
        let page = feed_page(&app, &app.admin, &format!("limit=200&after={after}")).await;
        for event in page["data"].as_array().unwrap() {
            ids.push(event["id"].as_str().unwrap().to_string());
        }
        after = page["next_cursor"].as_str().unwrap().to_string();
        reader.polls.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
    ids
}

/// Waits until the reader has finished a poll that began after this call.
async fn reader_polled_since(reader: &Reader) {
    let seen = reader.polls.load(Ordering::SeqCst);
    eventually("the reader to poll again", || async {
        (reader.polls.load(Ordering::SeqCst) >= seen + 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_a_reader_never_misses_an_event_that_commits_after_later_ones() {
    let app = TestApp::spawn_with_pool(16).await;
    app.product("default", "SLOW", "1.00", 1000).await;
    app.product("default", "FAST", "1.00", 1000).await;
    let head = app.get("/v1/events/status").key(&app.admin).send().await;
    let head = head.body["head_cursor"].as_str().unwrap().to_string();
    let reader = Arc::new(Reader::default());
    let following = tokio::spawn(follow(app.clone(), reader.clone(), head));

    let slow: NewOrder =
        serde_json::from_value(order_body(json!([{"sku": "SLOW", "quantity": 1}])))
            .expect("a valid order");
    for _ in 0..ROUNDS {
        // The slow transaction locks its product, so it holds an id, and writes its
        // event.
        let mut held = app.pool.begin().await.unwrap();
        ordersearch::orders::create::create_order(&mut held, "default", "race", &slow)
            .await
            .expect("the slow order");
        for _ in 0..FAST {
            place(&app, json!([{"sku": "FAST", "quantity": 1}])).await;
        }
        reader_polled_since(&reader).await;
        held.commit().await.unwrap();
    }

    let written: HashSet<String> =
        sqlx::query_scalar::<_, i64>("select id from events where type = 'order.created'")
            .fetch_all(&app.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|id| format!("evt_{id}"))
            .collect();
    assert_eq!(written.len(), ROUNDS * (FAST + 1));
    // Once all are readable, one more poll of the reader's must bring in any it lacks.
    eventually("every event readable", || async {
        (count_read(&app, &written).await == written.len()).then_some(())
    })
    .await;
    reader_polled_since(&reader).await;
    reader.stop.store(true, Ordering::SeqCst);
    let read = following.await.unwrap();
    let unique: HashSet<&String> = read.iter().collect();
    assert_eq!(unique.len(), read.len(), "no event is read twice");
    let missed: Vec<&String> = written.iter().filter(|id| !unique.contains(id)).collect();
    assert!(
        missed.is_empty(),
        "the reader missed {} of {} events: {missed:?}",
        missed.len(),
        written.len()
    );
}

/// How many of `written` a fresh read of the whole feed finds readable now.
async fn count_read(app: &TestApp, written: &HashSet<String>) -> usize {
    let page: Value = feed_page(app, &app.admin, "limit=200").await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| written.contains(event["id"].as_str().unwrap()))
        .count()
}
