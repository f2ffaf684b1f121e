//! What each analytics route refuses: bad dates, `from` after `to`, unknown
//! products, keys without the role, stores a key cannot see; and what it does
//! not refuse: unknown categories and customers answer zeros.

use ordersearch::http::auth::Role;
use serde_json::json;

use super::Shop;

/// Every analytics route, with a product of `default` where one is needed.
fn routes(product: &str) -> Vec<String> {
    vec![
        "/v1/analytics/products/top".into(),
        "/v1/analytics/products/top-bought-yesterday".into(),
        format!("/v1/analytics/products/{product}/sales"),
        "/v1/analytics/categories".into(),
        "/v1/analytics/categories/Kitchen/revenue".into(),
        "/v1/analytics/customers/cus_1/lifetime-value".into(),
        "/v1/analytics/sales/hourly".into(),
        "/v1/analytics/orders/summary".into(),
    ]
}

/// Query parameters as written.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn params<'a>(pairs: &[(&'a str, &str)]) -> Vec<(&'a str, String)> {
    pairs
        .iter()
        .map(|(name, value)| (*name, value.to_string()))
        .collect()
}

#[tokio::test]
async fn only_analyst_and_admin_keys_read_analytics() {
    let shop = Shop::open().await;
    let product = shop.products_of("default")[0].id.clone();
    let writer = shop.app.key(Role::Writer, None).await;
    let support = shop.app.key(Role::Support, None).await;
    for route in routes(&product) {
        for key in [&writer, &support] {
            shop.get_as(key, &route, &[]).await.assert_problem(403);
        }
        for key in [&shop.analyst, &shop.app.admin] {
            let allowed = shop.get_as(key, &route, &[]).await;
            assert_eq!(allowed.status, 200, "{route}: {}", allowed.body);
        }
        let anonymous = shop.app.get(&route).send().await;
        anonymous.assert_problem(401);
    }
}

