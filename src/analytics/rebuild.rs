//! Rebuilding the rollups from the orders: truncate, then recompute each table
//! with one set-based statement per grain (day rows from the orders, month rows
//! from the day rows, the all-time row from the month rows).
//!
//! It runs in one `repeatable read` transaction, so every statement reads the
//! orders in one snapshot, and it also sets the projector's state from that
//! snapshot (see `projector`): each order's projected state and version, and
//! the projector's position at the last event every transaction before the
//! snapshot's oldest running one wrote. Events after that position that the
//! snapshot saw carry versions the projected states already hold, so the
//! projector skips them; the others it applies. First it takes
//! `analytics_projected_orders` in `exclusive` mode, before the snapshot: a
//! projector batch under way commits first, and the next waits for the
//! rebuild. Order writes never wait for it; analytics reads do (the
//! truncation locks the rollups until the commit). Sharded tables get every
//! row in shard 0, as [`super::compact`] leaves closed periods. Rows are
//! written in primary-key order, so the rows one range reads lie together on
//! disk; the tables are vacuumed and analyzed after the commit.

use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use sqlx::PgPool;

/// What a rebuild wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Orders that count in sales figures (neither cancelled nor deleted).
    pub sales_orders: i64,
    /// Rows written to each rollup table, in the order rebuilt.
    pub rows: Vec<(&'static str, u64)>,
    pub elapsed: Duration,
}

/// The statements, each with the table it fills.
const STEPS: &[(&str, &str)] = &[
    (
        "analytics_product_sales",
        "insert into analytics_product_sales
            (store_id, grain, period, product_id, quantity, revenue, orders, lines,
             lines_without_cost, costed_revenue, cost)
         select o.store_id, 'day', analytics_local_day(o.created_at, s.timezone), i.product_id,
                sum(i.quantity), sum(i.line_total), count(distinct o.id), count(*),
                count(*) filter (where i.unit_cost is null),
                coalesce(sum(i.line_total) filter (where i.unit_cost is not null), 0),
                coalesce(sum(i.unit_cost * i.quantity), 0)
         from orders o join stores s on s.id = o.store_id join order_items i on i.order_id = o.id
         where analytics_sells(o.status, o.deleted_at is not null)
         group by 1, 2, 3, 4
         order by 1, 2, 3, 4",
    ),
    (
        "analytics_product_sales",
        "insert into analytics_product_sales
            (store_id, grain, period, product_id, quantity, revenue, orders, lines,
             lines_without_cost, costed_revenue, cost)
         select store_id, g.grain, g.period, product_id, sum(quantity), sum(revenue), sum(orders),
                sum(lines), sum(lines_without_cost), sum(costed_revenue), sum(cost)
         from analytics_product_sales,
              lateral (select g.grain, analytics_period_start(g.grain, period)
                       from unnest(array['block', 'month', 'all']) as g(grain)) as g(grain, period)
         where analytics_product_sales.grain = 'day'
         group by 1, 2, 3, 4
         order by 1, 2, 3, 4",
    ),
    (
        "analytics_category_sales",
        "insert into analytics_category_sales
            (store_id, grain, period, category, shard, revenue, quantity, orders)
         select o.store_id, 'day', analytics_local_day(o.created_at, s.timezone), i.category,
                0::smallint, sum(i.line_total), sum(i.quantity), count(distinct o.id)
         from orders o join stores s on s.id = o.store_id join order_items i on i.order_id = o.id
         where analytics_sells(o.status, o.deleted_at is not null)
         group by 1, 2, 3, 4, 5
         order by 1, 2, 3, 4, 5",
    ),
    (
        "analytics_category_sales",
        "insert into analytics_category_sales
            (store_id, grain, period, category, shard, revenue, quantity, orders)
         select store_id, g.grain, g.period, category, shard, sum(revenue), sum(quantity), sum(orders)
         from analytics_category_sales,
              lateral (select g.grain, analytics_period_start(g.grain, period)
                       from unnest(array['block', 'month', 'all']) as g(grain)) as g(grain, period)
         where analytics_category_sales.grain = 'day'
         group by 1, 2, 3, 4, 5
         order by 1, 2, 3, 4, 5",
    ),
    (
        "analytics_customer_sales",
        "insert into analytics_customer_sales
            (store_id, customer_id, day, orders, revenue, first_at, last_at)
         select o.store_id, o.customer_id, analytics_local_day(o.created_at, s.timezone),
                count(*), sum(o.total), min(o.created_at), max(o.created_at)
         from orders o join stores s on s.id = o.store_id
         where analytics_sells(o.status, o.deleted_at is not null) and o.customer_id is not null
         group by 1, 2, 3
         order by 1, 2, 3",
    ),
    (
        "analytics_hourly_sales",
        "insert into analytics_hourly_sales (store_id, hour, shard, orders, revenue)
         select store_id, date_trunc('hour', created_at, 'UTC'), 0::smallint,
                count(*), sum(total)
         from orders
         where analytics_sells(status, deleted_at is not null)
         group by 1, 2, 3
         order by 1, 2, 3",
    ),
    (
        "analytics_status_counts",
        "insert into analytics_status_counts
            (store_id, grain, period, status, shard, orders, revenue, processing_seconds)
         select o.store_id, 'day', analytics_local_day(o.created_at, s.timezone), o.status,
                0::smallint, count(*), sum(o.total),
                coalesce(sum(extract(epoch from o.completed_at - o.created_at))
                         filter (where o.status = 'completed'), 0)
         from orders o join stores s on s.id = o.store_id
         where o.deleted_at is null
         group by 1, 2, 3, 4, 5
         order by 1, 2, 3, 4, 5",
    ),
    (
        "analytics_status_counts",
        "insert into analytics_status_counts
            (store_id, grain, period, status, shard, orders, revenue, processing_seconds)
         select store_id, g.grain, g.period, status, shard, sum(orders), sum(revenue),
                sum(processing_seconds)
         from analytics_status_counts,
              lateral (select g.grain, analytics_period_start(g.grain, period)
                       from unnest(array['block', 'month', 'all']) as g(grain)) as g(grain, period)
         where analytics_status_counts.grain = 'day'
         group by 1, 2, 3, 4, 5
         order by 1, 2, 3, 4, 5",
    ),
];

