//! Top products with the product figures of closed periods kept in memory.
//!
//! A top-N over a month or a year reads ~10 000 to ~25 000 product rows from
//! the rollups (a row per product per month, block and day of the range);
//! summing them in PostgreSQL alone takes longer than the whole answer may.
//! But all of those rows except today's belong to periods that are over, and
//! a period that is over changes only when one of its orders is cancelled or
//! deleted; the projector bumps the period's version
//! (`analytics_period_versions`, migration 0009) in the batch that applies
//! that change. So
//! the figures of closed periods are kept here, per store, grain and period,
//! and each request checks their versions (one small query) and reads only
//! what is open, or changed, from the rollups. Answers stay exact: a kept
//! period is used only at the version it was read at, and its rows are always
//! read after that version. Yesterday counts as closed only once no
//! transaction that began before midnight can still add to it unseen
//! ([`super::day_horizon`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rustc_hash::FxHashMap;
use sqlx::PgPool;
use uuid::Uuid;

use super::day_horizon::DayHorizons;
use super::figures::{ProductFigures, figure_columns};
use super::kept::KeptPeriods;
use super::plan::{Period, Plan};
use super::sales::{self, RankBy, TopProduct, TopProducts};
use crate::domain::Money;

/// Every product's figures, by product id. The ids are the service's own
/// UUIDs, never chosen by a client, so the fast hash needs no protection from
/// colliding keys; summing a year's periods hashes ~20 000 of them a request.
type Totals = FxHashMap<Uuid, ProductFigures>;

/// The kept figures of closed periods (every product's figures per period),
/// and when each store's yesterday closed.
#[derive(Default)]
pub struct ClosedPeriods {
    kept: KeptPeriods<Vec<(Uuid, ProductFigures)>>,
    horizons: DayHorizons,
}

/// The store's local today, the oldest transaction id still running in the
/// snapshot, the rollup epoch and the versions of the periods asked about.
#[derive(sqlx::FromRow)]
struct Versions {
    today: NaiveDate,
    xmin: i64,
    epoch: i64,
    grains: Vec<String>,
    periods: Vec<NaiveDate>,
    versions: Vec<i64>,
}

/// Every product's figures in each of `periods`, read from the rollups.
#[derive(sqlx::FromRow)]
struct PeriodRow {
    grain: String,
    period: NaiveDate,
    product_id: Uuid,
    #[sqlx(flatten)]
    figures: ProductFigures,
}

/// [`sales::top_products`] with the closed periods of `plan` answered from
/// `closed` where they are kept at their current version. The open periods'
/// rows are read as they are and summed here; PostgreSQL aggregates only the
/// partial edge days' order lines, when the range has any.
pub async fn top_products(
    db: &PgPool,
    closed: &ClosedPeriods,
    store: &str,
    plan: &Plan,
    by: RankBy,
    limit: i64,
) -> sqlx::Result<TopProducts> {
    if plan.all.is_some() {
        return sales::top_all_time(db, store, by, limit).await;
    }
    let Some((candidates, _)) = plan.split_closed(NaiveDate::MAX) else {
        return sales::top_products(db, store, plan, by, limit).await;
    };
    let (grains, periods): (Vec<&str>, Vec<NaiveDate>) = candidates.iter().copied().unzip();
    let found: Versions = sqlx::query_as(
        "select (now() at time zone s.timezone)::date as today,
                pg_snapshot_xmin(pg_current_snapshot())::text::bigint as xmin, e.epoch,
                coalesce(v.grains, '{}') as grains, coalesce(v.periods, '{}') as periods,
                coalesce(v.versions, '{}') as versions
         from stores s cross join analytics_rollup_epoch e
              cross join lateral (
                select array_agg(grain) as grains, array_agg(period) as periods,
                       array_agg(version) as versions
                from analytics_period_versions
                where store_id = $1 and (grain, period) in (select * from unnest($2::text[], $3::date[]))
              ) v
         where s.id = $1",
    )
    .bind(store)
    .bind(&grains)
    .bind(&periods)
    .fetch_one(db)
    .await?;
    let versions: HashMap<(&str, NaiveDate), i64> = found
        .grains
        .iter()
        .map(String::as_str)
        .zip(found.periods)
        .zip(found.versions)
        .collect();
    let closed_before = if closed
        .horizons
        .yesterday_closed(db, store, found.today, found.xmin)
        .await?
    {
        found.today
    } else {
        found.today - Days::new(1)
    };
    let epoch = found.epoch;
    let (closed_periods, open) = plan.split_closed(closed_before).unwrap_or_default();
    let (open_periods, _) = open.split_closed(NaiveDate::MAX).unwrap_or_default();

    let mut kept = Vec::new();
    let mut missing: Vec<Period> = Vec::new();
    for (grain, period) in &closed_periods {
        let key = (store.to_string(), *grain, *period);
        let version = versions.get(&(*grain, *period)).copied().unwrap_or(0);
        match closed.kept.get(&key, epoch, version) {
            Some(figures) => kept.push(figures),
            None => missing.push((*grain, *period)),
        }
    }
    // Every period lists about the same products: the largest sizes the sum.
    let products = kept.iter().map(|figures| figures.len()).max().unwrap_or(0);
    let mut totals = Totals::with_capacity_and_hasher(products, Default::default());
    for figures in &kept {
        add_all(&mut totals, figures);
    }
    let to_read: Vec<Period> = missing.iter().chain(&open_periods).copied().collect();
    if !to_read.is_empty() {
        for ((grain, period), figures) in read_periods(db, store, &to_read).await? {
            add_all(&mut totals, &figures);
            if missing.contains(&(grain, period)) {
                let version = versions.get(&(grain, period)).copied().unwrap_or(0);
                let key = (store.to_string(), grain, period);
                closed.kept.keep(key, epoch, version, figures);
            }
        }
    }
    if plan.edges.iter().any(Option::is_some) {
        let edges = Plan {
            edges: plan.edges,
            ..Plan::default()
        };
        for (product_id, figures) in sales::product_totals(db, store, &edges).await? {
            *totals.entry(product_id).or_default() += &figures;
        }
    }
    ranked(db, totals, by, limit).await
}

