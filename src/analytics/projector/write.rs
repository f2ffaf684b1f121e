//! Writing a batch's summed changes: one statement per rollup table (rows in
//! primary-key order, so the projector and the compactor lock rows in the
//! same order), then the rows brought back to zero are deleted (a rebuild
//! writes no zero rows; only a batch that takes something away can leave
//! one, so a batch that only adds skips the deletes), customer days that lost an order get their first and
//! last order times recomputed from the orders the projection still counts,
//! and the versions of the changed periods are bumped. Everything goes to
//! shard 0: with one writer, shards buy nothing.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::contribution::{Deltas, Period};

/// A period-keyed table's key columns, as arrays.
#[derive(Default)]
struct PeriodKeys {
    stores: Vec<String>,
    grains: Vec<&'static str>,
    periods: Vec<Option<NaiveDate>>,
}

impl PeriodKeys {
    fn push(&mut self, (store, grain, period): &Period) {
        self.stores.push(store.clone());
        self.grains.push(grain.as_str());
        self.periods.push(*period);
    }
}

/// `unnest` of the period keys as `k(store_id, grain, period, …)`; a null
/// period is the all-time row's `-infinity`.
const PERIOD: &str = "coalesce(k.period, '-infinity'::date)";

/// Applies `deltas` in the caller's transaction.
pub async fn write(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    products(conn, deltas).await?;
    categories(conn, deltas).await?;
    statuses(conn, deltas).await?;
    hours(conn, deltas).await?;
    customers(conn, deltas).await?;
    bump_period_versions(conn, deltas).await
}