#[tokio::test]
async fn a_store_scoped_key_sees_its_store_alone() {
    let shop = Shop::open().await;
    let own = shop.products_of("default")[0].id.clone();
    let foreign = shop.products_of("eu")[0].id.clone();
    let scoped = shop.app.key(Role::Analyst, Some("default")).await;
    for route in routes(&own) {
        let other = shop
            .get_as(&scoped, &route, &params(&[("store", "eu")]))
            .await;
        other.assert_problem(404);
        let unknown = shop.figures(&route, &params(&[("store", "nowhere")])).await;
        unknown.assert_problem(404);
        let home = shop.get_as(&scoped, &route, &[]).await;
        assert_eq!(home.status, 200, "{route}: {}", home.body);
    }
    let path = format!("/v1/analytics/products/{foreign}/sales");
    shop.get_as(&scoped, &path, &[]).await.assert_problem(404);
    // An unscoped key reads a product in its own store, but not under another store.
    let sales = shop.figures(&path, &[]).await;
    assert_eq!(sales.status, 200, "{}", sales.body);
    shop.figures(&path, &params(&[("store", "default")]))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn bad_dates_and_reversed_ranges_are_422_naming_the_field() {
    let shop = Shop::open().await;
    let product = shop.products_of("default")[0].id.clone();
    let cases: [(Pairs, &[&str]); 7] = [
        (&[("from", "2025-02-30")], &["from"]),
        (&[("to", "yesterday")], &["to"]),
        (
            &[("from", "2025-13-01"), ("to", "2025-1-1")],
            &["from", "to"],
        ),
        (&[("from", "2025-03-02"), ("to", "2025-03-01")], &["from"]),
        (
            &[
                ("from", "2025-03-01T10:00:00Z"),
                ("to", "2025-03-01T09:59:59Z"),
            ],
            &["from"],
        ),
        (&[("tz", "Mars/Olympus_Mons")], &["tz"]),
        (&[("from", "+12025-01-01")], &["from"]),
    ];
    for route in routes(&product) {
        let takes_range = !route.ends_with("top-bought-yesterday");
        for (pairs, fields) in cases {
            if !takes_range && pairs.iter().any(|(name, _)| *name != "tz") {
                continue;
            }
            let refused = shop.figures(&route, &params(pairs)).await;
            assert_eq!(refused.status, 422, "{route} {pairs:?}: {}", refused.body);
            refused.assert_problem(422);
            assert_eq!(refused.error_fields(), *fields, "{route} {pairs:?}");
        }
    }
    // A one-day range is fine; so is an empty time range.
    for pairs in [
        &[("from", "2025-03-01"), ("to", "2025-03-01")][..],
        &[
            ("from", "2025-03-01T10:00:00Z"),
            ("to", "2025-03-01T10:00:00Z"),
        ][..],
    ] {
        let ok = shop
            .figures("/v1/analytics/orders/summary", &params(pairs))
            .await;
        assert_eq!(ok.status, 200, "{pairs:?}: {}", ok.body);
    }
}

#[tokio::test]
async fn bad_parameters_are_400_naming_them() {
    let shop = Shop::open().await;
    for (pairs, field) in [
        (&[("by", "margin")][..], "by"),
        (&[("limit", "0")][..], "limit"),
        (&[("limit", "101")][..], "limit"),
        (&[("sort", "up")][..], "sort"),
    ] {
        let refused = shop
            .figures("/v1/analytics/products/top", &params(pairs))
            .await;
        refused.assert_problem(400);
        assert_eq!(refused.error_fields(), [field], "{pairs:?}");
    }
    let refused = shop
        .figures(
            "/v1/analytics/products/top-bought-yesterday",
            &params(&[("from", "2025-01-01")]),
        )
        .await;
    refused.assert_problem(400);
}

#[tokio::test]
async fn unknown_products_are_404_and_unknown_categories_and_customers_are_zero() {
    let shop = Shop::open().await;
    for id in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_string()] {
        let path = format!("/v1/analytics/products/{id}/sales");
        shop.figures(&path, &[]).await.assert_problem(404);
    }
    let category = shop
        .figures("/v1/analytics/categories/Nope/revenue", &[])
        .await;
    assert_eq!(category.status, 200);
    assert_eq!(
        category.body,
        json!({"category": "Nope", "revenue": "0.00", "orders": 0, "quantity": 0})
    );
    let customer = shop
        .figures("/v1/analytics/customers/nobody/lifetime-value", &[])
        .await;
    assert_eq!(customer.status, 200);
    assert_eq!(
        customer.body,
        json!({"customer_id": "nobody", "total_spent": "0.00", "orders": 0, "average_order_value": "0.00",
               "first_order_at": null, "last_order_at": null})
    );
    let product = &shop.products_of("default")[1].id;
    let sales = shop
        .figures(&format!("/v1/analytics/products/{product}/sales"), &[])
        .await;
    assert_eq!(
        sales.body,
        json!({"product_id": product, "quantity": 0, "revenue": "0.00", "orders": 0})
    );
    let summary = shop.figures("/v1/analytics/orders/summary", &[]).await;
    assert_eq!(
        summary.body,
        json!({"total_orders": 0, "revenue": "0.00", "average_processing_seconds": null,
               "by_status": {"pending": 0, "processing": 0, "shipped": 0, "completed": 0, "cancelled": 0}})
    );
}

#[tokio::test]
async fn profit_leaves_out_lines_without_a_cost_and_counts_them() {
    let shop = Shop::open().await;
    // Products 0 and 2 have a cost (1.25, 3.25); product 1 has none.
    let products = shop.products_of("default");
    let items = json!([
        {"product_id": products[0].id, "quantity": 2},
        {"product_id": products[1].id, "quantity": 1},
        {"product_id": products[2].id, "quantity": 1}
    ]);
    let body = json!({"customer": {"id": "cus_1"}, "items": items});
    shop.place(&body).await;
    let top = shop
        .figures("/v1/analytics/products/top", &params(&[("by", "profit")]))
        .await;
    assert_eq!(top.status, 200, "{}", top.body);
    assert_eq!(top.body["lines_without_cost"], 1);
    let rows = top.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    // Product 2: 17.26 - 3.25; product 0: 2 × (3.00 - 1.25); product 1: unknown, last.
    assert_eq!(rows[0]["product_id"], json!(products[2].id));
    assert_eq!(rows[0]["profit"], "14.01");
    assert_eq!(rows[1]["profit"], "3.50");
    assert_eq!(rows[2]["product_id"], json!(products[1].id));
    assert_eq!(rows[2]["profit"], json!(null));
    assert_eq!(rows[2]["revenue"], "10.13");
}
