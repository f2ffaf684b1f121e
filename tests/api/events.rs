//! The event log and its pull feed: each change writes exactly its event, the
//! feed pages and filters, old cursors are gone, and a reader racing slow and
//! fast writers never misses an event.

use std::time::Instant;

use serde_json::{Value, json};

use crate::helpers::{Served, TestApp, eventually};
use crate::orders::place;

mod race;
mod relay;

/// `GET /v1/events?{query}` as the admin, asserting a 200.
pub(crate) async fn feed_page(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/v1/events?{query}"))
        .key(key)
        .send()
        .await;
    assert_eq!(
        response.status, 200,
        "GET /v1/events?{query}: {}",
        response.body
    );
    assert!(
        response.body["next_cursor"].is_string(),
        "{}",
        response.body
    );
    response.body
}

/// Every event readable now with `key` and `query`, page by page from the start.
async fn read_all(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let page = feed_page(app, key, &format!("limit=200{after}{query}")).await;
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            return events;
        }
        events.extend(data.iter().cloned());
        after = format!("&after={}", page["next_cursor"].as_str().unwrap());
    }
}

/// The events of `subject` in feed order, once `count` of them are readable.
async fn events_of(app: &TestApp, subject: &Value, count: usize) -> Vec<Value> {
    eventually(&format!("{count} events of {subject}"), || async {
        let events: Vec<Value> = read_all(app, &app.admin, "")
            .await
            .into_iter()
            .filter(|event| event["subject_id"] == *subject)
            .collect();
        (events.len() >= count).then_some(events)
    })
    .await
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect()
}

/// A change answered 200 with the resource; returns it.
async fn changed(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut call = app.call(method.parse().unwrap(), path).key(&app.admin);
    if let Some(body) = body {
        call = call.json(&body);
    }
    let response = call.send().await;
    assert_eq!(response.status, 200, "{method} {path}: {}", response.body);
    response.body
}

/// Asserts one event carries `resource` as committed, at its version.
#[track_caller]
fn assert_carries(event: &Value, kind: &str, resource: &Value) {
    assert_eq!(event["type"], kind, "{event}");
    assert_eq!(
        event["data"], *resource,
        "the event carries the resource as committed"
    );
    assert_eq!(event["subject_version"], resource["version"], "{event}");
    assert_eq!(event["store"], resource["store"], "{event}");
    let id = event["id"].as_str().unwrap();
    assert!(id.starts_with("evt_"), "{id}");
}

#[tokio::test]
async fn each_order_change_writes_exactly_its_event_with_the_order_as_committed() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 100).await;
    let created = place(&app, json!([{"sku": "MUG", "quantity": 2}])).await;
    let path = format!("/v1/orders/{}", created["id"].as_str().unwrap());
    let processing = changed(&app, "PATCH", &path, Some(json!({"status": "processing"}))).await;
    let edited = changed(&app, "PATCH", &path, Some(json!({"note": "ring twice"}))).await;
    let unchanged = changed(&app, "PATCH", &path, Some(json!({"note": "ring twice"}))).await;
    assert_eq!(
        unchanged["version"], edited["version"],
        "no change, no version"
    );
    let moved_and_tagged = json!({"status": "shipped", "tags": ["gift"]});
    let shipped = changed(&app, "PATCH", &path, Some(moved_and_tagged)).await;
    let other = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let other_path = format!("/v1/orders/{}", other["id"].as_str().unwrap());
    let cancelled = changed(
        &app,
        "PATCH",
        &other_path,
        Some(json!({"status": "cancelled"})),
    )
    .await;
    let deleted = changed(&app, "DELETE", &other_path, None).await;

    let events = events_of(&app, &created["id"], 4).await;
    assert_eq!(
        types(&events),
        [
            "order.created",
            "order.status_changed",
            "order.updated",
            "order.status_changed"
        ]
    );
    assert_carries(&events[0], "order.created", &created);
    assert_carries(&events[1], "order.status_changed", &processing);
    assert_eq!(
        (&events[1]["from"], &events[1]["to"]),
        (&json!("pending"), &json!("processing"))
    );
    assert_carries(&events[2], "order.updated", &edited);
    assert!(events[2].get("from").is_none(), "{}", events[2]);
    assert_carries(&events[3], "order.status_changed", &shipped);
    assert_eq!(
        events[3]["data"]["tags"],
        json!(["gift"]),
        "one event for the whole PATCH"
    );

    let events = events_of(&app, &other["id"], 3).await;
    assert_eq!(
        types(&events),
        ["order.created", "order.cancelled", "order.deleted"]
    );
    assert_carries(&events[1], "order.cancelled", &cancelled);
    assert_carries(&events[2], "order.deleted", &deleted);
}

