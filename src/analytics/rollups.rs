//! Live rollup maintenance: [`record_transition`] runs inside every order write
//! transaction and moves the order's contribution from its previous state to its
//! current one, so the rollups always equal a recomputation from the orders.
//!
//! Deadlock freedom: every transaction touches rollup rows in one global order
//! (products, categories, customer, hour, statuses, period versions; within a
//! table, by primary key) after any product row locks the order code takes,
//! and never the other way round. Rows shared by unrelated orders (category, hour, status) are
//! sharded by order id, so they rarely make writers wait at all.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::orders::model::Status;

/// An order's state before a change: its status and whether it was deleted.
/// `None` for an order being created.
pub type PreviousState = Option<(Status, bool)>;

/// The `(grain, period)` rows one order day feeds, for a date parameter `$n`.
macro_rules! grains {
    ($day:literal) => {
        concat!(
            "(values ('day', ",
            $day,
            "::date), ('block', ",
            $day,
            "::date - (extract(day from ",
            $day,
            "::date)::int - 1) % 8), ('month', date_trunc('month', ",
            $day,
            "::date::timestamp)::date), ('all', '-infinity'::date)) as g(grain, period)"
        )
    };
}

/// What the rollups need to know about the order as it is now.
#[derive(Debug, sqlx::FromRow)]
struct Current {
    store_id: String,
    status: String,
    deleted: bool,
    total: Decimal,
    customer_id: Option<String>,
    created_at: DateTime<Utc>,
    timezone: String,
    day: NaiveDate,
    hour: DateTime<Utc>,
    shard: i16,
    processing_seconds: Decimal,
    /// Whether the order's local day is before the store's today (its periods
    /// may be closed and kept in memory, see [`super::closed`]). By the clock,
    /// not the transaction's start: a transaction begun before midnight that
    /// writes after it still bumps yesterday's versions (see
    /// [`super::day_horizon`] for one that writes before it).
    past_day: bool,
}

/// Whether an order in this state counts in sales figures.
fn sells(status: Status, deleted: bool) -> bool {
    status != Status::Cancelled && !deleted
}

/// Brings the rollups in step with an order that just changed, inside the same
/// transaction: removes what its previous state contributed and adds what its
/// current state contributes. Called after the order row was written, so the
/// transaction already holds its id (which [`super::day_horizon`] relies on).
pub async fn record_transition(
    conn: &mut PgConnection,
    order_id: Uuid,
    previous: PreviousState,
) -> sqlx::Result<()> {
    let now: Current = sqlx::query_as(
        "select o.store_id, o.status, o.deleted_at is not null as deleted, o.total, o.customer_id,
                o.created_at, s.timezone, (o.created_at at time zone s.timezone)::date as day,
                date_trunc('hour', o.created_at, 'UTC') as hour, analytics_shard(o.id) as shard,
                coalesce(extract(epoch from o.completed_at - o.created_at), 0) as processing_seconds,
                (o.created_at at time zone s.timezone)::date
                    < (clock_timestamp() at time zone s.timezone)::date as past_day
         from orders o join stores s on s.id = o.store_id
         where o.id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    let status = Status::parse(&now.status)
        .ok_or_else(|| sqlx::Error::Protocol(format!("unknown order status {}", now.status)))?;

    let sold_before = previous.is_some_and(|(status, deleted)| sells(status, deleted));
    let sign = i32::from(sells(status, now.deleted)) - i32::from(sold_before);
    if sign != 0 {
        apply_sales(conn, order_id, &now, sign).await?;
    }

    let counted_before = previous.and_then(|(status, deleted)| (!deleted).then_some(status));
    let counted_now = (!now.deleted).then_some(status);
    if counted_before != counted_now {
        let mut statuses = Vec::new();
        let mut signs = Vec::new();
        for (status, sign) in [(counted_before, -1), (counted_now, 1)] {
            if let Some(status) = status {
                statuses.push(status.as_str());
                signs.push(sign);
            }
        }
        apply_statuses(conn, order_id, &now, &statuses, &signs).await?;
    }
    let left = counted_before
        .filter(|_| counted_before != counted_now)
        .map(Status::as_str);
    if sign < 0 || left.is_some() {
        delete_emptied(conn, order_id, &now, sign < 0, left).await?;
    }
    if sign != 0 && now.past_day {
        bump_period_versions(conn, &now).await?;
    }
    Ok(())
}

/// Marks the product figures of the order's day, block and month, and the
/// hourly sales of its UTC month, as changed, for the readers that keep closed
/// periods in memory.
async fn bump_period_versions(conn: &mut PgConnection, now: &Current) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "insert into analytics_period_versions as t (store_id, grain, period, version)
         select $1, g.grain, g.period, 1 from (
            select * from ",
        grains!("$2"),
        " where g.grain <> 'all'
            union all select 'utc_month', date_trunc('month', $3::timestamptz, 'UTC')::date
         ) g
         order by g.grain, g.period
         on conflict (store_id, grain, period) do update set version = t.version + 1"
    ))
    .bind(&now.store_id)
    .bind(now.day)
    .bind(now.hour)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds (`sign` 1) or removes (-1) the order's lines in the sales rollups.
