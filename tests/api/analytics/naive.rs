//! Every analytics figure recomputed the plain way: one statement over the
//! order rows in `[lo, hi)` per route, shaped like the route's answer. The
//! one reference both the tests and the analytics bench (which times these
//! very statements, and includes this file) compare the routes with.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{FromRow, PgPool, Postgres};

/// `[lo, hi)`; `None` is unbounded.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lo: Option<DateTime<Utc>>,
    pub hi: Option<DateTime<Utc>>,
}

/// `sql` with `$1` bound to `store` and `$2`, `$3` to `window`'s bounds; an
/// unnamed statement, planned for these very bounds as a one-off query is.
fn windowed<'q, O>(
    sql: String,
    store: &'q str,
    window: Window,
) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(store)
        .bind(window.lo)
        .bind(window.hi)
}

/// `$1`'s orders created in `[$2, $3)`.
const IN_WINDOW: &str = "o.store_id = $1
      and ($2::timestamptz is null or o.created_at >= $2)
      and ($3::timestamptz is null or o.created_at < $3)";

/// Lines of `$1`'s orders created in `[$2, $3)` that count as sales.
fn lines() -> String {
    format!(
        "with lines as (
            select i.*, o.id as oid from orders o join order_items i on i.order_id = o.id
            where analytics_sells(o.status, o.deleted_at is not null) and {IN_WINDOW})"
    )
}

/// Orders of `$1` created in `[$2, $3)` that count as sales.
fn selling() -> String {
    format!(
        "from orders o where analytics_sells(o.status, o.deleted_at is not null) and {IN_WINDOW}"
    )
}

/// id, sku, name, quantity, revenue, profit, orders, lines without cost.
type TopRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    i64,
    i64,
);

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
        "{}
         select l.product_id::text, p.sku, p.name, sum(l.quantity)::bigint,
                round(sum(l.line_total), 2)::text,
                round(sum(l.line_total - l.unit_cost * l.quantity), 2)::text,
                count(distinct l.oid),
                (sum(count(*) filter (where l.unit_cost is null)) over ())::bigint
         from lines l join products p on p.id = l.product_id
         group by l.product_id, p.sku, p.name
         order by {metric} desc nulls last, l.product_id
         limit $4",
        lines()
    );
    let rows: Vec<TopRow> = windowed(sql, store, window)
        .bind(limit)
        .fetch_all(pool)
        .await
        .unwrap();
    let without_cost = rows.first().map_or(0, |row| row.7);
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(id, sku, name, quantity, revenue, profit, orders, _)| {
            json!({"product_id": id, "sku": sku, "name": name, "quantity": quantity,
                   "revenue": revenue, "profit": profit, "orders": orders})
        })
        .collect();
    json!({"data": data, "lines_without_cost": without_cost})
}

pub async fn product_sales(pool: &PgPool, store: &str, window: Window, product: &str) -> Value {
    let sql = format!(
        "{}
         select coalesce(sum(quantity), 0)::bigint, round(coalesce(sum(line_total), 0), 2)::text,
                count(distinct oid)
         from lines where product_id = $4::uuid",
        lines()
    );
    let (quantity, revenue, orders): (i64, String, i64) = windowed(sql, store, window)
        .bind(product)
        .fetch_one(pool)
        .await
        .unwrap();
    json!({"product_id": product, "quantity": quantity, "revenue": revenue, "orders": orders})
}

/// `{"data": [...]}`, highest revenue first.
pub async fn categories(pool: &PgPool, store: &str, window: Window) -> Value {
    let sql = format!(
        "{}
         select category, round(sum(line_total), 2)::text, count(distinct oid), sum(quantity)::bigint
         from lines group by category order by sum(line_total) desc, category",
        lines()
    );
    let rows: Vec<(String, String, i64, i64)> =
        windowed(sql, store, window).fetch_all(pool).await.unwrap();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(category, revenue, orders, quantity)| {
            json!({"category": category, "revenue": revenue, "orders": orders, "quantity": quantity})
        })
        .collect();
    json!({"data": data})
}

pub async fn category(pool: &PgPool, store: &str, window: Window, category: &str) -> Value {
    let sql = format!(
        "{}
         select round(coalesce(sum(line_total), 0), 2)::text, count(distinct oid),
                coalesce(sum(quantity), 0)::bigint
         from lines where category = $4",
        lines()
    );
    let (revenue, orders, quantity): (String, i64, i64) = windowed(sql, store, window)
        .bind(category)
        .fetch_one(pool)
        .await
        .unwrap();
    json!({"category": category, "revenue": revenue, "orders": orders, "quantity": quantity})
}

pub async fn customer(pool: &PgPool, store: &str, window: Window, customer: &str) -> Value {
    type Row = (
        i64,
        String,
        String,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let sql = format!(
        "select count(*), round(coalesce(sum(total), 0), 2)::text,
                round(coalesce(sum(total) / nullif(count(*), 0), 0), 2)::text,
                min(created_at), max(created_at)
         {} and customer_id = $4",
        selling()
    );
    let (orders, total, average, first, last): Row = windowed(sql, store, window)
        .bind(customer)
        .fetch_one(pool)
        .await
        .unwrap();
    json!({"customer_id": customer, "total_spent": total, "orders": orders,
           "average_order_value": average, "first_order_at": first, "last_order_at": last})
}

pub async fn hourly(pool: &PgPool, store: &str, window: Window) -> Value {
    let sql = format!(
        "select date_trunc('hour', created_at, 'UTC'), count(*), round(sum(total), 2)::text
         {} group by 1 order by 1",
        selling()
    );
    let rows: Vec<(DateTime<Utc>, i64, String)> =
        windowed(sql, store, window).fetch_all(pool).await.unwrap();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|(hour, orders, revenue)| json!({"hour": hour, "orders": orders, "revenue": revenue}))
        .collect();
    json!({"data": data})
}

/// Orders pending, processing, shipped, completed, cancelled; revenue; the
/// average processing time.
type SummaryRow = (i64, i64, i64, i64, i64, String, Option<String>);

/// The summary, and its average processing time apart (compared with a tolerance:
/// JSON floats may not round-trip to the last bit).
pub async fn summary(pool: &PgPool, store: &str, window: Window) -> (Value, Option<f64>) {
    let sql = format!(
        "select count(*) filter (where status = 'pending'),
                count(*) filter (where status = 'processing'),
                count(*) filter (where status = 'shipped'),
                count(*) filter (where status = 'completed'),
                count(*) filter (where status = 'cancelled'),
                round(coalesce(sum(total) filter (where analytics_sells(status, false)), 0), 2)::text,
                round(avg(extract(epoch from completed_at - created_at))
                      filter (where status = 'completed'), 3)::text
         from orders o where o.deleted_at is null and {IN_WINDOW}"
    );
    let (pending, processing, shipped, completed, cancelled, revenue, average): SummaryRow =
        windowed(sql, store, window).fetch_one(pool).await.unwrap();
    let by_status = json!({"pending": pending, "processing": processing, "shipped": shipped,
                           "completed": completed, "cancelled": cancelled});
    let total = pending + processing + shipped + completed + cancelled;
    let summary = json!({"total_orders": total, "by_status": by_status, "revenue": revenue});
    (summary, average.map(|text| text.parse().unwrap()))
}
