//! Product and category figures: top products, one product's sales, and sales
//! by category, each read from the rollups plus the partial edge days.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::figures::{ProductFigures, ProductRow, figure_columns};
use super::plan::Plan;
use crate::domain::Money;

/// What `products/top` ranks by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RankBy {
    /// Units sold.
    #[default]
    Quantity,
    /// Sum of line totals.
    Revenue,
    /// Revenue minus cost over the lines whose snapshot has a cost.
    Profit,
}

/// One product's figures in a top-N list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TopProduct {
    pub product_id: Uuid,
    /// The product's SKU as the catalog has it now.
    pub sku: String,
    /// The product's name as the catalog has it now.
    pub name: String,
    pub quantity: i64,
    pub revenue: Money,
    /// Revenue minus cost over the lines sold with a cost snapshot; `null` when
    /// none of the product's lines in the range has one.
    pub profit: Option<Money>,
    /// Orders containing the product.
    pub orders: i64,
    #[serde(skip)]
    #[schema(ignore)]
    pub all_lines_without_cost: i64,
}

/// `products/top`: the ranked products and the lines left out of profit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopProducts {
    pub data: Vec<TopProduct>,
    /// Lines in the range (of any product, not only those listed) whose
    /// snapshot has no cost: their revenue counts, their profit is unknown.
    pub lines_without_cost: i64,
}

impl TopProducts {
    /// The ranked rows, with the lines without cost they each carry (none
    /// when nothing sold).
    pub fn from_ranked(data: Vec<TopProduct>) -> TopProducts {
        let lines_without_cost = data.first().map_or(0, |row| row.all_lines_without_cost);
        TopProducts {
            data,
            lines_without_cost,
        }
    }
}

/// One product's sales over a range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductSales {
    pub product_id: Uuid,
    pub quantity: i64,
    pub revenue: Money,
    pub orders: i64,
}

/// One category's sales over a range.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CategorySales {
    pub category: String,
    pub revenue: Money,
    /// Orders with at least one line in the category.
    pub orders: i64,
    pub quantity: i64,
}

/// Sales by category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    /// Highest revenue first; categories without sales in the range are absent.
    pub data: Vec<CategorySales>,
}

/// Per-product totals over a plan (`$18` the product, for one product only).
macro_rules! product_totals {
    ($rollup_filter:literal, $order_filter:literal) => {
        concat!(
            "with parts as (
                select product_id, quantity, revenue, orders, lines, lines_without_cost,
                       costed_revenue, cost
                from analytics_product_sales where store_id = $1",
            $rollup_filter,
            " and ",
            periods!(),
            " union all
                select i.product_id, sum(i.quantity), sum(i.line_total), count(distinct o.id), count(*),
                       count(*) filter (where i.unit_cost is null),
                       coalesce(sum(i.line_total) filter (where i.unit_cost is not null), 0),
                       coalesce(sum(i.unit_cost * i.quantity), 0)
                from orders o join order_items i on i.order_id = o.id
                where o.store_id = $1 and o.status <> 'cancelled' and o.deleted_at is null",
            $order_filter,
            " and ",
            edges!("o.created_at"),
            " group by i.product_id
             ), totals as (
                select product_id, sum(quantity)::bigint as quantity, sum(revenue) as revenue,
                       sum(orders)::bigint as orders, sum(lines_without_cost)::bigint as lines_without_cost,
                       case when sum(lines) > sum(lines_without_cost)
                            then sum(costed_revenue) - sum(cost) end as profit
                from parts group by product_id
             ) "
        )
    };
}

/// Ranks `totals` by `$column` (the limit bound as `$limit`): ranked first, so
/// only the winners are joined with the catalog; the lines without cost are
/// summed over every product once.
macro_rules! rank_totals {
    ($column:literal, $limit:literal) => {
        concat!(
            ", ranked as (
                select * from totals t order by ",
            $column,
            " desc nulls last, t.product_id limit ",
            $limit,
            "
             )
             select t.product_id, p.sku, p.name, t.quantity, t.revenue, t.profit, t.orders,
                    (select coalesce(sum(lines_without_cost), 0) from totals)::bigint
                        as all_lines_without_cost
             from ranked t join products p on p.id = t.product_id
             order by ",
            $column,
            " desc nulls last, t.product_id"
        )
    };
}

/// The top-N query over a plan, ranked by `$column`.
macro_rules! top_products {
    ($column:literal) => {
        concat!(product_totals!("", ""), rank_totals!($column, "$18"))
    };
}

