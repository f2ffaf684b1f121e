//! Product and category figures: top products, one product's sales, and sales
//! by category, each read from the rollups plus the partial edge days.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
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

impl RankBy {
    /// The column of `totals` this ranks by (descending, no profit last).
    fn column(self) -> &'static str {
        match self {
            RankBy::Quantity => "quantity",
            RankBy::Revenue => "revenue",
            RankBy::Profit => "profit",
        }
    }
}

/// `with parts as (…)`: every product's figures in each rollup row of `plan`
/// and in the order lines of its partial days; only `product`'s when given.
fn push_parts(query: &mut QueryBuilder<Postgres>, store: &str, plan: &Plan, product: Option<Uuid>) {
    query.push(
        "with parts as (
            select product_id, quantity, revenue, orders, lines, lines_without_cost,
                   costed_revenue, cost
            from analytics_product_sales where store_id = ",
    );
    query.push_bind(store.to_string());
    if let Some(product) = product {
        query.push(" and product_id = ").push_bind(product);
    }
    query.push(" and ");
    plan.push_periods(query);
    query.push(
        " union all
            select i.product_id, sum(i.quantity), sum(i.line_total), count(distinct o.id), count(*),
                   count(*) filter (where i.unit_cost is null),
                   coalesce(sum(i.line_total) filter (where i.unit_cost is not null), 0),
                   coalesce(sum(i.unit_cost * i.quantity), 0)
            from orders o join order_items i on i.order_id = o.id
            where analytics_sells(o.status, o.deleted_at is not null) and o.store_id = ",
    );
    query.push_bind(store.to_string());
    if let Some(product) = product {
        query.push(" and i.product_id = ").push_bind(product);
    }
    query.push(" and ");
    plan.push_edges(query, "o.created_at");
    query.push(" group by i.product_id)");
}

/// The `limit` best-selling products of `store` over `plan`, ranked by
/// PostgreSQL: ranked first, so only the winners are joined with the catalog;
/// the lines without cost are summed over every product once.
pub async fn top_products(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    by: RankBy,
    limit: i64,
) -> sqlx::Result<TopProducts> {
    let mut query = QueryBuilder::new("");
    push_parts(&mut query, store, plan, None);
    let column = by.column();
    query.push(
        ", totals as (
            select product_id, sum(quantity)::bigint as quantity, sum(revenue) as revenue,
                   sum(orders)::bigint as orders, sum(lines_without_cost)::bigint as lines_without_cost,
                   case when sum(lines) > sum(lines_without_cost)
                        then sum(costed_revenue) - sum(cost) end as profit
            from parts group by product_id
         ), ranked as (
            select * from totals t ",
    );
    query.push(format_args!(
        "order by t.{column} desc nulls last, t.product_id limit "
    ));
    query.push_bind(limit);
    query.push(format_args!(
        ")
         select t.product_id, p.sku, p.name, t.quantity, t.revenue, t.profit, t.orders,
                (select coalesce(sum(lines_without_cost), 0) from totals)::bigint
                    as all_lines_without_cost
         from ranked t join products p on p.id = t.product_id
         order by t.{column} desc nulls last, t.product_id"
    ));
    let data = query.build_query_as().fetch_all(db).await?;
    Ok(TopProducts::from_ranked(data))
}

/// Every product's sums in `store` over `plan`, unranked (for
/// [`super::kept`], which adds the kept periods' figures to them).
pub async fn product_totals(
    db: &PgPool,
    store: &str,
    plan: &Plan,
) -> sqlx::Result<Vec<(Uuid, ProductFigures)>> {
    let mut query = QueryBuilder::new("");
    push_parts(&mut query, store, plan, None);
    query.push(format_args!(
        " select product_id, {} from parts group by product_id",
        figure_columns(true)
    ));
    let rows: Vec<ProductRow> = query.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(ProductRow::into_pair).collect())
}

/// One product's sales in `store` over `plan` (zeros when it sold nothing).
pub async fn product_sales(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    product_id: Uuid,
) -> sqlx::Result<ProductSales> {
    let mut query = QueryBuilder::new("");
    push_parts(&mut query, store, plan, Some(product_id));
    query.push(
        " select coalesce(sum(quantity), 0)::bigint, coalesce(sum(revenue), 0),
                 coalesce(sum(orders), 0)::bigint
          from parts",
    );
    let (quantity, revenue, orders): (i64, Decimal, i64) =
        query.build_query_as().fetch_one(db).await?;
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
    let mut query = QueryBuilder::new(
        "with parts as (
            select category, revenue, quantity, orders from analytics_category_sales
            where store_id = ",
    );
    query.push_bind(store.to_string());
    if let Some(category) = category {
        query
            .push(" and category = ")
            .push_bind(category.to_string());
    }
    query.push(" and ");
    plan.push_periods(&mut query);
    query.push(
        " union all
            select category, sum(revenue), sum(quantity), count(*) from (
                select i.category, sum(i.line_total) as revenue, sum(i.quantity) as quantity
                from orders o join order_items i on i.order_id = o.id
                where analytics_sells(o.status, o.deleted_at is not null) and o.store_id = ",
    );
    query.push_bind(store.to_string());
    if let Some(category) = category {
        query
            .push(" and i.category = ")
            .push_bind(category.to_string());
    }
    query.push(" and ");
    plan.push_edges(&mut query, "o.created_at");
    query.push(
        " group by o.id, i.category
            ) per_order group by category
         )
         select category, sum(revenue) as revenue, sum(orders)::bigint as orders,
                sum(quantity)::bigint as quantity
         from parts group by category
         having sum(orders) <> 0 or sum(revenue) <> 0 or sum(quantity) <> 0
         order by revenue desc, category",
    );
    query.build_query_as().fetch_all(db).await
}
