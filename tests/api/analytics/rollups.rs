//! The rollups kept live by order writes are exactly what a rebuild computes
//! from the orders, whatever the history and however concurrent the writes.

use ordersearch::seed::SeedOptions;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use sqlx::PgPool;

use super::{Shop, rebuild};

/// Every rollup row, as text with numbers at a fixed scale (so `0` and `0.00`,
/// equal sums reached by different paths, compare equal). Sharded tables are
/// summed over their shards: how figures are spread over shards (live writes,
/// folded by compaction, all in shard 0 after a rebuild) is storage, not data;
/// a key whose shards sum to nothing has no figures.
pub async fn snapshot(pool: &PgPool) -> Vec<String> {
    const TABLES: [&str; 5] = [
        "select concat_ws(' ', 'product', store_id, grain, period, product_id, quantity, round(revenue, 6),
                orders, lines, lines_without_cost, round(costed_revenue, 6), round(cost, 6))
         from analytics_product_sales",
        "select concat_ws(' ', 'category', store_id, grain, period, category, round(sum(revenue), 6),
                sum(quantity), sum(orders))
         from analytics_category_sales group by store_id, grain, period, category
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(quantity) <> 0",
        "select concat_ws(' ', 'customer', store_id, customer_id, day, orders, round(revenue, 6),
                first_at, last_at)
         from analytics_customer_sales",
        "select concat_ws(' ', 'hour', store_id, hour, sum(orders), round(sum(revenue), 6))
         from analytics_hourly_sales group by store_id, hour
         having sum(orders) <> 0 or sum(revenue) <> 0",
        "select concat_ws(' ', 'status', store_id, grain, period, status, sum(orders), round(sum(revenue), 6),
                round(sum(processing_seconds), 6))
         from analytics_status_counts group by store_id, grain, period, status
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(processing_seconds) <> 0",
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
    shop.app.project_all().await;
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
            shop.walk(order, steps).await;
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
            let order = shop.place(&body).await;
            let steps: &[&str] = match n % 4 {
                0 => &["cancelled"],
                1 => &["processing", "shipped", "completed"],
                2 => &["processing", "shipped"],
                _ => &[],
            };
            shop.walk(&order, steps).await;
            if n % 3 == 0 {
                shop.walk(&order, &["delete"]).await;
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

/// Rows no fold may leave behind: zero rows, and shard rows of a closed period.
async fn unfolded_and_zero_rows(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "select
            (select count(*) from analytics_category_sales where shard <> 0 and grain <> 'all')
          + (select count(*) from analytics_hourly_sales where shard <> 0)
          + (select count(*) from analytics_status_counts where shard <> 0 and grain <> 'all'),
            (select count(*) from analytics_category_sales
             where orders = 0 and revenue = 0 and quantity = 0)
          + (select count(*) from analytics_hourly_sales where orders = 0 and revenue = 0)
          + (select count(*) from analytics_status_counts
             where orders = 0 and revenue = 0 and processing_seconds = 0)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn folding_closed_periods_races_with_the_projector_and_keeps_every_figure() {
    use ordersearch::analytics::compact;
    let shop = Shop::open().await;
    // A year from now every period of these orders is closed: each fold takes
    // the rows the writers are changing at that very moment.
    let closed_all = chrono::Utc::now() + chrono::Duration::days(400);
    let writers_done = std::sync::atomic::AtomicBool::new(false);
    let writers = async {
        let mut rng = StdRng::seed_from_u64(super::seed());
        shop.random_history(&mut rng, 60).await;
        writers_done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    // The projector applies the writes while the compactor folds.
    let compactor = async {
        while !writers_done.load(std::sync::atomic::Ordering::SeqCst) {
            compact::compact(&shop.app.pool, closed_all)
                .await
                .expect("folding while orders are written");
            tokio::task::yield_now().await;
        }
    };
    let projector = async {
        while !writers_done.load(std::sync::atomic::Ordering::SeqCst) {
            shop.app.project_all().await;
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(writers, compactor, projector);
    shop.app.project_all().await;
    let before = snapshot(&shop.app.pool).await;
    compact::compact(&shop.app.pool, closed_all).await.unwrap();
    assert_eq!(
        unfolded_and_zero_rows(&shop.app.pool).await,
        (0, 0),
        "(shard rows of closed periods, zero rows) after a fold"
    );
    assert_eq!(
        snapshot(&shop.app.pool).await,
        before,
        "a fold changes no figure"
    );
    assert_live_equals_rebuild(&shop, "folded while written").await;
}
