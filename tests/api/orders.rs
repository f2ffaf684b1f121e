//! Orders: creation with snapshots and stock, lifecycle, timeline, lists, soft delete.

use axum::http::StatusCode;
use ordersearch::http::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A valid order body for the given lines.
pub fn order_body(items: Value) -> Value {
    json!({
        "customer": {"id": "cus_1", "email": "jane@example.com", "name": "Jane Doe", "phone": "+48 600 100 200"},
        "items": items,
        "shipping_address": {"name": "Jane Doe", "line1": "Rynek 1", "city": "Kraków", "postal_code": "30-001", "country": "PL"},
        "tags": ["vip"],
        "note": "leave at the door"
    })
}

/// Creates an order as admin and returns its body.
pub async fn place(app: &TestApp, items: Value) -> Value {
    let response = app
        .post("/v1/orders", &order_body(items))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

async fn stock_of(app: &TestApp, product: &Value) -> i64 {
    let path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    app.get(&path).key(&app.admin).send().await.body["stock"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn creating_an_order_snapshots_products_merges_lines_and_reserves_stock() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG-BLUE", "12.50", 10).await;
    let kettle = app.product("default", "KETTLE", "40.99", 5).await;
    let response = app
        .post(
            "/v1/orders",
            &order_body(json!([
                {"product_id": mug["id"], "quantity": 2},
                {"sku": "KETTLE", "quantity": 1},
                {"sku": "MUG-BLUE", "quantity": 1}
            ])),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let order = &response.body;
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/orders/{}", order["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(order["status"], "pending");
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["total"], "78.49");
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "lines naming the same product are merged");
    assert_eq!(items[0]["sku"], "MUG-BLUE");
    assert_eq!(items[0]["quantity"], 3);
    assert_eq!(items[0]["line_total"], "37.50");
    assert_eq!(items[1]["name"], "Product KETTLE");
    assert_eq!(items[1]["unit_price"], "40.99");
    assert!(order["number"].as_i64().unwrap() > 1000);
    assert_eq!(stock_of(&app, &mug).await, 7);
    assert_eq!(stock_of(&app, &kettle).await, 4);
}

#[tokio::test]
async fn short_stock_is_a_conflict_naming_the_items_and_reserves_nothing() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG", "1.00", 2).await;
    let plate = app.product("default", "PLATE", "1.00", 9).await;
    let response = app
        .post(
            "/v1/orders",
            &order_body(json!([{"sku": "MUG", "quantity": 3}, {"sku": "PLATE", "quantity": 1}])),
        )
        .key(&app.admin)
        .send()
        .await;
    let problem = response.assert_problem(409);
    assert_eq!(problem["items"][0]["sku"], "MUG");
    assert_eq!(problem["items"][0]["available"], 2);
    assert_eq!(problem["items"].as_array().unwrap().len(), 1);
    assert_eq!(stock_of(&app, &mug).await, 2);
    assert_eq!(stock_of(&app, &plate).await, 9);
}

#[tokio::test]
async fn unknown_inactive_and_ambiguous_items_are_named() {
    let app = TestApp::spawn().await;
    let old = app.product("default", "OLD", "1.00", 5).await;
    app.delete(&format!("/v1/products/{}", old["id"].as_str().unwrap()))
        .key(&app.admin)
        .send()
        .await;
    let response = app
        .post(
            "/v1/orders",
            &order_body(json!([
                {"sku": "NOPE", "quantity": 1},
                {"sku": "OLD", "quantity": 1},
                {"product_id": uuid::Uuid::new_v4(), "quantity": 1}
            ])),
        )
        .key(&app.admin)
        .send()
        .await;
    response.assert_problem(422);
    assert_eq!(
        response.error_fields(),
        ["items[0].sku", "items[1]", "items[2].product_id"]
    );
    let both = app
        .post(
            "/v1/orders",
            &order_body(json!([{"sku": "OLD", "product_id": old["id"], "quantity": 1}])),
        )
        .key(&app.admin)
        .send()
        .await;
    both.assert_problem(422);
    let invalid = app
        .post(
            "/v1/orders",
            &json!({"customer": {"email": "not-an-email"}, "items": [{"sku": "X", "quantity": 0}]}),
        )
        .key(&app.admin)
        .send()
        .await;
    invalid.assert_problem(422);
    assert_eq!(
        invalid.error_fields(),
        ["customer.email", "items[0].quantity"]
    );
}

#[tokio::test]
async fn a_second_order_with_the_same_external_id_names_the_first() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 5).await;
    let mut body = order_body(json!([{"sku": "MUG", "quantity": 1}]));
    body["external_id"] = json!("shop-1001");
    let first = app.post("/v1/orders", &body).key(&app.admin).send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app.post("/v1/orders", &body).key(&app.admin).send().await;
    let problem = second.assert_problem(409);
    assert_eq!(problem["existing_order_id"], first.body["id"]);
    // A retry the stock could no longer cover still learns the order exists.
    body["items"] = json!([{"sku": "MUG", "quantity": 5}]);
    let retry = app.post("/v1/orders", &body).key(&app.admin).send().await;
    let problem = retry.assert_problem(409);
    assert_eq!(problem["existing_order_id"], first.body["id"]);
}

