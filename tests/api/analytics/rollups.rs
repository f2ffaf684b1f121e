//! The rollups kept live by order writes are exactly what a rebuild computes
//! from the orders, whatever the history and however concurrent the writes.

use ordersearch::seed::SeedOptions;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use sqlx::PgPool;

use super::{Shop, rebuild};

/// Every rollup row, as text with numbers at a fixed scale (so `0` and `0.00`,
/// equal sums reached by different paths, compare equal).
pub async fn snapshot(pool: &PgPool) -> Vec<String> {
    const TABLES: [&str; 5] = [
        "select concat_ws(' ', 'product', store_id, grain, period, product_id, quantity, round(revenue, 6),
                orders, lines, lines_without_cost, round(costed_revenue, 6), round(cost, 6))
         from analytics_product_sales",
        "select concat_ws(' ', 'category', store_id, grain, period, category, shard, round(revenue, 6),
                quantity, orders)
         from analytics_category_sales",
        "select concat_ws(' ', 'customer', store_id, customer_id, day, orders, round(revenue, 6),
                first_at, last_at)
         from analytics_customer_sales",
        "select concat_ws(' ', 'hour', store_id, hour, shard, orders, round(revenue, 6))
         from analytics_hourly_sales",
        "select concat_ws(' ', 'status', store_id, grain, period, status, shard, orders, round(revenue, 6),
                round(processing_seconds, 6))
         from analytics_status_counts",
    ];
    let mut rows = Vec::new();
    for table in TABLES {
        let mut lines: Vec<String> = sqlx::query_scalar(table).fetch_all(pool).await.unwrap();
        lines.sort();
        rows.extend(lines);
    }
    rows
}

/// Asserts the live rollups equal a rebuild, naming the rows that differ.
pub async fn assert_live_equals_rebuild(shop: &Shop, context: &str) {
    let live = snapshot(&shop.app.pool).await;
    rebuild(&shop.app).await;
    let rebuilt = snapshot(&shop.app.pool).await;
    let only_live: Vec<&String> = live.iter().filter(|row| !rebuilt.contains(row)).collect();
    let only_rebuilt: Vec<&String> = rebuilt.iter().filter(|row| !live.contains(row)).collect();
    assert!(
        only_live.is_empty() && only_rebuilt.is_empty(),
        "{context}: live rollups differ from a rebuild\nonly live: {only_live:#?}\nonly rebuilt: {only_rebuilt:#?}"
    );
    assert!(!live.is_empty(), "{context}: the history left rollup rows");
}

#[tokio::test]
async fn rebuild_gives_exactly_the_live_rollups_of_a_random_history() {
    let seed = super::seed();
    let shop = Shop::open().await;
    let mut rng = StdRng::seed_from_u64(seed);
    shop.random_history(&mut rng, 120).await;
    assert_live_equals_rebuild(&shop, &format!("seed {seed}")).await;
}

/// Walks an order through `steps` as the admin: statuses, or `delete`.
async fn walk(shop: &Shop, order: &str, steps: &[&str]) {
    let path = format!("/v1/orders/{order}");
    for step in steps {
        let response = if *step == "delete" {
            shop.app.delete(&path).key(&shop.app.admin).send().await
        } else {
            let body = json!({"status": step});
            shop.app
                .patch(&path, &body)
                .key(&shop.app.admin)
                .send()
                .await
        };
        assert_eq!(response.status, 200, "{step}: {}", response.body);
    }
}

/// What happens to seeded orders, by their seeded status: cancels, completions
/// and deletes (each changes what the order contributes), and moves that do not.
const SEEDED_MOVES: [(&str, &[&str]); 7] = [
    ("pending", &["cancelled"]),
    ("pending", &["processing", "shipped", "completed"]),
    ("processing", &["cancelled", "delete"]),
    ("processing", &["shipped"]),
    ("shipped", &["completed"]),
    ("completed", &["delete"]),
    ("cancelled", &["delete"]),
];

#[tokio::test]
async fn rebuild_gives_exactly_the_live_rollups_of_seeded_orders_changed_through_the_api() {
    let seed = super::seed();
    let shop = Shop::open().await;
    let options = SeedOptions {
        orders: 1000,
        stores: vec!["default".into(), "eu".into(), "us".into()],
        products: 40,
        chunk: 250,
        ..Default::default()
    };
    ordersearch::seed::seed(&shop.app.pool, &options, false)
        .await
        .expect("seeding");

    let mut moved: Vec<String> = Vec::new();
    for (status, steps) in SEEDED_MOVES {
        let picked: Vec<String> = sqlx::query_scalar(
            "select id::text from orders
             where status = $1 and deleted_at is null and external_id like 'seed-%'
               and id::text <> all($2)
             order by md5(id::text) limit 3",
        )
        .bind(status)
        .bind(&moved)
        .fetch_all(&shop.app.pool)
        .await
        .unwrap();
        assert_eq!(picked.len(), 3, "seeded {status} orders");
        for order in &picked {
            walk(&shop, order, steps).await;
        }
        moved.extend(picked);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    shop.random_history(&mut rng, 40).await;

    assert_live_equals_rebuild(&shop, &format!("seeded, then changed; seed {seed}")).await;
}

#[tokio::test]
async fn concurrent_orders_on_one_hot_product_stay_exact_and_never_deadlock() {
    let shop = Shop::open().await;
    let hot = shop.products_of("eu")[0].id.clone();
    let other = shop.products_of("eu")[2].id.clone();
    let shop = &shop;
    let writes = (0..24).map(|n| {
        let (hot, other) = (hot.clone(), other.clone());
        async move {
            // Lines in both orders, so rows are locked in different request orders.
            let items = if n % 2 == 0 {
                json!([{"product_id": hot, "quantity": 1}, {"product_id": other, "quantity": 2}])
            } else {
                json!([{"product_id": other, "quantity": 1}, {"product_id": hot, "quantity": 3}])
            };
            let body = json!({"store": "eu", "customer": {"id": "cus_hot"}, "items": items});
            let created = shop
                .app
                .post("/v1/orders", &body)
                .key(&shop.app.admin)
                .send()
                .await;
            assert_eq!(created.status, 201, "{}", created.body);
            let order = created.body["id"].as_str().unwrap();
            let steps: &[&str] = match n % 4 {
                0 => &["cancelled"],
                1 => &["processing", "shipped", "completed"],
                2 => &["processing", "shipped"],
                _ => &[],
            };
            walk(shop, order, steps).await;
            if n % 3 == 0 {
                walk(shop, order, &["delete"]).await;
            }
        }
    });
    futures::future::join_all(writes).await;
    assert_live_equals_rebuild(shop, "hot product").await;
    let sales = shop
        .figures(&format!("/v1/analytics/products/{hot}/sales"), &[])
        .await;
    assert_eq!(sales.status, 200, "{}", sales.body);
    // 24 orders; n % 4 == 0 cancelled (6), n % 3 == 0 deleted (8), both: n % 12 == 0 (2).
    assert_eq!(sales.body["orders"], 24 - 6 - 8 + 2);
}
