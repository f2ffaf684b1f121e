//! A customer's lifetime value: what they spent in a store over a range.
//!
//! Customers are not entities here: an id with no sales answers zero figures.
//! Their rollup is by local day only (a customer has few order days), so every
//! whole-day piece of a plan reads day rows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgPool, QueryBuilder};

use super::plan::Plan;
use crate::domain::Money;

/// A customer's spending over a range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerValue {
    pub customer_id: String,
    /// Sum of the totals of the customer's orders.
    pub total_spent: Money,
    pub orders: i64,
    /// `total_spent / orders`, rounded half away from zero to cents; `"0.00"`
    /// without orders.
    pub average_order_value: Money,
    /// `null` without orders.
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    Decimal,
    Decimal,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// `customer_id`'s figures in `store` over `plan`.
pub async fn lifetime_value(
    db: &PgPool,
    store: &str,
    plan: &Plan,
    customer_id: &str,
) -> sqlx::Result<CustomerValue> {
    let mut query = QueryBuilder::new(
        "with parts as (
            select orders, revenue, first_at, last_at from analytics_customer_sales
            where store_id = ",
    );
    query.push_bind(store.to_string());
    query
        .push(" and customer_id = ")
        .push_bind(customer_id.to_string());
    query.push(" and ");
    plan.push_days(&mut query);
    query.push(
        " union all
            select count(*), coalesce(sum(total), 0), min(created_at), max(created_at) from orders
            where analytics_sells(status, deleted_at is not null) and store_id = ",
    );
    query.push_bind(store.to_string());
    query
        .push(" and customer_id = ")
        .push_bind(customer_id.to_string());
    query.push(" and ");
    plan.push_edges(&mut query, "created_at");
    query.push(
        ")
         select coalesce(sum(orders), 0)::bigint, coalesce(sum(revenue), 0),
                case when sum(orders) > 0 then round(sum(revenue) / sum(orders), 2) else 0 end,
                min(first_at), max(last_at)
         from parts",
    );
    let (orders, total, average, first, last): Row = query.build_query_as().fetch_one(db).await?;
    Ok(CustomerValue {
        customer_id: customer_id.to_string(),
        total_spent: total.into(),
        orders,
        average_order_value: average.into(),
        first_order_at: first,
        last_order_at: last,
    })
}
