//! Checks the whole database against the rules the API enforces, one query per
//! rule counting the rows that break it. Seeded data must pass them all; so
//! must anything the API wrote.

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use sqlx::PgPool;

/// Queries running at once: the checks are scans, and two keep two cores busy.
const PARALLEL: usize = 2;

/// (rule, query counting its violations).
const CHECKS: &[(&str, &str)] = &[
    (
        "line_total = unit_price × quantity",
        "select count(*) from order_items where line_total <> unit_price * quantity",
    ),
    (
        "order total = sum of its line totals",
        "select count(*) from orders o
         join (select order_id, sum(line_total) as lines from order_items group by order_id) i
           on i.order_id = o.id
         where o.total <> i.lines",
    ),
    (
        "every order has at least one item",
        "select count(*) from orders o
         where not exists (select 1 from order_items i where i.order_id = o.id)",
    ),
    (
        "lines are numbered 1..n, at most 500",
        "select count(*) from (select order_id from order_items group by order_id
         having min(line) <> 1 or max(line) <> count(*) or count(*) > 500) bad",
    ),
    (
        "a product appears on one line per order",
        "select count(*) from (select 1 from order_items group by order_id, product_id
         having count(*) > 1) bad",
    ),
    (
        "quantities are 1..10000",
        "select count(*) from order_items where quantity < 1 or quantity > 10000",
    ),
    (
        "items reference existing orders and products",
        "select count(*) from order_items i
         where not exists (select 1 from orders o where o.id = i.order_id)
            or not exists (select 1 from products p where p.id = i.product_id)",
    ),
    (
        "events reference existing orders",
        "select count(*) from order_events e
         where not exists (select 1 from orders o where o.id = e.order_id)",
    ),
    (
        "items' products belong to the order's store",
        "select count(*) from order_items i
         join orders o on o.id = i.order_id
         join products p on p.id = i.product_id
         where p.store_id <> o.store_id",
    ),
    (
        "money is not negative",
        "select (select count(*) from orders where total < 0)
              + (select count(*) from order_items
                 where unit_price < 0 or unit_cost < 0 or line_total < 0)",
    ),
    (
        "currency is the store's currency",
        "select count(*) from orders o join stores s on s.id = o.store_id
         where o.currency <> s.currency",
    ),
    (
        "status is in the lifecycle",
        "select count(*) from orders
         where status not in ('pending', 'processing', 'shipped', 'completed', 'cancelled')",
    ),
    (
        "completed_at is set iff completed",
        "select count(*) from orders where (status = 'completed') <> (completed_at is not null)",
    ),
    (
        "cancelled_at is set iff cancelled",
        "select count(*) from orders where (status = 'cancelled') <> (cancelled_at is not null)",
    ),
    (
        "deleted orders are cancelled or completed",
        "select count(*) from orders
         where deleted_at is not null and status not in ('cancelled', 'completed')",
    ),
    (
        "no timestamp precedes created_at",
        "select count(*) from orders
         where updated_at < created_at or completed_at < created_at
            or cancelled_at < created_at or deleted_at < created_at",
    ),
    (
        "version is at least 1",
        "select count(*) from orders where version < 1",
    ),
    (
        "every order has a created event",
        "select count(*) from orders o where not exists
           (select 1 from order_events e where e.order_id = o.id and e.kind = 'created')",
    ),
    (
        "status changes follow the lifecycle",
        "select count(*) from order_events
         where kind = 'status_changed'
           and (coalesce(from_status, ''), coalesce(to_status, '')) not in
               (values ('pending', 'processing'), ('pending', 'cancelled'),
                       ('processing', 'shipped'), ('processing', 'cancelled'),
                       ('shipped', 'completed'))",
    ),
    (
        "the timeline ends at the order's status",
        "select count(*) from orders o
         join lateral (select e.to_status from order_events e
                       where e.order_id = o.id and e.kind in ('created', 'status_changed')
                       order by e.id desc limit 1) last on true
         where last.to_status is distinct from o.status",
    ),
    (
        "customer emails look valid",
        r"select count(*) from orders
         where customer_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
            or length(customer_email) > 254",
    ),
    (
        "customer phones have 4-20 digits",
        r"select count(*) from orders
         where customer_phone !~ '^[0-9 +().-]{1,40}$'
            or length(regexp_replace(customer_phone, '[^0-9]', '', 'g')) not between 4 and 20",
    ),
    (
        "shipping countries are ISO codes",
        "select count(*) from orders
         where shipping_address is not null
           and coalesce(shipping_address ->> 'country', '') !~ '^[A-Z]{2}$'",
    ),
    (
        "at most 20 tags of 1-50 characters",
        "select count(*) from orders
         where cardinality(tags) > 20
            or exists (select 1 from unnest(tags) t
                       where char_length(t) not between 1 and 50 or btrim(t) = '')",
    ),
    (
        "product stock is not negative",
        "select count(*) from products where stock < 0",
    ),
    (
        "product prices and costs are not negative",
        "select count(*) from products where price < 0 or cost < 0",
    ),
    (
        "order numbers are unique",
        "select count(*) - count(distinct number) from orders",
    ),
    (
        "external ids are unique per store",
        "select count(*) from (select 1 from orders where external_id is not null
         group by store_id, external_id having count(*) > 1) bad",
    ),
];

/// Runs every check; returns (rule, violations) in a fixed order.
pub async fn verify(pool: &PgPool) -> anyhow::Result<Vec<(String, i64)>> {
    let checking = super::bulk_pool(pool, PARALLEL as u32).await?;
    let results = futures::stream::iter(CHECKS)
        .map(|&(rule, query)| {
            let checking = &checking;
            async move {
                let violations: i64 = sqlx::query_scalar(query)
                    .fetch_one(checking)
                    .await
                    .with_context(|| format!("checking that {rule}"))?;
                Ok::<_, anyhow::Error>((rule.to_string(), violations))
            }
        })
        .buffered(PARALLEL)
        .try_collect()
        .await;
    checking.close().await;
    results
}
