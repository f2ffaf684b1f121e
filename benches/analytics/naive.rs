//! The naive answers: for each route, the plain `GROUP BY` over the order rows
//! that answers the same question (same store, `[$2, $3)` of creation times,
//! cancelled and deleted orders left out), rendered as the route's JSON.
//!
//! Every query binds `$1` the store, `$2`/`$3` the window (`null` is
//! unbounded) and `$4` the subject (product, category or customer) if any.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::Stats;

/// Timed runs of each naive query, after one warm-up run.
pub const RUNS: usize = 3;

/// `[lo, hi)` of order creation times; `None` is unbounded.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lo: Option<DateTime<Utc>>,
    pub hi: Option<DateTime<Utc>>,
}

/// Selling lines of the store's orders created in the window.
const LINES: &str = "with lines as (
    select o.id as order_id, i.product_id, i.category, i.quantity, i.line_total, i.unit_cost
    from orders o join order_items i on i.order_id = o.id
    where o.store_id = $1 and o.status <> 'cancelled' and o.deleted_at is null
      and o.created_at >= coalesce($2, '-infinity') and o.created_at < coalesce($3, 'infinity'))";

/// The store's selling orders created in the window.
const SELLING: &str =
    "from orders where store_id = $1 and status <> 'cancelled' and deleted_at is null
    and created_at >= coalesce($2, '-infinity') and created_at < coalesce($3, 'infinity')";

/// `products/top` (and top-bought-yesterday) ranked by `metric`: `quantity`,
/// `revenue` or `profit`.
pub fn top_sql(metric: &str) -> String {
    format!(
        "{LINES}, ranked as (
            select product_id, sum(quantity)::bigint as quantity, sum(line_total) as revenue,
                   sum(line_total - unit_cost * quantity) as profit, count(distinct order_id) as orders,
                   sum(count(*) filter (where unit_cost is null)) over () as without_cost
            from lines group by product_id
            order by {metric} desc nulls last, product_id limit 10)
         select jsonb_build_object('lines_without_cost', coalesce(max(r.without_cost), 0)::bigint,
                'data', coalesce(jsonb_agg(jsonb_build_object('product_id', r.product_id, 'sku', p.sku,
                    'name', p.name, 'quantity', r.quantity, 'revenue', round(r.revenue, 2)::text,
                    'profit', round(r.profit, 2)::text, 'orders', r.orders)
                    order by r.{metric} desc nulls last, r.product_id), '[]'))
         from ranked r join products p on p.id = r.product_id"
    )
}

/// `products/{id}/sales`.
pub fn product_sql() -> String {
    format!(
        "{LINES} select jsonb_build_object('product_id', $4::uuid,
            'quantity', coalesce(sum(quantity), 0)::bigint,
            'revenue', round(coalesce(sum(line_total), 0), 2)::text, 'orders', count(distinct order_id))
         from lines where product_id = $4::uuid"
    )
}

/// `categories`.
pub fn categories_sql() -> String {
    format!(
        "{LINES}, per_category as (
            select category, sum(line_total) as revenue, count(distinct order_id) as orders,
                   sum(quantity)::bigint as quantity
            from lines group by category)
         select jsonb_build_object('data', coalesce(jsonb_agg(jsonb_build_object('category', category,
                'revenue', round(revenue, 2)::text, 'orders', orders, 'quantity', quantity)
                order by revenue desc, category), '[]'))
         from per_category"
    )
}

/// `categories/{category}/revenue`.
pub fn category_sql() -> String {
    format!(
        "{LINES} select jsonb_build_object('category', $4::text,
            'revenue', round(coalesce(sum(line_total), 0), 2)::text,
            'orders', count(distinct order_id), 'quantity', coalesce(sum(quantity), 0)::bigint)
         from lines where category = $4"
    )
}

/// `customers/{id}/lifetime-value`.
pub fn customer_sql() -> String {
    format!(
        "select jsonb_build_object('customer_id', $4::text,
            'total_spent', round(coalesce(sum(total), 0), 2)::text, 'orders', count(*),
            'average_order_value', round(coalesce(sum(total) / nullif(count(*), 0), 0), 2)::text,
            'first_order_at', min(created_at), 'last_order_at', max(created_at))
         {SELLING} and customer_id = $4"
    )
}

/// `sales/hourly` (UTC hours).
pub fn hourly_sql() -> String {
    format!(
        "select jsonb_build_object('data', coalesce(jsonb_agg(jsonb_build_object('hour', hour,
            'orders', orders, 'revenue', round(revenue, 2)::text) order by hour), '[]'))
         from (select date_trunc('hour', created_at, 'UTC') as hour, count(*) as orders,
                      sum(total) as revenue
               {SELLING} group by 1) hours"
    )
}

/// `orders/summary`: every order not deleted, cancelled ones included.
pub const SUMMARY_SQL: &str = "select jsonb_build_object('total_orders', count(*),
        'by_status', jsonb_build_object(
            'pending', count(*) filter (where status = 'pending'),
            'processing', count(*) filter (where status = 'processing'),
            'shipped', count(*) filter (where status = 'shipped'),
            'completed', count(*) filter (where status = 'completed'),
            'cancelled', count(*) filter (where status = 'cancelled')),
        'revenue', round(coalesce(sum(total) filter (where status <> 'cancelled'), 0), 2)::text,
        'average_processing_seconds',
            round(avg(extract(epoch from completed_at - created_at)) filter (where status = 'completed'), 3))
    from orders where store_id = $1 and deleted_at is null
      and created_at >= coalesce($2, '-infinity') and created_at < coalesce($3, 'infinity')";

/// Runs a naive query `RUNS` times after a warm-up: its timings and answer.
pub async fn time_naive(
    pool: &PgPool,
    sql: &str,
    subject: Option<&str>,
    window: Window,
) -> (Stats, Value) {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut answer = Value::Null;
    for run in 0..=RUNS {
        let begun = Instant::now();
        // Unnamed statements: planned for these very bounds, as a one-off query is.
        let mut query = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql.to_string()))
            .persistent(false)
            .bind(crate::routes::STORE)
            .bind(window.lo)
            .bind(window.hi);
        if let Some(subject) = subject {
            query = query.bind(subject);
        }
        answer = query.fetch_one(pool).await.unwrap();
        if run > 0 {
            latencies.push(begun.elapsed());
        }
    }
    let stats = Stats::from_latencies(latencies, 0, started.elapsed().as_secs_f64());
    (stats, answer)
}

/// An answer with times as instants and fractions at two places, so the
/// service's and PostgreSQL's renderings of the same figures compare equal.
pub fn normalized(value: &Value) -> Value {
    match value {
        Value::String(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(time) => json!(time.timestamp_micros()),
            Err(_) => value.clone(),
        },
        Value::Number(number) if number.is_f64() => {
            json!(format!("{:.2}", number.as_f64().unwrap_or_default()))
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(fields) => fields
            .iter()
            .map(|(key, field)| (key.clone(), normalized(field)))
            .collect(),
        other => other.clone(),
    }
}