#[tokio::test]
async fn an_order_for_an_unknown_store_names_the_store() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 5).await;
    let mut body = order_body(json!([{"sku": "MUG", "quantity": 1}]));
    body["store"] = json!("nowhere");
    let response = app.post("/v1/orders", &body).key(&app.admin).send().await;
    response.assert_problem(422);
    assert_eq!(response.error_fields(), ["store"]);
}

#[tokio::test]
async fn an_order_is_found_by_uuid_and_by_number_with_status_and_timeline() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 5).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let by_id = app
        .get(&format!("/v1/orders/{}", order["id"].as_str().unwrap()))
        .key(&app.admin)
        .send()
        .await;
    let by_number = app
        .get(&format!("/v1/orders/{}", order["number"]))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(by_id.body, order);
    assert_eq!(by_number.body, order);
    let status = app
        .get(&format!("/v1/orders/{}/status", order["number"]))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(status.body["status"], "pending");
    let events = app
        .get(&format!("/v1/orders/{}/events", order["number"]))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(events.body["data"][0]["kind"], "created");
    assert_eq!(events.body["data"][0]["actor"], "test admin");
    for path in [
        "/v1/orders/999999999",
        "/v1/orders/not-an-id",
        "/v1/orders/999999999/events",
    ] {
        app.assert_admin_get_problem(path, 404).await;
    }
}

#[tokio::test]
async fn the_lifecycle_is_checked_and_sets_its_timestamps() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 5).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    let skip = app
        .patch(&path, &json!({"status": "shipped"}))
        .key(&app.admin)
        .send()
        .await;
    let problem = skip.assert_problem(409);
    assert_eq!(problem["allowed_next"], json!(["processing", "cancelled"]));
    for (status, version) in [("processing", 2), ("shipped", 3)] {
        let moved = app
            .patch(&path, &json!({"status": status}))
            .key(&app.admin)
            .send()
            .await;
        assert_eq!(moved.body["status"], status, "{}", moved.body);
        assert_eq!(moved.body["version"], version);
    }
    let tracked = app
        .patch(
            &path,
            &json!({"tracking": {"carrier": "DHL", "number": "JD0001"}, "note": "fragile"}),
        )
        .key(&app.admin)
        .header("if-match", "\"3\"")
        .send()
        .await;
    assert_eq!(tracked.body["tracking"]["carrier"], "DHL");
    app.patch(&path, &json!({"note": "late"}))
        .key(&app.admin)
        .header("if-match", "\"3\"")
        .send()
        .await
        .assert_problem(412);
    let done = app
        .patch(&path, &json!({"status": "completed"}))
        .key(&app.admin)
        .send()
        .await;
    assert!(done.body["completed_at"].is_string());
    let cancel = app
        .patch(&path, &json!({"status": "cancelled"}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(cancel.assert_problem(409)["allowed_next"], json!([]));
    let events = app
        .get(&format!("{path}/events"))
        .key(&app.admin)
        .send()
        .await;
    let kinds: Vec<&str> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "status_changed",
            "status_changed",
            "edited",
            "note_changed",
            "status_changed"
        ]
    );
    app.patch(&path, &json!({"items": []}))
        .key(&app.admin)
        .send()
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn cancelling_an_order_releases_its_stock() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG", "1.00", 5).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 4}])).await;
    assert_eq!(stock_of(&app, &mug).await, 1);
    let support = app.key(Role::Support, None).await;
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    app.patch(&path, &json!({"status": "processing"}))
        .key(&support)
        .send()
        .await
        .assert_problem(403);
    let cancelled = app
        .patch(&path, &json!({"status": "cancelled"}))
        .key(&support)
        .send()
        .await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert!(cancelled.body["cancelled_at"].is_string());
    assert_eq!(stock_of(&app, &mug).await, 5);
}

#[tokio::test]
async fn deleting_an_order_cancels_it_hides_it_and_keeps_it() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG", "1.00", 5).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 2}])).await;
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    let deleted = app.delete(&path).key(&app.admin).send().await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["status"], "cancelled");
    assert!(deleted.body["deleted_at"].is_string());
    assert_eq!(stock_of(&app, &mug).await, 5);
    let listed = app.get("/v1/orders").key(&app.admin).send().await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 0);
    let with_deleted = app
        .get("/v1/orders?include_deleted=true")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(with_deleted.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&path).key(&app.admin).send().await.status,
        StatusCode::OK
    );
    for call in [app.delete(&path), app.patch(&path, &json!({"note": "x"}))] {
        call.key(&app.admin).send().await.assert_problem(404);
    }
}