/// The top-N query over all history: the store's all-time rows (`$1` the
/// store, `$2` the limit), ranked by `$column`.
macro_rules! top_all_time {
    ($column:literal) => {
        concat!(
            "with totals as (
                select product_id, quantity, revenue, orders, lines_without_cost,
                       case when lines > lines_without_cost then costed_revenue - cost end as profit
                from analytics_product_sales where store_id = $1 and grain = 'all'
             )",
            rank_totals!($column, "$2")
        )
    };
}

/// `$query!` (a top-N query macro) ranked by the column `by` names.
macro_rules! ranked_by {
    ($by:expr, $query:ident) => {
        match $by {
            RankBy::Quantity => $query!("t.quantity"),
            RankBy::Revenue => $query!("t.revenue"),
            RankBy::Profit => $query!("t.profit"),
        }
    };
}

/// The `limit` best-selling products of `store` over `plan`.
pub async fn top_products(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    by: RankBy,
    limit: i64,
) -> sqlx::Result<TopProducts> {
    let sql = ranked_by!(by, top_products);
    let query = sqlx::query_as::<_, TopProduct>(sql).bind(store);
    let data = plan.bind(query).bind(limit).fetch_all(db).await?;
    Ok(TopProducts::from_ranked(data))
}

/// The `limit` best-selling products of `store` over all history: PostgreSQL
/// ranks the ~1 000 all-time rows, and only the winners travel.
pub async fn top_all_time(
    db: &PgPool,
    store: &str,
    by: RankBy,
    limit: i64,
) -> sqlx::Result<TopProducts> {
    let sql = ranked_by!(by, top_all_time);
    let data = sqlx::query_as(sql)
        .bind(store)
        .bind(limit)
        .fetch_all(db)
        .await?;
    Ok(TopProducts::from_ranked(data))
}

/// Every product's sums in `store` over `plan`, unranked (for
/// [`super::closed`], which adds the closed periods' figures to them).
pub async fn product_totals(
    db: &PgPool,
    store: &str,
    plan: &Plan,
) -> sqlx::Result<Vec<(Uuid, ProductFigures)>> {
    let query = sqlx::query_as::<_, ProductRow>(concat!(
        product_totals!("", ""),
        "select product_id, ",
        figure_columns!(sum),
        " from parts group by product_id"
    ))
    .bind(store);
    let rows = plan.bind(query).fetch_all(db).await?;
    Ok(rows.into_iter().map(ProductRow::into_pair).collect())
}

/// One product's sales in `store` over `plan` (zeros when it sold nothing).
pub async fn product_sales(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    product_id: Uuid,
) -> sqlx::Result<ProductSales> {
    let query = sqlx::query_as::<_, (i64, Decimal, i64)>(concat!(
        product_totals!(" and product_id = $18", " and i.product_id = $18"),
        "select coalesce(sum(quantity), 0)::bigint, coalesce(sum(revenue), 0),
                coalesce(sum(orders), 0)::bigint
         from totals"
    ))
    .bind(store);
    let (quantity, revenue, orders) = plan.bind(query).bind(product_id).fetch_one(db).await?;
    Ok(ProductSales {
        product_id,
        quantity,
        revenue: revenue.into(),
        orders,
    })
}

/// Sales by category in `store` over `plan`; only `category` when given.
pub async fn category_sales(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    category: Option<&str>,
) -> sqlx::Result<Vec<CategorySales>> {
    let query = sqlx::query_as::<_, CategorySales>(concat!(
        "with parts as (
            select category, revenue, quantity, orders from analytics_category_sales
            where store_id = $1 and ($18::text is null or category = $18) and ",
        periods!(),
        " union all
            select category, sum(revenue), sum(quantity), count(*) from (
                select i.category, sum(i.line_total) as revenue, sum(i.quantity) as quantity
                from orders o join order_items i on i.order_id = o.id
                where o.store_id = $1 and o.status <> 'cancelled' and o.deleted_at is null
                  and ($18::text is null or i.category = $18) and ",
        edges!("o.created_at"),
        "       group by o.id, i.category
            ) per_order group by category
         )
         select category, sum(revenue) as revenue, sum(orders)::bigint as orders,
                sum(quantity)::bigint as quantity
         from parts group by category
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(quantity) <> 0
         order by revenue desc, category"
    ))
    .bind(store);
    plan.bind(query).bind(category).fetch_all(db).await
}
