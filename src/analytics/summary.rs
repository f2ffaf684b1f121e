//! The order summary: orders by status, revenue and average processing time,
//! over the orders created in a range.

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgPool, QueryBuilder};

use super::plan::Plan;
use crate::domain::Money;
use crate::orders::model::Status;

/// Orders that are not deleted, by status (cancelled ones included).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct StatusCounts {
    pub pending: i64,
    pub processing: i64,
    pub shipped: i64,
    pub completed: i64,
    pub cancelled: i64,
}

/// Figures over the orders created in a range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    /// Orders that are not deleted, whatever their status (the sum of `by_status`).
    pub total_orders: i64,
    pub by_status: StatusCounts,
    /// Sales revenue: orders neither cancelled nor deleted.
    pub revenue: Money,
    /// Mean seconds from creation to completion over the completed orders
    /// (not deleted), to the millisecond; `null` when none is completed.
    pub average_processing_seconds: Option<f64>,
}

/// The summary of `store` over `plan`.
pub async fn order_summary(db: &PgPool, store: &str, plan: &Plan) -> sqlx::Result<OrderSummary> {
    let mut query = QueryBuilder::new(
        "with parts as (
            select status, orders, revenue, processing_seconds from analytics_status_counts
            where store_id = ",
    );
    query.push_bind(store.to_string());
    query.push(" and ");
    plan.push_periods(&mut query);
    query.push(
        " union all
            select status, count(*), sum(total),
                   coalesce(sum(extract(epoch from completed_at - created_at)), 0)
            from orders where deleted_at is null and store_id = ",
    );
    query.push_bind(store.to_string());
    query.push(" and ");
    plan.push_edges(&mut query, "created_at");
    query.push(
        " group by status
         )
         select status, analytics_sells(status, false), sum(orders)::bigint, sum(revenue),
                round(sum(processing_seconds) / nullif(sum(orders), 0), 3)
         from parts group by status",
    );
    let rows: Vec<(String, bool, i64, Decimal, Option<Decimal>)> =
        query.build_query_as().fetch_all(db).await?;
    let mut summary = OrderSummary {
        total_orders: 0,
        by_status: StatusCounts::default(),
        revenue: Money::ZERO,
        average_processing_seconds: None,
    };
    for (status, sells, orders, revenue, average_seconds) in rows {
        summary.total_orders += orders;
        let Some(status) = Status::parse(&status) else {
            continue;
        };
        let count = match status {
            Status::Pending => &mut summary.by_status.pending,
            Status::Processing => &mut summary.by_status.processing,
            Status::Shipped => &mut summary.by_status.shipped,
            Status::Completed => &mut summary.by_status.completed,
            Status::Cancelled => &mut summary.by_status.cancelled,
        };
        *count += orders;
        if sells {
            summary.revenue = summary.revenue + Money::from(revenue);
        }
        if status == Status::Completed {
            // Through text: the nearest double, as PostgreSQL's own cast gives.
            summary.average_processing_seconds =
                average_seconds.and_then(|seconds| seconds.to_string().parse().ok());
        }
    }
    Ok(summary)
}
