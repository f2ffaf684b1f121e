//! Order creation now that the rollups are a projection (order writes no
//! longer touch them): the same 3-line orders at concurrency 32 directly on
//! PostgreSQL (`create_order`), on a fresh small database; then over HTTP
//! with the indexer and the projector running.

use ordersearch::orders::create::create_order;
use ordersearch::orders::model::NewOrder;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::{
    ADMIN_KEY, Stats, client, fresh_database, load, report, start_server, temp_dir,
};

const CONCURRENCY: usize = 32;
/// Orders per run, and the catalog they draw on.
const CREATES: usize = 4_000;
const PRODUCTS: usize = 300;

/// Order creation directly and over HTTP, in the same run.
pub async fn creation_cost() {
    let (url, pool) = fresh_database("bench_rollups").await;
    sqlx::query(
        "insert into products (id, store_id, sku, name, category, price, cost, stock)
         select gen_random_uuid(), 'default', 'SKU-' || n, 'Product ' || n, 'Category ' || n % 12,
                9.99 + n % 40, case when n % 5 <> 0 then 4.00 end, 1000000000
         from generate_series(0, $1 - 1) as n",
    )
    .bind(PRODUCTS as i32)
    .execute(&pool)
    .await
    .unwrap();
    create_directly(&pool, 0, 1_000).await;
    println!("order creation, 3-line orders at concurrency {CONCURRENCY}, {CREATES} orders a run:");
    let direct = create_directly(&pool, 1_000, CREATES).await;
    let (server, _) = start_server(Some(&url), temp_dir("rollups")).await;
    let over_http = create_over_http(&server.base, 1_000 + CREATES).await;
    report(
        "POST /v1/orders over HTTP (projector running)",
        &over_http,
        "create_order direct on PostgreSQL",
        &direct,
    );
}

/// A 3-line order of the bench catalog, for request `index`.
fn order_json(index: usize) -> Value {
    let items: Vec<Value> = (0..3)
        .map(|line| json!({"sku": format!("SKU-{}", (index * 7 + line * 101) % PRODUCTS), "quantity": 1 + index % 2}))
        .collect();
    json!({"customer": {"id": format!("cus_{}", index % 5000), "email": format!("buyer{}@example.com", index % 5000)},
           "items": items, "tags": ["bench"]})
}

/// `total` orders from index `first` on, directly on PostgreSQL.
async fn create_directly(pool: &PgPool, first: usize, total: usize) -> Stats {
    let pool = pool.clone();
    load(CONCURRENCY, total, move |index| {
        let pool = pool.clone();
        async move {
            let new: NewOrder = serde_json::from_value(order_json(first + index)).unwrap();
            let mut tx = pool.begin().await.unwrap();
            let created = create_order(&mut tx, "default", "bench", &new).await;
            created.is_ok() && tx.commit().await.is_ok()
        }
    })
    .await
}

async fn create_over_http(base: &str, first: usize) -> Stats {
    let (client, base) = (client(CONCURRENCY), base.to_string());
    load(CONCURRENCY, CREATES, move |index| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let sent = client
                .post(format!("{base}/v1/orders"))
                .bearer_auth(ADMIN_KEY)
                .json(&order_json(first + index))
                .send()
                .await;
            match sent {
                Ok(response) => response.status().as_u16() == 201 && response.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}
