//! Top products with every product's figures per rollup period kept in
//! memory (see [`super`] for when a kept period is used).
//!
//! A top-N over a month or a year sums ~10 000 to ~25 000 product rows (a
//! row per product per month, block and day of the range); summing them in
//! PostgreSQL takes longer than the whole answer may, but nearly all of them
//! belong to periods that have not changed since the last request. So each
//! request reads only the periods whose stamp moved, sums every period's
//! figures here and reads the partial edge days' order lines. All history is
//! the one all-time period; plans of months without an end are ranked by
//! PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;
use sqlx::PgPool;
use uuid::Uuid;

use super::Kept;
use crate::analytics::figures::{ProductFigures, figure_columns};
use crate::analytics::period::{Grain, Period};
use crate::analytics::plan::Plan;
use crate::analytics::sales::{self, RankBy, TopProduct, TopProducts};
use crate::domain::Money;

/// Every product's figures, by product id. The ids are the service's own
/// UUIDs, never chosen by a client, so the fast hash needs no protection from
/// colliding keys; summing a year's periods hashes ~20 000 of them a request.
type Totals = FxHashMap<Uuid, ProductFigures>;

/// Every product's figures per period.
pub type KeptProducts = Kept<Vec<(Uuid, ProductFigures)>>;

/// Every product's figures in some period, read from the rollups.
#[derive(sqlx::FromRow)]
struct PeriodRow {
    grain: String,
    /// `None` for the all-time row.
    period: Option<NaiveDate>,
    product_id: Uuid,
    #[sqlx(flatten)]
    figures: ProductFigures,
}

/// [`sales::top_products`] with the periods of `plan` taken from `kept`
/// where their stamp has not moved.
pub async fn top_products(
    db: &PgPool,
    kept: &KeptProducts,
    store: &str,
    plan: &Plan,
    by: RankBy,
    limit: i64,
) -> sqlx::Result<TopProducts> {
    let Some(periods) = plan.every_period() else {
        return sales::top_products(db, store, plan, by, limit).await;
    };
    let stamps = super::stamps_of(db, store, &periods).await?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for period in &periods {
        // A period without a stamp has no rows.
        let Some(stamp) = stamps.get(period) else {
            continue;
        };
        match kept.get(store, *period, *stamp) {
            Some(figures) => found.push(figures),
            None => missing.push(*period),
        }
    }
    for (period, figures) in read_periods(db, store, &missing).await? {
        kept.keep(store, period, stamps[&period], figures.clone());
        found.push(figures);
    }
    // Every period lists about the same products: the largest sizes the sum.
    let products = found.iter().map(|figures| figures.len()).max().unwrap_or(0);
    let mut totals = Totals::with_capacity_and_hasher(products, Default::default());
    for figures in &found {
        add_all(&mut totals, figures);
    }
    if !plan.edges.is_empty() {
        for (product_id, figures) in sales::product_totals(db, store, &plan.edges_only()).await? {
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
    if periods.is_empty() {
        return Ok(Vec::new());
    }
    let grains: Vec<&str> = periods.iter().map(|p| p.grain.as_str()).collect();
    let starts: Vec<Option<NaiveDate>> = periods.iter().map(|p| p.start).collect();
    let rows: Vec<PeriodRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select grain, nullif(period, '-infinity') as period, product_id, {}
         from analytics_product_sales
         where store_id = $1 and (grain, period) in (
            select g, coalesce(p, '-infinity') from unnest($2::text[], $3::date[]) as u(g, p))",
        figure_columns(false)
    )))
    .bind(store)
    .bind(&grains)
    .bind(&starts)
    .fetch_all(db)
    .await?;
    let mut by_period: HashMap<Period, Vec<(Uuid, ProductFigures)>> =
        periods.iter().map(|period| (*period, Vec::new())).collect();
    for row in rows {
        let Some(grain) = Grain::parse(&row.grain) else {
            continue;
        };
        let period = Period {
            grain,
            start: row.period,
        };
        if let Some(figures) = by_period.get_mut(&period) {
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
