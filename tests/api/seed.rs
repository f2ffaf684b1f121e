//! `ordersearch seed`: the data passes every rule the API enforces, and seeding
//! is idempotent, deterministic and resumable.

use chrono::NaiveDate;
use ordersearch::seed::{SeedOptions, seed, verify};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, fresh_database};

fn options(orders: u64) -> SeedOptions {
    SeedOptions {
        orders,
        stores: vec!["default".into(), "eu".into()],
        seed: 7,
        products: 300,
        chunk: 1000,
        writers: 2,
        until: NaiveDate::from_ymd_opt(2026, 1, 15),
    }
}

/// Digests of every seeded row, in a fixed order. Order numbers and event ids
/// come from sequences in the order rows are written, so they are left out.
async fn fingerprint(pool: &PgPool) -> Vec<String> {
    let queries = [
        "select md5(string_agg(concat_ws('|', id, store_id, external_id, status, customer_id,
                customer_email, customer_name, customer_phone, shipping_address, tracking, tags, note,
                total, currency, created_at, updated_at, completed_at, cancelled_at, deleted_at,
                version), ',' order by id)) from orders",
        "select md5(string_agg(concat_ws('|', order_id, line, product_id, sku, name, category,
                unit_price, unit_cost, quantity, line_total), ',' order by order_id, line))
         from order_items",
        "select md5(string_agg(concat_ws('|', order_id, at, kind, actor, from_status, to_status, data),
                ',' order by order_id, id)) from order_events",
        "select md5(string_agg(concat_ws('|', id, store_id, sku, name, category, price, cost, stock),
                ',' order by id)) from products",
    ];
    let mut digests = Vec::new();
    for query in queries {
        let digest: Option<String> = sqlx::query_scalar(query).fetch_one(pool).await.unwrap();
        digests.push(digest.unwrap_or_default());
    }
    digests
}

async fn count(pool: &PgPool, query: &'static str) -> i64 {
    sqlx::query_scalar(query).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn seeded_orders_pass_every_rule_the_api_enforces() {
    let pool = fresh_database(4).await;
    let report = seed(&pool, &options(3000), false).await.unwrap();
    assert_eq!(report.written, 3000);
    assert_eq!(count(&pool, "select count(*) from orders").await, 3000);

    let results = verify(&pool).await.unwrap();
    assert!(results.len() >= 20, "{results:?}");
    let broken: Vec<_> = results.iter().filter(|(_, n)| *n > 0).collect();
    assert!(broken.is_empty(), "rules with violations: {broken:?}");

    // Realistic spread: both stores, every status, a few deleted, repeat buyers.
    let stores = count(&pool, "select count(distinct store_id) from orders").await;
    assert_eq!(stores, 2);
    let share = |status: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("select count(*) from orders where status = $1")
                .bind(status)
                .fetch_one(&pool)
                .await
                .unwrap();
            n as f64 / 3000.0
        }
    };
    let completed = share("completed").await;
    assert!((0.5..0.72).contains(&completed), "completed: {completed}");
    let cancelled = share("cancelled").await;
    assert!((0.06..0.16).contains(&cancelled), "cancelled: {cancelled}");
    for open in ["pending", "processing", "shipped"] {
        assert!(share(open).await > 0.02, "too few {open}");
    }
    let deleted = count(
        &pool,
        "select count(*) from orders where deleted_at is not null",
    )
    .await;
    assert!((5..100).contains(&deleted), "deleted: {deleted}");
    let customers = count(&pool, "select count(distinct customer_id) from orders").await;
    assert!((400..1200).contains(&customers), "customers: {customers}");
    let unindexed = count(
        &pool,
        "select count(*) from orders where indexed_stamp < change_stamp",
    )
    .await;
    assert_eq!(unindexed, 3000, "every seeded order waits for the indexer");
}

