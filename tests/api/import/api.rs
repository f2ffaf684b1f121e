//! `POST /v1/imports` and `GET /v1/imports/{id}`: history keeps its dates and
//! status, touches no stock, is created once, emits `order.imported`, reaches
//! search and counts in the analytics at its own dates.

use chrono::{Days, Utc};
use serde_json::json;

use super::{counts, history_order, import, import_as, ndjson, number, order_by_external_id, shop};
use crate::helpers::TestApp;

#[tokio::test]
async fn imported_history_keeps_its_dates_and_status_and_never_touches_stock() {
    let app = shop().await;
    let mut cancelled = history_order("old-2", "2024-05-02T10:00:00Z", "cancelled");
    cancelled["cancelled_at"] = json!("2024-05-03T08:00:00Z");
    let body = ndjson(&[
        history_order("old-1", "2024-05-01T09:30:00Z", "completed"),
        cancelled,
    ]);

    let run = import(&app, &body).await;

    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(counts(&run), [2, 2, 0, 0, 0], "{run}");
    let completed = order_by_external_id(&app, "default", "old-1").await;
    assert_eq!(completed["created_at"], "2024-05-01T09:30:00Z");
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["completed_at"], "2024-05-01T09:30:00Z");
    assert_eq!(completed["total"], "19.00");
    assert_eq!(completed["items"][0]["unit_price"], "9.50");
    let cancelled = order_by_external_id(&app, "default", "old-2").await;
    assert_eq!(cancelled["cancelled_at"], "2024-05-03T08:00:00Z");
    let stock = number(&app, "select stock from products where sku = 'MUG'").await;
    assert_eq!(stock, 10, "history never touches stock");
}

#[tokio::test]
async fn importing_again_creates_nothing_twice() {
    let app = shop().await;
    let body = ndjson(&[
        history_order("old-1", "2024-05-01T09:30:00Z", "completed"),
        history_order("old-2", "2024-05-02T09:30:00Z", "pending"),
    ]);
    import(&app, &body).await;

    let again = import(&app, &body).await;
    // Two at once: still one order per external id.
    let (first, second) = tokio::join!(import(&app, &body), import(&app, &body));

    assert_eq!(counts(&again), [2, 0, 0, 2, 0], "{again}");
    assert_eq!(counts(&first)[1] + counts(&second)[1], 0);
    let orders = number(&app, "select count(*) from orders").await;
    assert_eq!(orders, 2);
}

#[tokio::test]
async fn each_imported_order_emits_order_imported_and_never_order_created() {
    let app = shop().await;
    import(
        &app,
        &ndjson(&[history_order("old-1", "2024-05-01T09:30:00Z", "completed")]),
    )
    .await;

    let types: Vec<String> =
        sqlx::query_scalar("select type from events where type like 'order.%'")
            .fetch_all(&app.pool)
            .await
            .unwrap();

    assert_eq!(types, ["order.imported"]);
    let data: serde_json::Value =
        sqlx::query_scalar("select data from events where type = 'order.imported'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(data["external_id"], "old-1");
    assert_eq!(data["created_at"], "2024-05-01T09:30:00Z");
}

#[tokio::test]
async fn cancelling_or_deleting_an_imported_order_releases_no_stock() {
    let app = shop().await;
    import(
        &app,
        &ndjson(&[
            history_order("open-1", "2024-05-01T09:30:00Z", "pending"),
            history_order("open-2", "2024-05-01T09:30:00Z", "processing"),
        ]),
    )
    .await;
    let first = order_by_external_id(&app, "default", "open-1").await;
    let second = order_by_external_id(&app, "default", "open-2").await;

    let cancel = app
        .patch(
            &format!("/v1/orders/{}", first["id"].as_str().unwrap()),
            &json!({"status": "cancelled"}),
        )
        .key(&app.admin)
        .send()
        .await;
    let delete = app
        .delete(&format!("/v1/orders/{}", second["id"].as_str().unwrap()))
        .key(&app.admin)
        .send()
        .await;

    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert!(delete.status.is_success(), "{}", delete.body);
    let stock = number(&app, "select stock from products where sku = 'MUG'").await;
    assert_eq!(stock, 10);
}

#[tokio::test]
async fn imported_orders_count_in_the_analytics_at_their_own_dates_and_reach_search() {
    let app = shop().await;
    let yesterday = (Utc::now().date_naive() - Days::new(1))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let mut order = history_order("yday-1", &yesterday.to_rfc3339(), "completed");
    order["items"][0]["quantity"] = json!(3);
    order["customer"]["id"] = json!("cus-ltv");
    import(&app, &ndjson(&[order])).await;

    app.project_all().await;
    app.index_all().await;

    let top = app
        .get("/v1/analytics/products/top-bought-yesterday?store=default")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(top.status, 200, "{}", top.body);
    assert!(top.body.to_string().contains("\"MUG\""), "{}", top.body);
    let sold: i64 = sqlx::query_scalar(
        "select quantity from analytics_product_sales
         where store_id = 'default' and grain = 'day' and period = $1",
    )
    .bind(yesterday.date_naive())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(sold, 3);
    let ltv = app
        .get("/v1/analytics/customers/cus-ltv/lifetime-value?store=default")
        .key(&app.admin)
        .send()
        .await;
    assert!(ltv.body.to_string().contains("28.50"), "{}", ltv.body);
    let found = app
        .get("/v1/orders/search?q=buyer")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.to_string().contains("cus-ltv"), "{}", found.body);
}