async fn apply_sales(
    conn: &mut PgConnection,
    order_id: Uuid,
    now: &Current,
    sign: i32,
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "insert into analytics_product_sales as t
            (store_id, grain, period, product_id, quantity, revenue, orders, lines,
             lines_without_cost, costed_revenue, cost)
         select $2, g.grain, g.period, i.product_id, $3 * sum(i.quantity), $3 * sum(i.line_total), $3,
                $3 * count(*), $3 * count(*) filter (where i.unit_cost is null),
                $3 * coalesce(sum(i.line_total) filter (where i.unit_cost is not null), 0),
                $3 * coalesce(sum(i.unit_cost * i.quantity), 0)
         from order_items i cross join ",
        grains!("$4"),
        " where i.order_id = $1
         group by g.grain, g.period, i.product_id
         order by g.grain, g.period, i.product_id
         on conflict (store_id, grain, period, product_id) do update set
            quantity = t.quantity + excluded.quantity, revenue = t.revenue + excluded.revenue,
            orders = t.orders + excluded.orders, lines = t.lines + excluded.lines,
            lines_without_cost = t.lines_without_cost + excluded.lines_without_cost,
            costed_revenue = t.costed_revenue + excluded.costed_revenue, cost = t.cost + excluded.cost"
    ))
    .bind(order_id)
    .bind(&now.store_id)
    .bind(sign)
    .bind(now.day)
    .execute(&mut *conn)
    .await?;

    sqlx::query(concat!(
        "insert into analytics_category_sales as t
            (store_id, grain, period, category, shard, revenue, quantity, orders)
         select $2, g.grain, g.period, i.category, $5, $3 * sum(i.line_total), $3 * sum(i.quantity), $3
         from order_items i cross join ",
        grains!("$4"),
        " where i.order_id = $1
         group by g.grain, g.period, i.category
         order by g.grain, g.period, i.category
         on conflict (store_id, grain, period, category, shard) do update set
            revenue = t.revenue + excluded.revenue, quantity = t.quantity + excluded.quantity,
            orders = t.orders + excluded.orders"
    ))
    .bind(order_id)
    .bind(&now.store_id)
    .bind(sign)
    .bind(now.day)
    .bind(now.shard)
    .execute(&mut *conn)
    .await?;

    if let Some(customer) = &now.customer_id {
        apply_customer(conn, now, customer, sign).await?;
    }

    sqlx::query(
        "insert into analytics_hourly_sales as t (store_id, hour, shard, orders, revenue)
         values ($1, $2, $3, $4, $4 * $5)
         on conflict (store_id, hour, shard) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue",
    )
    .bind(&now.store_id)
    .bind(now.hour)
    .bind(now.shard)
    .bind(sign)
    .bind(now.total)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The customer's day row. Removing an order may remove that day's first or last