#[tokio::test]
async fn seeding_again_with_the_same_arguments_adds_nothing() {
    let pool = fresh_database(4).await;
    seed(&pool, &options(3000), false).await.unwrap();
    let before = fingerprint(&pool).await;

    let again = seed(&pool, &options(3000), false).await.unwrap();

    assert_eq!(again.written, 0);
    assert_eq!(again.already_written, 3000);
    assert_eq!(fingerprint(&pool).await, before);
}

#[tokio::test]
async fn the_same_seed_gives_identical_data_in_another_database() {
    let (first, second) = (fresh_database(4).await, fresh_database(4).await);
    let one_writer = SeedOptions {
        writers: 1,
        ..options(3000)
    };
    seed(&first, &one_writer, false).await.unwrap();
    // Chunks and writers only decide the transactions, never the data.
    let other_chunks = SeedOptions {
        chunk: 700,
        ..options(3000)
    };
    seed(&second, &other_chunks, false).await.unwrap();

    assert_eq!(fingerprint(&first).await, fingerprint(&second).await);
    // One writer numbers the orders in the order they were placed.
    let out_of_order = count(
        &first,
        "select count(*) from (select number < lag(number) over (order by created_at, id) as down
                               from orders) t where down",
    )
    .await;
    assert_eq!(out_of_order, 0);
    let different_seed = SeedOptions {
        seed: 8,
        ..options(3000)
    };
    let third = fresh_database(4).await;
    seed(&third, &different_seed, false).await.unwrap();
    assert_ne!(fingerprint(&first).await[0], fingerprint(&third).await[0]);
}

#[tokio::test]
async fn a_larger_run_adds_only_the_missing_orders() {
    let (grown, direct) = (fresh_database(4).await, fresh_database(4).await);
    let first = seed(&grown, &options(1500), false).await.unwrap();
    assert_eq!(first.written, 1500);

    let second = seed(&grown, &options(3000), false).await.unwrap();

    assert_eq!((second.written, second.already_written), (1500, 1500));
    assert_eq!(count(&grown, "select count(*) from orders").await, 3000);
    seed(&direct, &options(3000), false).await.unwrap();
    assert_eq!(fingerprint(&grown).await, fingerprint(&direct).await);
}

#[tokio::test]
async fn a_run_with_other_stores_for_the_same_seed_is_refused() {
    let pool = fresh_database(4).await;
    seed(&pool, &options(100), false).await.unwrap();
    let other = SeedOptions {
        stores: vec!["default".into()],
        ..options(200)
    };

    let error = seed(&pool, &other, false).await.unwrap_err();

    assert!(error.to_string().contains("--stores"), "{error}");
    assert_eq!(count(&pool, "select count(*) from orders").await, 100);
}

#[tokio::test]
async fn seeded_orders_are_served_searched_and_changed_through_the_api() {
    let app = TestApp::spawn().await;
    seed(&app.pool, &options(300), false).await.unwrap();
    let (id, number, email): (Uuid, i64, String) = sqlx::query_as(
        "select id, number, customer_email from orders
         where status = 'processing' and deleted_at is null and customer_email is not null
         order by number limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let order = app
        .get(&format!("/v1/orders/{number}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(order.status, 200, "{}", order.body);
    assert_eq!(order.body["id"], id.to_string());
    assert!(!order.body["items"].as_array().unwrap().is_empty());
    let events = app
        .get(&format!("/v1/orders/{id}/events"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    assert_eq!(events.body["data"][0]["kind"], "created", "{}", events.body);

    app.index_all().await;
    let found = app
        .get(&format!("/v1/orders/search?q=email:{email}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let hits: Vec<&str> = found.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|hit| hit["id"].as_str())
        .collect();
    assert!(hits.contains(&id.to_string().as_str()), "{}", found.body);

    // The lifecycle carries on from the seeded state.
    let body = json!({"status": "shipped", "tracking": {"carrier": "DHL", "number": "JJD000123"}});
    let shipped = app
        .patch(&format!("/v1/orders/{id}"), &body)
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(shipped.status, 200, "{}", shipped.body);
    let version: i32 = sqlx::query_scalar("select version from orders where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(shipped.body["version"], version);
}
