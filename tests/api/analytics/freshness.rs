//! How fresh analytics answers are: `GET /v1/analytics/status`, `as_of` and
//! `lag_ms` on every answer, `fresh=true`, and the lag on `/metrics`.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ordersearch::http::auth::Role;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::Shop;
use super::projection::Projector;

/// The summary of the default store as the analyst, straight from the route
/// (no catching up first).
async fn summary(shop: &Shop, fresh: bool) -> Value {
    let uri = if fresh {
        "/v1/analytics/orders/summary?fresh=true"
    } else {
        "/v1/analytics/orders/summary"
    };
    let response = shop.app.get(uri).key(&shop.analyst).send().await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body
}

fn as_of(body: &Value) -> DateTime<Utc> {
    body["as_of"]
        .as_str()
        .expect("as_of")
        .parse()
        .expect("an RFC 3339 time")
}

#[tokio::test]
async fn the_status_says_how_far_the_projector_is_behind() {
    let shop = Shop::open().await;
    let mut rng = StdRng::seed_from_u64(7);
    shop.random_history(&mut rng, 6).await;
    let status = shop
        .app
        .get("/v1/analytics/status")
        .key(&shop.analyst)
        .send()
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(
        status.body["pending_events"].as_i64() >= Some(6),
        "{}",
        status.body
    );
    assert!(status.body["lag_ms"].as_i64() >= Some(0), "{}", status.body);
    assert!(status.body["position"].is_string() && status.body["last_applied_at"].is_string());

    shop.app.project_all().await;
    let status = shop
        .app
        .get("/v1/analytics/status")
        .key(&shop.app.admin)
        .send()
        .await;
    assert_eq!(status.body["pending_events"], 0, "{}", status.body);
    assert_eq!(status.body["lag_ms"], 0, "{}", status.body);

    for role in [Role::Writer, Role::Support] {
        let key = shop.app.key(role, None).await;
        shop.app
            .assert_get_problem(&key, "/v1/analytics/status", 403)
            .await;
    }
}

#[tokio::test]
async fn every_answer_says_what_it_is_complete_through() {
    let shop = Shop::open().await;
    let mut rng = StdRng::seed_from_u64(8);
    let before = Utc::now();
    shop.random_history(&mut rng, 3).await;
    let product = shop.products_of("default")[0].id.clone();
    let order =
        json!({"customer": {"id": "cus_1"}, "items": [{"product_id": product, "quantity": 1}]});
    shop.place(&order).await;
    // Behind: complete through the start of the oldest pending change.
    let behind = summary(&shop, false).await;
    assert!(
        as_of(&behind) >= before && as_of(&behind) <= Utc::now(),
        "{behind}"
    );
    assert!(behind["lag_ms"].as_i64().is_some(), "{behind}");
    shop.app.project_all().await;
    let current = summary(&shop, false).await;
    assert!(as_of(&current) >= as_of(&behind), "{current}");
    assert_eq!(current["lag_ms"], 0, "{current}");
    assert!(current["total_orders"].as_i64() >= Some(1), "{current}");
    let hourly = shop
        .app
        .get("/v1/analytics/sales/hourly")
        .key(&shop.analyst)
        .send()
        .await;
    assert!(
        hourly.body["as_of"].is_string() && hourly.body["lag_ms"] == 0,
        "{}",
        hourly.body
    );
}

#[tokio::test]
async fn fresh_waits_for_the_projector_and_says_when_it_gave_up() {
    let shop = Shop::open().await;
    let mut rng = StdRng::seed_from_u64(9);
    let mut projector = Projector::start(&shop.app.pool);
    shop.random_history(&mut rng, 4).await;
    let answer = summary(&shop, true).await;
    let counted: i64 = sqlx::query_scalar(
        "select count(*) from orders where deleted_at is null and store_id = 'default'",
    )
    .fetch_one(&shop.app.pool)
    .await
    .unwrap();
    assert_eq!(answer["total_orders"], counted, "{answer}");
    assert_eq!(answer["lag_ms"], 0, "{answer}");

    // No projector: it waits 5 s, then answers what it has, and says so.
    projector.kill().await;
    shop.random_history(&mut rng, 2).await;
    let started = Instant::now();
    let stale = summary(&shop, true).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
    assert!(stale["lag_ms"].as_i64() >= Some(5000), "{stale}");

    let metrics = ordersearch::telemetry::metrics_handle().render();
    assert!(
        metrics.contains("analytics_projector_lag_ms"),
        "the lag gauge on /metrics"
    );
}