/// order: once the row is locked, a fresh statement (which sees everything
/// committed until then) recomputes both from the day's remaining orders.
async fn apply_customer(
    conn: &mut PgConnection,
    now: &Current,
    customer: &str,
    sign: i32,
) -> sqlx::Result<()> {
    let orders_left: Option<i64> = sqlx::query_scalar(
        "insert into analytics_customer_sales as t
            (store_id, customer_id, day, orders, revenue, first_at, last_at)
         values ($1, $2, $3, $4, $4 * $5, $6, $6)
         on conflict (store_id, customer_id, day) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue,
            first_at = case when excluded.orders > 0 then least(t.first_at, excluded.first_at) else t.first_at end,
            last_at = case when excluded.orders > 0 then greatest(t.last_at, excluded.last_at) else t.last_at end
         returning orders",
    )
    .bind(&now.store_id)
    .bind(customer)
    .bind(now.day)
    .bind(sign)
    .bind(now.total)
    .bind(now.created_at)
    .fetch_optional(&mut *conn)
    .await?;
    if sign < 0 && orders_left.is_some_and(|left| left > 0) {
        // The day's orders lie within its local bounds; the margin and the date
        // test keep this exact even where a day's start is unusual.
        sqlx::query(
            "update analytics_customer_sales c set (first_at, last_at) = (
                select min(o.created_at), max(o.created_at) from orders o
                where o.store_id = c.store_id and o.customer_id = c.customer_id
                  and o.status <> 'cancelled' and o.deleted_at is null
                  and o.created_at >= analytics_day_start(c.day, $4) - interval '3 hours'
                  and o.created_at < analytics_day_start(c.day + 1, $4) + interval '3 hours'
                  and (o.created_at at time zone $4)::date = c.day)
             where c.store_id = $1 and c.customer_id = $2 and c.day = $3",
        )
        .bind(&now.store_id)
        .bind(customer)
        .bind(now.day)
        .bind(&now.timezone)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves the order between status rows (`signs` are -1 for the state it left,
/// 1 for the one it entered).
async fn apply_statuses(
    conn: &mut PgConnection,
    order_id: Uuid,
    now: &Current,
    statuses: &[&str],
    signs: &[i32],
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "insert into analytics_status_counts as t
            (store_id, grain, period, status, shard, orders, revenue, processing_seconds)
         select $2, g.grain, g.period, s.status, $8, s.sign, s.sign * $6::numeric,
                case when s.status = 'completed' then s.sign * $7::numeric else 0 end
         from unnest($3::text[], $4::int[]) as s(status, sign) cross join ",
        grains!("$5"),
        " order by g.grain, g.period, s.status
         on conflict (store_id, grain, period, status, shard) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue,
            processing_seconds = t.processing_seconds + excluded.processing_seconds"
    ))
    .bind(order_id)
    .bind(&now.store_id)
    .bind(statuses)
    .bind(signs)
    .bind(now.day)
    .bind(now.total)
    .bind(now.processing_seconds)
    .bind(now.shard)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the rows this order's removal may have brought to zero (its sales
/// rows when `sales_removed`, the status row it `left`), so the tables hold
/// exactly what a rebuild would write. Those rows are already locked by this
/// transaction, and no committed row is ever zero, so this waits on no one.
/// A sharded row is zero only when every sum is: once closed periods are folded
/// (see [`super::compact`]) a shard row may hold one order added and another,
/// folded earlier, removed: no orders, but money.
async fn delete_emptied(
    conn: &mut PgConnection,
    order_id: Uuid,
    now: &Current,
    sales_removed: bool,
    left: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "with periods as (select g.grain, g.period from ",
        grains!("$3"),
        "), products as (
            delete from analytics_product_sales t using periods p
            where $7 and t.store_id = $2 and t.grain = p.grain and t.period = p.period and t.orders = 0
              and t.product_id in (select product_id from order_items where order_id = $1)
         ), categories as (
            delete from analytics_category_sales t using periods p
            where $7 and t.store_id = $2 and t.grain = p.grain and t.period = p.period and t.orders = 0
              and t.revenue = 0 and t.quantity = 0
              and t.shard = $4 and t.category in (select category from order_items where order_id = $1)
         ), customers as (
            delete from analytics_customer_sales
            where $7 and store_id = $2 and customer_id = $5 and day = $3 and orders = 0
         ), hours as (
            delete from analytics_hourly_sales
            where $7 and store_id = $2 and hour = $6 and shard = $4 and orders = 0 and revenue = 0
         )
         delete from analytics_status_counts t using periods p
         where t.store_id = $2 and t.grain = p.grain and t.period = p.period and t.shard = $4
           and t.status = $8 and t.orders = 0 and t.revenue = 0 and t.processing_seconds = 0"
    ))
    .bind(order_id)
    .bind(&now.store_id)
    .bind(now.day)
    .bind(now.shard)
    .bind(&now.customer_id)
    .bind(now.hour)
    .bind(sales_removed)
    .bind(left)
    .execute(conn)
    .await?;
    Ok(())
}
