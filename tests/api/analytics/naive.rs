//! Every analytics figure recomputed the plain way: one query over the order
//! rows in `[lo, hi)`, shaped like the route's answer.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{FromRow, PgPool, Postgres, SqlSafeStr};

/// `[lo, hi)`; `None` is unbounded.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lo: Option<DateTime<Utc>>,
    pub hi: Option<DateTime<Utc>>,
}

/// `sql` with `$1` bound to `store` and `$2`, `$3` to `window`'s bounds.
fn windowed<'q, O>(
    sql: impl SqlSafeStr,
    store: &'q str,
    window: Window,
) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sql)
        .bind(store)
        .bind(window.lo)
        .bind(window.hi)
}

/// Selling lines of `$1`'s orders created in `[$2, $3)`.
const LINES: &str = "with lines as (
    select i.*, o.id as oid from orders o join order_items i on i.order_id = o.id
    where o.store_id = $1 and o.status <> 'cancelled' and o.deleted_at is null
      and ($2::timestamptz is null or o.created_at >= $2)
      and ($3::timestamptz is null or o.created_at < $3))";

/// id, sku, name, quantity, revenue, profit, orders.
type TopRow = (String, String, String, i64, String, Option<String>, i64);

pub async fn top_products(
    pool: &PgPool,
    store: &str,
    window: Window,
    by: &str,
    limit: i64,
) -> Value {
    let metric = match by {
        "revenue" => "sum(l.line_total)",
        "profit" => "sum(l.line_total - l.unit_cost * l.quantity)",
        _ => "sum(l.quantity)",
    };
    let sql = format!(
        "{LINES}
         select l.product_id::text, p.sku, p.name, sum(l.quantity)::bigint,
                round(sum(l.line_total), 2)::text,
                round(sum(l.line_total - l.unit_cost * l.quantity), 2)::text,
                count(distinct l.oid)
         from lines l join products p on p.id = l.product_id
         group by l.product_id, p.sku, p.name
         order by {metric} desc nulls last, l.product_id
         limit $4"
    );
    let rows: Vec<TopRow> = windowed(sqlx::AssertSqlSafe(sql), store, window)
        .bind(limit)
        .fetch_all(pool)
        .await
        .unwrap();
    let (without_cost,): (i64,) = windowed(
        sqlx::AssertSqlSafe(format!(
            "{LINES} select count(*) from lines where unit_cost is null"
        )),
        store,
        window,
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(id, sku, name, quantity, revenue, profit, orders)| {
            json!({"product_id": id, "sku": sku, "name": name, "quantity": quantity,
                   "revenue": revenue, "profit": profit, "orders": orders})
        })
        .collect();
    json!({"data": data, "lines_without_cost": without_cost})
}

pub async fn product_sales(pool: &PgPool, store: &str, window: Window, product: &str) -> Value {
    let (quantity, revenue, orders): (i64, String, i64) = windowed(
        sqlx::AssertSqlSafe(format!(
            "{LINES}
         select coalesce(sum(quantity), 0)::bigint, round(coalesce(sum(line_total), 0), 2)::text,
                count(distinct oid)
         from lines where product_id = $4::uuid"
        )),
        store,
        window,
    )
    .bind(product)
    .fetch_one(pool)
    .await
    .unwrap();
    json!({"product_id": product, "quantity": quantity, "revenue": revenue, "orders": orders})
}

pub async fn categories(pool: &PgPool, store: &str, window: Window) -> Vec<Value> {
    let rows: Vec<(String, String, i64, i64)> = windowed(
        sqlx::AssertSqlSafe(format!(
            "{LINES}
         select category, round(sum(line_total), 2)::text, count(distinct oid), sum(quantity)::bigint
         from lines group by category order by sum(line_total) desc, category"
        )),
        store,
        window,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(category, revenue, orders, quantity)| {
            json!({"category": category, "revenue": revenue, "orders": orders, "quantity": quantity})
        })
        .collect()
}

pub async fn category(pool: &PgPool, store: &str, window: Window, category: &str) -> Value {
    categories(pool, store, window)
        .await
        .into_iter()
        .find(|row| row["category"] == category)
        .unwrap_or_else(
            || json!({"category": category, "revenue": "0.00", "orders": 0, "quantity": 0}),
        )
}

/// Orders of `$1` created in `[$2, $3)` that count in sales.
const SELLING: &str = "from orders where store_id = $1 and status <> 'cancelled' and deleted_at is null
      and ($2::timestamptz is null or created_at >= $2) and ($3::timestamptz is null or created_at < $3)";

pub async fn customer(pool: &PgPool, store: &str, window: Window, customer: &str) -> Value {
    type Row = (
        i64,
        String,
        String,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let (orders, total, average, first, last): Row = windowed(
        sqlx::AssertSqlSafe(format!(
            "select count(*), round(coalesce(sum(total), 0), 2)::text,
                round(coalesce(sum(total) / nullif(count(*), 0), 0), 2)::text,
                min(created_at), max(created_at)
         {SELLING} and customer_id = $4"
        )),
        store,
        window,
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .unwrap();
    json!({"customer_id": customer, "total_spent": total, "orders": orders,
           "average_order_value": average, "first_order_at": first, "last_order_at": last})
}

pub async fn hourly(pool: &PgPool, store: &str, window: Window) -> Value {
    let rows: Vec<(DateTime<Utc>, i64, String)> = windowed(
        sqlx::AssertSqlSafe(format!(
            "select date_trunc('hour', created_at, 'UTC'), count(*), round(sum(total), 2)::text
         {SELLING} group by 1 order by 1"
        )),
        store,
        window,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(hour, orders, revenue)| json!({"hour": hour, "orders": orders, "revenue": revenue}))
        .collect();
    json!({"data": data})
}

/// The summary, and its average processing time apart (compared with a tolerance:
/// JSON floats may not round-trip to the last bit).
pub async fn summary(pool: &PgPool, store: &str, window: Window) -> (Value, Option<f64>) {
    let counts: Vec<(String, i64)> = windowed(
        "select status, count(*) from orders where store_id = $1 and deleted_at is null
           and ($2::timestamptz is null or created_at >= $2) and ($3::timestamptz is null or created_at < $3)
         group by status",
        store,
        window,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let (revenue, average): (String, Option<String>) = windowed(
        "select round(coalesce(sum(total) filter (where status <> 'cancelled'), 0), 2)::text,
                round(avg(extract(epoch from completed_at - created_at)) filter (where status = 'completed'), 3)::text
         from orders where store_id = $1 and deleted_at is null
           and ($2::timestamptz is null or created_at >= $2) and ($3::timestamptz is null or created_at < $3)",
        store,
        window,
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let mut by_status =
        json!({"pending": 0, "processing": 0, "shipped": 0, "completed": 0, "cancelled": 0});
    let mut total = 0;
    for (status, count) in counts {
        by_status[status.as_str()] = json!(count);
        total += count;
    }
    let summary = json!({"total_orders": total, "by_status": by_status, "revenue": revenue});
    (summary, average.map(|text| text.parse().unwrap()))
}
