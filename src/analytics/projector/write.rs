//! Writing a batch's summed changes: one upsert per rollup table (rows in
//! primary-key order, so the projector and the compactor lock rows in the
//! same order), then the rows brought back to zero are deleted (a rebuild
//! writes no zero rows; only a batch that takes something away can leave
//! one, so a batch that only adds skips the deletes); customer days that
//! lost an order get their first and last order times recomputed from the
//! orders the projection still counts; and the changed periods are stamped
//! (migration 0017). Everything goes to shard 0: with one writer, shards buy
//! nothing.
//!
//! The summing tables share one statement shape, written once from a
//! [`Table`] description and its columns as arrays ([`Values`]).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::contribution::{Deltas, StorePeriod};

/// A rollup table whose rows hold sums.
struct Table {
    name: &'static str,
    /// The primary key, without `shard`.
    key: &'static [&'static str],
    /// The summed columns.
    sums: &'static [&'static str],
    /// Whether the primary key ends with `shard` (always 0 here).
    sharded: bool,
}

const PRODUCTS: Table = Table {
    name: "analytics_product_sales",
    key: &["store_id", "grain", "period", "product_id"],
    sums: &[
        "quantity",
        "revenue",
        "orders",
        "lines",
        "lines_without_cost",
        "costed_revenue",
        "cost",
    ],
    sharded: false,
};

const CATEGORIES: Table = Table {
    name: "analytics_category_sales",
    key: &["store_id", "grain", "period", "category"],
    sums: &["revenue", "quantity", "orders"],
    sharded: true,
};

const STATUSES: Table = Table {
    name: "analytics_status_counts",
    key: &["store_id", "grain", "period", "status"],
    sums: &["orders", "revenue", "processing_seconds"],
    sharded: true,
};

const HOURS: Table = Table {
    name: "analytics_hourly_sales",
    key: &["store_id", "hour"],
    sums: &["orders", "revenue"],
    sharded: true,
};

/// One column of a batch's rows, as the array bound for `unnest`.
#[derive(Clone)]
enum Values {
    Text(Vec<String>),
    /// A null period is the all-time row's `-infinity`.
    Period(Vec<Option<NaiveDate>>),
    Uuid(Vec<Uuid>),
    Time(Vec<DateTime<Utc>>),
    Count(Vec<i64>),
    Amount(Vec<Decimal>),
}

impl Values {
    /// Binds the array, cast to its type.
    fn bind(self, query: &mut QueryBuilder<Postgres>) {
        let array_type = match &self {
            Values::Text(_) => "text",
            Values::Period(_) => "date",
            Values::Uuid(_) => "uuid",
            Values::Time(_) => "timestamptz",
            Values::Count(_) => "bigint",
            Values::Amount(_) => "numeric",
        };
        match self {
            Values::Text(values) => query.push_bind(values),
            Values::Period(values) => query.push_bind(values),
            Values::Uuid(values) => query.push_bind(values),
            Values::Time(values) => query.push_bind(values),
            Values::Count(values) => query.push_bind(values),
            Values::Amount(values) => query.push_bind(values),
        };
        query.push(format_args!("::{array_type}[]"));
    }

    fn any_negative(&self) -> bool {
        match self {
            Values::Count(values) => values.iter().any(|value| *value < 0),
            Values::Amount(values) => values.iter().any(Decimal::is_sign_negative),
            _ => false,
        }
    }
}

/// The key columns `store_id, grain, period` of period-keyed rows.
fn period_keys<'a>(keys: impl Iterator<Item = &'a StorePeriod>) -> [Values; 3] {
    let (mut stores, mut grains, mut periods) = (Vec::new(), Vec::new(), Vec::new());
    for (store, period) in keys {
        stores.push(store.clone());
        grains.push(period.grain.as_str().to_string());
        periods.push(period.start);
    }
    [
        Values::Text(stores),
        Values::Text(grains),
        Values::Period(periods),
    ]
}

/// `unnest(…) as k(columns)` of `values`, named by `columns`.
fn push_unnest(query: &mut QueryBuilder<Postgres>, columns: &[&str], values: Vec<Values>) {
    query.push("unnest(");
    for (n, values) in values.into_iter().enumerate() {
        if n > 0 {
            query.push(", ");
        }
        values.bind(query);
    }
    query.push(format_args!(") as k({})", columns.join(", ")));
}

/// A key column of `k` as the table holds it.
fn key_value(column: &str) -> String {
    match column {
        "period" => "coalesce(k.period, '-infinity'::date)".to_string(),
        _ => format!("k.{column}"),
    }
}