async fn products(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.products.is_empty() {
        return Ok(());
    }
    let mut keys = PeriodKeys::default();
    let (mut ids, mut quantity, mut revenue, mut orders) = (vec![], vec![], vec![], vec![]);
    let (mut lines, mut without_cost, mut costed, mut cost) = (vec![], vec![], vec![], vec![]);
    for ((period, product), sums) in &deltas.products {
        keys.push(period);
        ids.push(*product);
        quantity.push(sums.quantity);
        revenue.push(sums.revenue);
        orders.push(sums.orders);
        lines.push(sums.lines);
        without_cost.push(sums.lines_without_cost);
        costed.push(sums.costed_revenue);
        cost.push(sums.cost);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into analytics_product_sales as t
            (store_id, grain, period, product_id, quantity, revenue, orders, lines,
             lines_without_cost, costed_revenue, cost)
         select k.store_id, k.grain, {PERIOD}, k.product_id, k.quantity, k.revenue, k.orders,
                k.lines, k.lines_without_cost, k.costed_revenue, k.cost
         from unnest($1::text[], $2::text[], $3::date[], $4::uuid[], $5::bigint[], $6::numeric[],
                     $7::bigint[], $8::bigint[], $9::bigint[], $10::numeric[], $11::numeric[])
              as k(store_id, grain, period, product_id, quantity, revenue, orders, lines,
                   lines_without_cost, costed_revenue, cost)
         on conflict (store_id, grain, period, product_id) do update set
            quantity = t.quantity + excluded.quantity, revenue = t.revenue + excluded.revenue,
            orders = t.orders + excluded.orders, lines = t.lines + excluded.lines,
            lines_without_cost = t.lines_without_cost + excluded.lines_without_cost,
            costed_revenue = t.costed_revenue + excluded.costed_revenue, cost = t.cost + excluded.cost"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&ids)
    .bind(&quantity)
    .bind(&revenue)
    .bind(&orders)
    .bind(&lines)
    .bind(&without_cost)
    .bind(&costed)
    .bind(&cost)
    .execute(&mut *conn)
    .await?;
    if !deltas
        .products
        .values()
        .any(|d| d.orders < 0 || d.quantity < 0)
    {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from analytics_product_sales t
         using unnest($1::text[], $2::text[], $3::date[], $4::uuid[]) as k(store_id, grain, period, product_id)
         where t.store_id = k.store_id and t.grain = k.grain and t.period = {PERIOD}
           and t.product_id = k.product_id and t.orders = 0"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&ids)
    .execute(conn)
    .await?;
    Ok(())
}

async fn categories(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.categories.is_empty() {
        return Ok(());
    }
    let mut keys = PeriodKeys::default();
    let (mut names, mut revenue, mut quantity, mut orders) = (vec![], vec![], vec![], vec![]);
    for ((period, category), sums) in &deltas.categories {
        keys.push(period);
        names.push(category.as_str());
        revenue.push(sums.revenue);
        quantity.push(sums.quantity);
        orders.push(sums.orders);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into analytics_category_sales as t
            (store_id, grain, period, category, shard, revenue, quantity, orders)
         select k.store_id, k.grain, {PERIOD}, k.category, 0, k.revenue, k.quantity, k.orders
         from unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::numeric[], $6::bigint[],
                     $7::bigint[]) as k(store_id, grain, period, category, revenue, quantity, orders)
         on conflict (store_id, grain, period, category, shard) do update set
            revenue = t.revenue + excluded.revenue, quantity = t.quantity + excluded.quantity,
            orders = t.orders + excluded.orders"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&names)
    .bind(&revenue)
    .bind(&quantity)
    .bind(&orders)
    .execute(&mut *conn)
    .await?;
    if !deltas
        .categories
        .values()
        .any(|d| d.orders < 0 || d.quantity < 0 || d.revenue.is_sign_negative())
    {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from analytics_category_sales t
         using unnest($1::text[], $2::text[], $3::date[], $4::text[]) as k(store_id, grain, period, category)
         where t.store_id = k.store_id and t.grain = k.grain and t.period = {PERIOD}
           and t.category = k.category and t.shard = 0
           and t.orders = 0 and t.revenue = 0 and t.quantity = 0"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&names)
    .execute(conn)
    .await?;
    Ok(())
}

async fn statuses(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.statuses.is_empty() {
        return Ok(());
    }
    let mut keys = PeriodKeys::default();
    let (mut statuses, mut orders, mut revenue, mut seconds) = (vec![], vec![], vec![], vec![]);
    for ((period, status), sums) in &deltas.statuses {
        keys.push(period);
        statuses.push(*status);
        orders.push(sums.orders);
        revenue.push(sums.revenue);
        seconds.push(sums.processing_seconds);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into analytics_status_counts as t
            (store_id, grain, period, status, shard, orders, revenue, processing_seconds)
         select k.store_id, k.grain, {PERIOD}, k.status, 0, k.orders, k.revenue, k.seconds
         from unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[], $6::numeric[],
                     $7::numeric[]) as k(store_id, grain, period, status, orders, revenue, seconds)
         on conflict (store_id, grain, period, status, shard) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue,
            processing_seconds = t.processing_seconds + excluded.processing_seconds"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&statuses)
    .bind(&orders)
    .bind(&revenue)
    .bind(&seconds)
    .execute(&mut *conn)
    .await?;
    if !deltas.statuses.values().any(|d| {
        d.orders < 0 || d.revenue.is_sign_negative() || d.processing_seconds.is_sign_negative()
    }) {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from analytics_status_counts t
         using unnest($1::text[], $2::text[], $3::date[], $4::text[]) as k(store_id, grain, period, status)
         where t.store_id = k.store_id and t.grain = k.grain and t.period = {PERIOD}
           and t.status = k.status and t.shard = 0
           and t.orders = 0 and t.revenue = 0 and t.processing_seconds = 0"
    )))
    .bind(&keys.stores)
    .bind(&keys.grains)
    .bind(&keys.periods)
    .bind(&statuses)
    .execute(conn)
    .await?;
    Ok(())
}

async fn hours(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.hours.is_empty() {
        return Ok(());
    }
    let (mut stores, mut hours, mut orders, mut revenue) = (vec![], vec![], vec![], vec![]);
    for ((store, hour), sums) in &deltas.hours {
        stores.push(store.as_str());
        hours.push(*hour);
        orders.push(sums.orders);
        revenue.push(sums.revenue);
    }
    sqlx::query(
        "insert into analytics_hourly_sales as t (store_id, hour, shard, orders, revenue)
         select k.store_id, k.hour, 0, k.orders, k.revenue
         from unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::numeric[])
              as k(store_id, hour, orders, revenue)
         on conflict (store_id, hour, shard) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue",
    )
    .bind(&stores)
    .bind(&hours)
    .bind(&orders)
    .bind(&revenue)
    .execute(&mut *conn)
    .await?;
    if !deltas
        .hours
        .values()
        .any(|d| d.orders < 0 || d.revenue.is_sign_negative())
    {
        return Ok(());
    }
    sqlx::query(
        "delete from analytics_hourly_sales t
         using unnest($1::text[], $2::timestamptz[]) as k(store_id, hour)
         where t.store_id = k.store_id and t.hour = k.hour and t.shard = 0
           and t.orders = 0 and t.revenue = 0",
    )
    .bind(&stores)
    .bind(&hours)
    .execute(conn)
    .await?;
    Ok(())
}