#[tokio::test]
async fn a_store_scoped_admin_imports_into_its_own_store_only() {
    let app = shop().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    app.product("eu", "MUG", "9.50", 10).await;
    let scoped = app
        .key(ordersearch::http::auth::Role::Admin, Some("default"))
        .await;
    let mut elsewhere = history_order("eu-1", "2024-05-01T09:30:00Z", "completed");
    elsewhere["store"] = json!("eu");
    let body = ndjson(&[
        history_order("own-1", "2024-05-01T09:30:00Z", "completed"),
        elsewhere,
    ]);

    let run = import_as(&app, &scoped, "", &body).await;
    let refused = app
        .call(axum::http::Method::POST, "/v1/imports?store=eu")
        .key(&scoped)
        .raw("application/x-ndjson", body.clone())
        .send()
        .await;

    assert_eq!(counts(&run), [2, 1, 0, 0, 1], "{run}");
    assert_eq!(run["errors"][0]["line"], 2);
    assert_eq!(run["errors"][0]["error"], "store: unknown store `eu`");
    refused.assert_problem(422);
    assert_eq!(refused.error_fields(), ["store"]);
    let in_eu = number(&app, "select count(*) from orders where store_id = 'eu'").await;
    assert_eq!(in_eu, 0);
    let other_admin_run = app
        .get(&format!("/v1/imports/{}", run["id"].as_str().unwrap()))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(other_admin_run.status, 200);
}

#[tokio::test]
async fn a_dry_run_reports_what_would_happen_and_writes_nothing() {
    let app = shop().await;
    import(
        &app,
        &ndjson(&[history_order("old-1", "2024-05-01T09:30:00Z", "pending")]),
    )
    .await;
    let body = ndjson(&[
        history_order("old-1", "2024-05-01T09:30:00Z", "completed"),
        history_order("new-1", "2024-05-02T09:30:00Z", "completed"),
        history_order("bad-1", "2999-01-01T00:00:00Z", "completed"),
    ]);

    let run = import_as(&app, &app.admin, "?dry_run=true", &body).await;

    assert_eq!(counts(&run), [3, 1, 1, 0, 1], "{run}");
    assert_eq!(run["dry_run"], true);
    let orders: Vec<(String, String)> = sqlx::query_as("select external_id, status from orders")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(orders, [("old-1".to_string(), "pending".to_string())]);
}

#[tokio::test]
async fn a_bad_request_is_a_problem_naming_what_is_wrong() {
    let app = TestApp::spawn().await;
    let post = |content_type: &'static str, query: &'static str, body: &'static str| {
        app.call(axum::http::Method::POST, &format!("/v1/imports{query}"))
            .key(&app.admin)
            .raw(content_type, body)
            .send()
    };

    post("text/plain", "", "{}\n").await.assert_problem(415);
    let unknown_store = post("application/x-ndjson", "?store=nowhere", "{}\n").await;
    let empty = post("application/x-ndjson", "", "\n").await;
    let not_an_array = post("application/json", "", "{\"external_id\": 1}").await;
    let bad_flag = post("application/x-ndjson", "?dry_run=maybe", "{}\n").await;

    unknown_store.assert_problem(422);
    assert_eq!(unknown_store.error_fields(), ["store"]);
    empty.assert_problem(422);
    assert_eq!(empty.error_fields(), ["body"]);
    not_an_array.assert_problem(422);
    bad_flag.assert_problem(400);
    app.assert_admin_get_problem("/v1/imports/not-a-run", 404)
        .await;
    app.assert_admin_get_problem(&format!("/v1/imports/{}", uuid::Uuid::new_v4()), 404)
        .await;
}