#[tokio::test]
async fn snapshots_do_not_change_when_the_product_does() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG", "10.00", 5).await;
    let order = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let product_path = format!("/v1/products/{}", mug["id"].as_str().unwrap());
    let changed = app
        .patch(
            &product_path,
            &json!({"name": "Renamed", "price": "99.00", "category": "Other"}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["price"], "99.00");
    let deactivated = app.delete(&product_path).key(&app.admin).send().await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    assert_eq!(deactivated.body["active"], false);
    let fetched = app
        .get(&format!("/v1/orders/{}", order["id"].as_str().unwrap()))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(fetched.body["items"], order["items"]);
    assert_eq!(fetched.body["total"], "10.00");
    let listed = app.get("/v1/orders").key(&app.admin).send().await;
    assert_eq!(listed.body["data"][0]["items"], order["items"]);
}

#[tokio::test]
async fn lists_filter_and_page_newest_first() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 100).await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(place(&app, json!([{"sku": "MUG", "quantity": 1}])).await["id"].clone());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/orders?limit=2".to_string();
    loop {
        let page = app.get(&path).key(&app.admin).send().await;
        seen.extend(
            page.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].clone()),
        );
        // Inserts made while paging never shift what later pages hold.
        place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/orders?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
    let pending = app
        .get("/v1/orders?status=pending&email=JANE@example.com&customer_id=cus_1")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(
        pending.body["data"].as_array().unwrap().len(),
        8,
        "5 placed first, 3 while paging"
    );
    let future = app
        .get("/v1/orders?created_from=2999-01-01")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(future.body["data"].as_array().unwrap().len(), 0);
    for (path, status) in [
        ("/v1/orders?status=lost", 400),
        ("/v1/orders?created_to=yesterday", 400),
        ("/v1/orders?store=nowhere", 404),
    ] {
        app.assert_admin_get_problem(path, status).await;
    }
}

#[tokio::test]
async fn a_store_scoped_key_cannot_touch_another_stores_order() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    app.product("eu", "MUG", "1.00", 5).await;
    let mut body = order_body(json!([{"sku": "MUG", "quantity": 1}]));
    body["store"] = json!("eu");
    let theirs = app
        .post("/v1/orders", &body)
        .key(&app.admin)
        .send()
        .await
        .body;
    assert_eq!(theirs["currency"], "EUR");
    let scoped = app.key(Role::Writer, Some("default")).await;
    for path in [
        format!("/v1/orders/{}", theirs["id"].as_str().unwrap()),
        format!("/v1/orders/{}", theirs["number"]),
        format!("/v1/orders/{}/status", theirs["number"]),
        format!("/v1/orders/{}/events", theirs["number"]),
    ] {
        app.assert_get_problem(&scoped, &path, 404).await;
    }
    let by_number = format!("/v1/orders/{}", theirs["number"]);
    for call in [
        app.patch(&by_number, &json!({"note": "x"})),
        app.delete(&by_number),
    ] {
        call.key(&scoped).send().await.assert_problem(404);
    }
    app.assert_get_problem(&scoped, "/v1/orders?store=eu", 404)
        .await;
    let listed = app.get("/v1/orders").key(&scoped).send().await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 0);
    let into_other = app.post("/v1/orders", &body).key(&scoped).send().await;
    into_other.assert_problem(422);
    assert_eq!(into_other.error_fields(), ["store"]);
}

#[tokio::test]
async fn a_refused_order_is_replayed_under_its_key_even_after_stock_arrives() {
    let app = TestApp::spawn().await;
    let mug = app.product("default", "MUG", "1.00", 1).await;
    let place_with_key = |key: &'static str| {
        app.post(
            "/v1/orders",
            &order_body(json!([{"sku": "MUG", "quantity": 2}])),
        )
        .key(&app.admin)
        .header("idempotency-key", key)
        .send()
    };
    let refused = place_with_key("short-1").await;
    refused.assert_problem(409);
    let restocked = app
        .patch(
            &format!("/v1/products/{}", mug["id"].as_str().unwrap()),
            &json!({"stock": 10}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(restocked.status, 200, "{}", restocked.body);
    // The key's answer was the refusal: a retry gets it again, byte for byte.
    let retry = place_with_key("short-1").await;
    assert_eq!(retry.status, refused.status);
    assert_eq!(retry.bytes, refused.bytes);
    let with_new_key = place_with_key("short-2").await;
    assert_eq!(with_new_key.status, 201, "{}", with_new_key.body);
    let count: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "1.00", 5).await;
    let place_with_key = |quantity: i64| {
        app.post(
            "/v1/orders",
            &order_body(json!([{"sku": "MUG", "quantity": quantity}])),
        )
        .key(&app.admin)
        .header("idempotency-key", "k-1")
        .send()
    };
    let first = place_with_key(1).await;
    let retry = place_with_key(1).await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(retry.header("location"), first.header("location"));
    let other = place_with_key(2).await;
    other.assert_problem(409);
    let count: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
