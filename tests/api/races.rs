//! Concurrency claims proven by really racing requests.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::orders::order_body;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn five_hundred_racing_orders_never_oversell_137_units() {
    let app = TestApp::spawn_with_pool(32).await;
    let product = app.product("default", "HOT", "5.00", 137).await;
    let tasks: Vec<_> = (0..500)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post(
                    "/v1/orders",
                    &order_body(json!([{"sku": "HOT", "quantity": 1}])),
                )
                .key(&app.admin)
                .send()
                .await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status {
            StatusCode::CREATED => created.push(response.body["id"].as_str().unwrap().to_string()),
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("unexpected {other}: {}", response.body),
        }
    }
    assert_eq!(created.len(), 137);
    assert_eq!(conflicts, 363);
    let path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    assert_eq!(app.get(&path).key(&app.admin).send().await.body["stock"], 0);
    let sold: i64 = sqlx::query_scalar("select coalesce(sum(quantity), 0) from order_items")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sold, 137);

    let cancels: Vec<_> = created
        .into_iter()
        .map(|id| {
            let app = app.clone();
            tokio::spawn(async move {
                app.patch(&format!("/v1/orders/{id}"), &json!({"status": "cancelled"}))
                    .key(&app.admin)
                    .send()
                    .await
                    .status
            })
        })
        .collect();
    for cancel in cancels {
        assert_eq!(cancel.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        app.get(&path).key(&app.admin).send().await.body["stock"],
        137
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_hundred_racing_retries_with_one_idempotency_key_make_one_order() {
    let app = TestApp::spawn_with_pool(32).await;
    app.product("default", "MUG", "5.00", 1000).await;
    let body = order_body(json!([{"sku": "MUG", "quantity": 1}]));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let app = app.clone();
            let body = body.clone();
            tokio::spawn(async move {
                app.post("/v1/orders", &body)
                    .key(&app.admin)
                    .header("idempotency-key", "checkout-42")
                    .send()
                    .await
            })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.unwrap());
    }
    let distinct: HashSet<(u16, Vec<u8>)> = responses
        .iter()
        .map(|r| (r.status.as_u16(), r.bytes.clone()))
        .collect();
    assert_eq!(distinct.len(), 1, "all 100 responses are identical");
    assert_eq!(responses[0].status, StatusCode::CREATED);
    let count: i64 = sqlx::query_scalar("select count(*) from orders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