impl Table {
    /// Adds `sums` to the rows of `keys` (one array per key column, then
    /// one per summed column, in the description's order), then deletes the
    /// rows brought back to zero when any sum was negative.
    async fn add(
        &self,
        conn: &mut PgConnection,
        keys: Vec<Values>,
        sums: Vec<Values>,
    ) -> sqlx::Result<()> {
        let shard = if self.sharded { ", shard" } else { "" };
        let zero = if self.sharded { ", 0" } else { "" };
        let key = self.key.join(", ");
        let columns: Vec<&str> = self.key.iter().chain(self.sums).copied().collect();
        let removes = sums.iter().any(Values::any_negative);
        let mut query = QueryBuilder::new(format!(
            "insert into {} as t ({}{shard}) select {}, {}{zero} from ",
            self.name,
            columns.join(", "),
            self.key
                .iter()
                .map(|c| key_value(c))
                .collect::<Vec<_>>()
                .join(", "),
            self.sums
                .iter()
                .map(|c| format!("k.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
        push_unnest(
            &mut query,
            &columns,
            keys.iter().cloned().chain(sums).collect(),
        );
        query.push(format_args!(
            " on conflict ({key}{shard}) do update set {}",
            self.sums
                .iter()
                .map(|c| format!("{c} = t.{c} + excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        query.build().execute(&mut *conn).await?;
        if !removes {
            return Ok(());
        }
        let mut query = QueryBuilder::new(format!("delete from {} t using ", self.name));
        push_unnest(&mut query, self.key, keys);
        query.push(format_args!(
            " where {}{} and {}",
            self.key
                .iter()
                .map(|c| format!("t.{c} = {}", key_value(c)))
                .collect::<Vec<_>>()
                .join(" and "),
            if self.sharded { " and t.shard = 0" } else { "" },
            self.sums
                .iter()
                .map(|c| format!("t.{c} = 0"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
        query.build().execute(conn).await?;
        Ok(())
    }
}

/// Applies `deltas` in the caller's transaction.
pub async fn write(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    products(conn, deltas).await?;
    categories(conn, deltas).await?;
    statuses(conn, deltas).await?;
    hours(conn, deltas).await?;
    customers(conn, deltas).await?;
    stamp_periods(conn, deltas).await
}

async fn products(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.products.is_empty() {
        return Ok(());
    }
    let rows = &deltas.products;
    let mut keys = period_keys(rows.keys().map(|(period, _)| period)).to_vec();
    keys.push(Values::Uuid(rows.keys().map(|(_, id)| *id).collect()));
    let count = |f: fn(&crate::analytics::figures::ProductFigures) -> i64| {
        Values::Count(rows.values().map(f).collect())
    };
    let amount = |f: fn(&crate::analytics::figures::ProductFigures) -> Decimal| {
        Values::Amount(rows.values().map(f).collect())
    };
    let sums = vec![
        count(|s| s.quantity),
        amount(|s| s.revenue),
        count(|s| s.orders),
        count(|s| s.lines),
        count(|s| s.lines_without_cost),
        amount(|s| s.costed_revenue),
        amount(|s| s.cost),
    ];
    PRODUCTS.add(conn, keys, sums).await
}

async fn categories(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.categories.is_empty() {
        return Ok(());
    }
    let rows = &deltas.categories;
    let mut keys = period_keys(rows.keys().map(|(period, _)| period)).to_vec();
    keys.push(Values::Text(
        rows.keys().map(|(_, name)| name.clone()).collect(),
    ));
    let sums = vec![
        Values::Amount(rows.values().map(|s| s.revenue).collect()),
        Values::Count(rows.values().map(|s| s.quantity).collect()),
        Values::Count(rows.values().map(|s| s.orders).collect()),
    ];
    CATEGORIES.add(conn, keys, sums).await
}

async fn statuses(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.statuses.is_empty() {
        return Ok(());
    }
    let rows = &deltas.statuses;
    let mut keys = period_keys(rows.keys().map(|(period, _)| period)).to_vec();
    keys.push(Values::Text(
        rows.keys().map(|(_, status)| status.to_string()).collect(),
    ));
    let sums = vec![
        Values::Count(rows.values().map(|s| s.orders).collect()),
        Values::Amount(rows.values().map(|s| s.revenue).collect()),
        Values::Amount(rows.values().map(|s| s.processing_seconds).collect()),
    ];
    STATUSES.add(conn, keys, sums).await
}

async fn hours(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    if deltas.hours.is_empty() {
        return Ok(());
    }
    let rows = &deltas.hours;
    let keys = vec![
        Values::Text(rows.keys().map(|(store, _)| store.clone()).collect()),
        Values::Time(rows.keys().map(|(_, hour)| *hour).collect()),
    ];
    let sums = vec![
        Values::Count(rows.values().map(|s| s.orders).collect()),
        Values::Amount(rows.values().map(|s| s.revenue).collect()),
    ];
    HOURS.add(conn, keys, sums).await
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
              and analytics_sells(p.status, p.deleted)
              and o.created_at >= analytics_day_start(c.day, s.timezone) - interval '3 hours'
              and o.created_at < analytics_day_start(c.day + 1, s.timezone) + interval '3 hours'
              and analytics_local_day(o.created_at, s.timezone) = c.day)
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

/// Stamps the periods whose product or hourly rows changed with this
/// transaction's id (migration 0017).
async fn stamp_periods(conn: &mut PgConnection, deltas: &Deltas) -> sqlx::Result<()> {
    let periods = deltas.changed_periods();
    if periods.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::new(
        "insert into analytics_period_stamps as t (store_id, grain, period, stamp)
         select k.store_id, k.grain, coalesce(k.period, '-infinity'::date),
                pg_current_xact_id()::text::bigint
         from ",
    );
    let columns = ["store_id", "grain", "period"];
    push_unnest(&mut query, &columns, period_keys(periods.iter()).to_vec());
    query.push(" on conflict (store_id, grain, period) do update set stamp = excluded.stamp");
    query.build().execute(conn).await?;
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