#[tokio::test]
async fn deleting_an_open_order_writes_only_order_deleted_showing_the_cancellation() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 100).await;
    let created = place(&app, json!([{"sku": "MUG", "quantity": 2}])).await;
    let path = format!("/v1/orders/{}", created["id"].as_str().unwrap());
    let deleted = changed(&app, "DELETE", &path, None).await;
    let events = events_of(&app, &created["id"], 2).await;
    assert_eq!(types(&events), ["order.created", "order.deleted"]);
    assert_carries(&events[1], "order.deleted", &deleted);
    assert_eq!(events[1]["data"]["status"], "cancelled");
    assert!(events[1]["data"]["cancelled_at"].is_string());
    assert!(events[1]["data"]["deleted_at"].is_string());
}

#[tokio::test]
async fn product_changes_write_their_events_and_stock_low_only_when_stock_crosses_below_the_threshold()
 {
    let app = TestApp::spawn().await;
    let product = app.product("default", "LAMP", "30.00", 6).await;
    assert_eq!(product["low_stock_threshold"], 5, "the default threshold");
    let path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    // 6 → 5 stays at the threshold; 5 → 4 crosses below it; 4 → 3 is already below.
    for _ in 0..3 {
        place(&app, json!([{"sku": "LAMP", "quantity": 1}])).await;
    }
    let crossed = changed(&app, "GET", &path, None).await;
    assert_eq!(crossed["stock"], 3);
    let restocked = changed(&app, "PATCH", &path, Some(json!({"stock": 10}))).await;
    let sold_off = changed(&app, "PATCH", &path, Some(json!({"stock_delta": -6}))).await;
    let raised = changed(
        &app,
        "PATCH",
        &path,
        Some(json!({"low_stock_threshold": 8})),
    )
    .await;
    let deactivated = changed(&app, "DELETE", &path, None).await;

    let events = events_of(&app, &product["id"], 7).await;
    assert_eq!(
        types(&events),
        [
            "product.created",
            "product.stock_low",
            "product.updated",
            "product.updated",
            "product.stock_low",
            "product.updated",
            "product.updated",
        ]
    );
    assert_carries(&events[0], "product.created", &product);
    assert_eq!(
        events[1]["data"]["stock"], 4,
        "the stock as the order left it"
    );
    assert_eq!(
        events[1]["subject_version"], product["version"],
        "orders do not bump it"
    );
    assert_carries(&events[2], "product.updated", &restocked);
    assert_carries(&events[3], "product.updated", &sold_off);
    assert_carries(&events[4], "product.stock_low", &sold_off);
    assert_carries(&events[5], "product.updated", &raised);
    assert_carries(&events[6], "product.updated", &deactivated);
    assert_eq!(events[6]["data"]["active"], false);
}