async fn customers(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.customers.is_empty() {
        return Ok(());
    }
    let (mut stores, mut customers, mut days) = (vec![], vec![], vec![]);
    let (mut orders, mut revenue, mut removed) = (vec![], vec![], vec![]);
    let (mut first, mut last): (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>) = (vec![], vec![]);
    for ((store, customer, day), sums) in &deltas.customers {
        stores.push(store.as_str());
        customers.push(customer.as_str());
        days.push(*day);
        orders.push(sums.orders);
        revenue.push(sums.revenue);
        first.push(sums.first_at);
        last.push(sums.last_at);
        removed.push(sums.removed);
    }
    sqlx::query(
        "insert into analytics_customer_sales as t
            (store_id, customer_id, day, orders, revenue, first_at, last_at)
         select k.store_id, k.customer_id, k.day, k.orders, k.revenue, k.first_at, k.last_at
         from unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::numeric[],
                     $6::timestamptz[], $7::timestamptz[])
              as k(store_id, customer_id, day, orders, revenue, first_at, last_at)
         order by 1, 2, 3
         on conflict (store_id, customer_id, day) do update set
            orders = t.orders + excluded.orders, revenue = t.revenue + excluded.revenue,
            first_at = least(t.first_at, excluded.first_at),
            last_at = greatest(t.last_at, excluded.last_at)",
    )
    .bind(&stores)
    .bind(&customers)
    .bind(&days)
    .bind(&orders)
    .bind(&revenue)
    .bind(&first)
    .bind(&last)
    .execute(&mut *conn)
    .await?;
    // Where an order left a day, its first and last order times come from
    // the orders the projection still counts there (exact, as of this batch);
    // the day's orders lie within its local bounds, the margin and the date
    // test keep this exact even where a day's start is unusual.
    sqlx::query(
        "with keys as (
            select * from unnest($1::text[], $2::text[], $3::date[], $4::bool[])
                 as k(store_id, customer_id, day, removed) where k.removed),
         emptied as (
            delete from analytics_customer_sales c using keys k
            where c.store_id = k.store_id and c.customer_id = k.customer_id and c.day = k.day
              and c.orders = 0)
         update analytics_customer_sales c set (first_at, last_at) = (
            select coalesce(min(o.created_at), c.first_at), coalesce(max(o.created_at), c.last_at)
            from orders o join analytics_projected_orders p on p.order_id = o.id
            where o.store_id = c.store_id and o.customer_id = c.customer_id
              and p.status <> 'cancelled' and not p.deleted
              and o.created_at >= analytics_day_start(c.day, s.timezone) - interval '3 hours'
              and o.created_at < analytics_day_start(c.day + 1, s.timezone) + interval '3 hours'
              and (o.created_at at time zone s.timezone)::date = c.day)
         from keys k, stores s
         where c.store_id = k.store_id and c.customer_id = k.customer_id and c.day = k.day
           and s.id = c.store_id and c.orders > 0",
    )
    .bind(&stores)
    .bind(&customers)
    .bind(&days)
    .bind(&removed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the changed product periods and UTC months of hourly sales, for the
/// readers that keep closed periods in memory (migrations 0009, 0010).
async fn bump_period_versions(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    let periods = deltas.changed_periods();
    if periods.is_empty() {
        return Ok(());
    }
    let mut stores: Vec<&str> = Vec::with_capacity(periods.len());
    let mut grains: Vec<&str> = Vec::with_capacity(periods.len());
    let mut days: Vec<NaiveDate> = Vec::with_capacity(periods.len());
    for (store, grain, period) in &periods {
        stores.push(store);
        grains.push(grain);
        days.push(*period);
    }
    sqlx::query(
        "insert into analytics_period_versions as t (store_id, grain, period, version)
         select k.store_id, k.grain, k.period, 1
         from unnest($1::text[], $2::text[], $3::date[]) as k(store_id, grain, period)
         on conflict (store_id, grain, period) do update set version = t.version + 1",
    )
    .bind(&stores)
    .bind(&grains)
    .bind(&days)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores each order's projected state (`analytics_projected_orders`).
pub async fn states(
    conn: &mut PgConnection,
    ids: &[Uuid],
    versions: &[i32],
    statuses: &[&str],
    deleted: &[bool],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into analytics_projected_orders as t (order_id, version, status, deleted)
         select * from unnest($1::uuid[], $2::int[], $3::text[], $4::bool[])
         on conflict (order_id) do update set
            version = excluded.version, status = excluded.status, deleted = excluded.deleted",
    )
    .bind(ids)
    .bind(versions)
    .bind(statuses)
    .bind(deleted)
    .execute(conn)
    .await?;
    Ok(())
}