fn add_all(totals: &mut Totals, figures: &[(Uuid, ProductFigures)]) {
    for (product_id, figures) in figures {
        *totals.entry(*product_id).or_default() += figures;
    }
}

/// Every product's figures in each of `periods` (all of them, even those
/// without a row: an empty period is kept as empty).
async fn read_periods(
    db: &PgPool,
    store: &str,
    periods: &[Period],
) -> sqlx::Result<Vec<(Period, Arc<Vec<(Uuid, ProductFigures)>>)>> {
    let (grains, days): (Vec<&str>, Vec<NaiveDate>) = periods.iter().copied().unzip();
    let rows: Vec<PeriodRow> = sqlx::query_as(
        concat!(
            "select grain, period, product_id, ",
            figure_columns!(),
            " from analytics_product_sales
             where store_id = $1 and (grain, period) in (select * from unnest($2::text[], $3::date[]))"
        ),
    )
    .bind(store)
    .bind(&grains)
    .bind(&days)
    .fetch_all(db)
    .await?;
    let mut by_period: HashMap<(&str, NaiveDate), Vec<(Uuid, ProductFigures)>> =
        periods.iter().map(|period| (*period, Vec::new())).collect();
    for row in rows {
        let grain = match row.grain.as_str() {
            "day" => "day",
            "block" => "block",
            _ => "month",
        };
        if let Some(figures) = by_period.get_mut(&(grain, row.period)) {
            figures.push((row.product_id, row.figures));
        }
    }
    Ok(periods
        .iter()
        .map(|period| {
            let figures = by_period.remove(period).unwrap_or_default();
            (*period, Arc::new(figures))
        })
        .collect())
}

/// The `limit` best of `totals` by `by` (ties to the lower product id, no
/// profit last), with the catalog's current SKU and name.
async fn ranked(db: &PgPool, totals: Totals, by: RankBy, limit: i64) -> sqlx::Result<TopProducts> {
    let all_lines_without_cost = totals
        .values()
        .map(|figures| figures.lines_without_cost)
        .sum();
    let mut rows: Vec<(Uuid, ProductFigures)> = totals.into_iter().collect();
    let ranking = |(a_id, a): &(Uuid, ProductFigures), (b_id, b): &(Uuid, ProductFigures)| {
        let order = match by {
            RankBy::Quantity => b.quantity.cmp(&a.quantity),
            RankBy::Revenue => b.revenue.cmp(&a.revenue),
            // `desc nulls last`: any profit before none.
            RankBy::Profit => match (a.profit(), b.profit()) {
                (Some(a), Some(b)) => b.cmp(&a),
                (a, b) => b.is_some().cmp(&a.is_some()),
            },
        };
        order.then_with(|| a_id.cmp(b_id))
    };
    // Only the first `limit` are ordered: the rest need only be after them.
    let limit = usize::try_from(limit).unwrap_or(0);
    if limit > 0 && rows.len() > limit {
        rows.select_nth_unstable_by(limit - 1, ranking);
    }
    rows.truncate(limit);
    rows.sort_by(ranking);
    let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
    let names: HashMap<Uuid, (String, String)> = sqlx::query_as::<_, (Uuid, String, String)>(
        "select id, sku, name from products where id = any($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(id, sku, name)| (id, (sku, name)))
    .collect();
    let data = rows
        .into_iter()
        .filter_map(|(product_id, figures)| {
            let (sku, name) = names.get(&product_id)?.clone();
            Some(TopProduct {
                product_id,
                sku,
                name,
                quantity: figures.quantity,
                revenue: Money::from(figures.revenue),
                profit: figures.profit().map(Money::from),
                orders: figures.orders,
                all_lines_without_cost,
            })
        })
        .collect();
    // As the query ranking in PostgreSQL reports it: over every product, taken
    // from the first row listed.
    Ok(TopProducts::from_ranked(data))
}