#[tokio::test]
async fn the_feed_pages_with_its_cursor_and_filters_by_type_and_store() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    app.product("default", "MUG", "12.50", 100).await;
    app.product("eu", "CUP", "9.00", 100).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let all = eventually("three events", || async {
        let all = read_all(&app, &app.admin, "").await;
        (all.len() >= 3).then_some(all)
    })
    .await;
    assert_eq!(
        types(&all),
        ["product.created", "product.created", "order.created"]
    );

    // Pages of one, each cursor going on where the last page ended; the end is
    // an empty page whose cursor still goes on from there.
    let mut ids = Vec::new();
    let mut query = "limit=1".to_string();
    loop {
        let page = feed_page(&app, &app.admin, &query).await;
        let cursor = page["next_cursor"].as_str().unwrap();
        query = format!("limit=1&after={cursor}");
        match page["data"].as_array().unwrap().as_slice() {
            [] => break,
            [event] => ids.push(event["id"].clone()),
            more => panic!("limit=1 gave {}", more.len()),
        }
    }
    let all_ids: Vec<Value> = all.iter().map(|event| event["id"].clone()).collect();
    assert_eq!(ids, all_ids);
    let end = feed_page(&app, &app.admin, &query).await;
    assert_eq!(end["data"], json!([]));

    let orders = read_all(&app, &app.admin, "&types=order.created,order.deleted").await;
    assert_eq!(types(&orders), ["order.created"]);
    assert_eq!(orders[0]["data"], order);
    let eu = read_all(&app, &app.admin, "&store=eu").await;
    assert_eq!(eu.len(), 1);
    assert_eq!(eu[0]["data"]["sku"], "CUP");

    // A store-scoped admin sees its store only; another store is not found.
    let scoped = app
        .key(ordersearch::http::auth::Role::Admin, Some("default"))
        .await;
    let own = read_all(&app, &scoped, "").await;
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|event| event["store"] == "default"));
    app.assert_get_problem(&scoped, "/v1/events?store=eu", 404)
        .await;
    let eu_id = eu[0]["id"].as_str().unwrap();
    app.assert_get_problem(&scoped, &format!("/v1/events/{eu_id}"), 404)
        .await;
    let one = changed(&app, "GET", &format!("/v1/events/{eu_id}"), None).await;
    assert_eq!(one, eu[0]);
}

#[tokio::test]
async fn bad_feed_parameters_are_400_problems_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("types=order.shipped", "types"),
        ("types=order.created,", "types"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("wait=31", "wait"),
        ("wait=-1", "wait"),
        ("after=not-a-cursor", "after"),
        ("after=Wy0xLDJd", "after"),
        ("colour=blue", "colour"),
    ] {
        let problem = app
            .assert_admin_get_problem(&format!("/v1/events?{query}"), 400)
            .await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    for id in [
        "evt_",
        "evt_x",
        "evt_-1",
        "1",
        "evt_99999999999999999999",
        "evt_1",
    ] {
        app.assert_admin_get_problem(&format!("/v1/events/{id}"), 404)
            .await;
    }
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_an_event_is_readable_and_waits_out_otherwise() {
    let app = TestApp::spawn().await;
    let status = changed(&app, "GET", "/v1/events/status", None).await;
    let head = status["head_cursor"].as_str().unwrap().to_string();
    let started = Instant::now();
    let empty = feed_page(&app, &app.admin, &format!("after={head}&wait=1")).await;
    assert_eq!(empty["data"], json!([]));
    assert!(
        started.elapsed().as_millis() >= 900,
        "{:?}",
        started.elapsed()
    );

    let poll = {
        let app = app.clone();
        tokio::spawn(async move {
            let query = format!("after={head}&wait=20");
            let started = Instant::now();
            (feed_page(&app, &app.admin, &query).await, started.elapsed())
        })
    };
    let product = app.product("default", "MUG", "12.50", 100).await;
    let (page, waited) = poll.await.unwrap();
    assert_eq!(page["data"][0]["subject_id"], product["id"], "{page}");
    assert!(
        waited.as_secs() < 20,
        "answered on the event, not the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_answers_a_long_poll_instead_of_waiting_it_out() {
    let app = TestApp::spawn().await;
    let served = Served::start(&app.pool, &app.search, false).await;
    let started = Instant::now();
    let poll = {
        let (base, key) = (served.base.clone(), app.admin.clone());
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .get(format!("{base}/v1/events?wait=30"))
                .bearer_auth(key)
                .send()
                .await
                .expect("the long poll is answered");
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        })
    };
    // The poll has read the log once (its connection's last statement shows it).
    eventually("the long poll to be waiting", || async {
        let reading: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_stat_activity
             where datname = current_database() and query like '%from events%')",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        reading.then_some(())
    })
    .await;
    let shutting_down = tokio::spawn(served.shut_down());
    let (status, page) = poll.await.unwrap();
    shutting_down.await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"], json!([]));
    assert!(page["next_cursor"].is_string());
    assert!(
        started.elapsed().as_secs() < 20,
        "shutdown did not wait out the 30 s poll: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn status_reports_the_head_the_oldest_event_and_the_count() {
    let app = TestApp::spawn().await;
    let empty = changed(&app, "GET", "/v1/events/status", None).await;
    assert_eq!(empty["events"], 0);
    assert_eq!(empty["head_event_id"], Value::Null);
    let first = app.product("default", "MUG", "12.50", 100).await;
    let second = app.product("default", "CUP", "9.00", 100).await;
    let all = eventually("both events readable", || async {
        let all = read_all(&app, &app.admin, "").await;
        (all.len() == 2).then_some(all)
    })
    .await;
    assert_eq!(all[0]["subject_id"], first["id"]);
    assert_eq!(all[1]["subject_id"], second["id"]);
    let after_head = changed(&app, "GET", "/v1/events/status", None).await;
    assert_eq!(after_head["events"], 2);
    assert_eq!(after_head["oldest_event_id"], all[0]["id"]);
    assert_eq!(after_head["head_event_id"], all[1]["id"]);
    let cursor = after_head["head_cursor"].as_str().unwrap();
    let rest = feed_page(&app, &app.admin, &format!("after={cursor}")).await;
    assert_eq!(
        rest["data"],
        json!([]),
        "the head cursor reads on after the head"
    );
}