/// Replaces every rollup with a recomputation from the order rows. `progress`
/// advances by one per statement (its length is set here).
pub async fn rebuild(pool: &PgPool, progress: &ProgressBar) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    progress.set_length(STEPS.len() as u64 + 2);
    let mut tx = pool.begin().await.context("starting the rebuild")?;
    // Neither statement takes the snapshot; the next one does.
    sqlx::query("set transaction isolation level repeatable read")
        .execute(&mut *tx)
        .await?;
    sqlx::query("lock table analytics_projected_orders in exclusive mode")
        .execute(&mut *tx)
        .await
        .context("waiting for the projector's batch")?;
    let xmin: i64 =
        sqlx::query_scalar("select pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            .fetch_one(&mut *tx)
            .await?;
    // Large hash aggregates; the setting ends with the transaction.
    sqlx::query("set local work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    progress.set_message("truncating");
    sqlx::query(
        "truncate analytics_product_sales, analytics_category_sales, analytics_customer_sales,
                  analytics_hourly_sales, analytics_status_counts",
    )
    .execute(&mut *tx)
    .await
    .context("truncating the rollups")?;
    progress.inc(1);
    let mut report = RebuildReport::default();
    for (table, statement) in STEPS {
        progress.set_message(*table);
        let written = sqlx::query(*statement)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("rebuilding {table}"))?
            .rows_affected();
        match report.rows.last_mut() {
            Some((last, rows)) if last == table => *rows += written,
            _ => report.rows.push((table, written)),
        }
        progress.inc(1);
    }
    progress.set_message("period stamps");
    stamp_every_period(&mut tx).await?;
    progress.set_message("projector state");
    set_projector_state(&mut tx, xmin).await?;
    report.sales_orders = sqlx::query_scalar(
        "select count(*) from orders where analytics_sells(status, deleted_at is not null)",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await.context("committing the rebuild")?;
    // Fresh statistics: planned with the truncated tables' (or none, where
    // autovacuum is off or has not come round yet), analytics reads pick slow
    // plans over the millions of new rows. The vacuum sets the rows' hint bits
    // and the visibility map now, so the first reads do not pay for it.
    progress.set_message("vacuuming and analyzing");
    sqlx::query(
        "vacuum (analyze) analytics_product_sales, analytics_category_sales, analytics_customer_sales,
                 analytics_hourly_sales, analytics_status_counts",
    )
    .execute(pool)
    .await
    .context("vacuuming the rollups")?;
    progress.inc(1);
    report.elapsed = started.elapsed();
    progress.finish_with_message("rollups rebuilt");
    Ok(report)
}

/// Stamps every period the rebuild wrote with its transaction's id, so no
/// figure kept in memory from before it is used again (migration 0017).
async fn stamp_every_period(conn: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    sqlx::query("truncate analytics_period_stamps")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into analytics_period_stamps (store_id, grain, period, stamp)
         select store_id, grain, period, pg_current_xact_id()::text::bigint from (
            select distinct store_id, grain, period from analytics_product_sales
            union
            select distinct store_id, 'utc_month', date_trunc('month', hour at time zone 'UTC')::date
            from analytics_hourly_sales
         ) periods",
    )
    .execute(conn)
    .await
    .context("stamping the periods")?;
    Ok(())
}

/// Every order's projected state from the snapshot, and the projector's
/// position at the last event below the snapshot's `xmin`.
async fn set_projector_state(conn: &mut sqlx::PgConnection, xmin: i64) -> anyhow::Result<()> {
    sqlx::query("truncate analytics_projected_orders")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into analytics_projected_orders (order_id, version, status, deleted)
         select id, version, status, deleted_at is not null from orders order by id",
    )
    .execute(&mut *conn)
    .await
    .context("setting the projected states")?;
    sqlx::query(
        "insert into event_readers (name, xact_id, id)
         select $1, coalesce(h.xact_id, p.xact_id), coalesce(h.id, p.id)
         from events_pruned p left join lateral (
             select xact_id, id from events where xact_id < $2::text::xid8
             order by xact_id desc, id desc limit 1
         ) h on true
         on conflict (name) do update set
            xact_id = excluded.xact_id, id = excluded.id, updated_at = now()",
    )
    .bind(super::projector::READER)
    .bind(xmin.to_string())
    .execute(conn)
    .await
    .context("setting the projector's position")?;
    Ok(())
}