#[tokio::test]
async fn pruning_keeps_readers_and_recent_events_and_an_older_cursor_is_gone() {
    let app = TestApp::spawn().await;
    for sku in ["A", "B", "C"] {
        app.product("default", sku, "1.00", 100).await;
    }
    let all = eventually("three events", || async {
        let all = read_all(&app, &app.admin, "").await;
        (all.len() == 3).then_some(all)
    })
    .await;
    let first = feed_page(&app, &app.admin, "limit=1").await;
    let after_first = first["next_cursor"].as_str().unwrap().to_string();
    let second = feed_page(&app, &app.admin, &format!("limit=1&after={after_first}")).await;
    let after_second = second["next_cursor"].as_str().unwrap().to_string();
    sqlx::query("update events set created_at = created_at - interval '31 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    // The analytics projector, a reader too, has read everything.
    app.project_all().await;
    // A registered reader at the second event holds pruning there.
    let second_id: i64 = all[1]["id"].as_str().unwrap()[4..].parse().unwrap();
    sqlx::query(
        "insert into event_readers (name, xact_id, id) select 'test', xact_id, id from events where id = $1",
    )
    .bind(second_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let pruned = ordersearch::events::feed::prune(&app.pool, 30)
        .await
        .unwrap();
    assert_eq!(pruned, 2, "the first two events, up to the reader");
    assert_eq!(
        ordersearch::events::feed::prune(&app.pool, 40)
            .await
            .unwrap(),
        0
    );

    let gone = app
        .assert_admin_get_problem(&format!("/v1/events?after={after_first}"), 410)
        .await;
    assert_eq!(gone["type"], "urn:ordersearch:problem:cursor-expired");
    let rest = feed_page(&app, &app.admin, &format!("after={after_second}")).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["data"][0]["id"], all[2]["id"]);
    let from_start = read_all(&app, &app.admin, "").await;
    assert_eq!(
        from_start.len(),
        1,
        "a new reader starts at the oldest retained"
    );
    assert_eq!(from_start[0]["id"], all[2]["id"]);
}

#[tokio::test]
async fn a_subjects_events_read_in_version_order_even_when_the_later_writer_took_its_id_first() {
    use ordersearch::events::{EventType, NewEvent, append};
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 100).await;
    let created = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let mut order: ordersearch::orders::model::Order =
        serde_json::from_value(created.clone()).unwrap();
    // `early` takes its transaction id first but writes the subject's later version.
    let mut early = app.pool.begin().await.unwrap();
    sqlx::query("select pg_current_xact_id()")
        .execute(&mut *early)
        .await
        .unwrap();
    let mut late = app.pool.begin().await.unwrap();
    order.version = 2;
    let second = NewEvent::order(EventType::OrderUpdated, &order).unwrap();
    append(&mut late, &[second]).await.unwrap();
    late.commit().await.unwrap();
    order.version = 3;
    let third = NewEvent::order(EventType::OrderUpdated, &order).unwrap();
    append(&mut early, &[third]).await.unwrap();
    early.commit().await.unwrap();

    let events = events_of(&app, &created["id"], 3).await;
    let versions: Vec<&Value> = events.iter().map(|e| &e["subject_version"]).collect();
    assert_eq!(versions, [&json!(1), &json!(2), &json!(3)]);
}
