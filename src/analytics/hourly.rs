//! Sales by hour. Hours are UTC hours (`hour` is the RFC 3339 start of one):
//! the rollup is by UTC hour, so the whole hours of a range come from it and
//! the partial hours at its ends from the order rows.

use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::Serialize;
use sqlx::{PgPool, QueryBuilder};

use super::plan::{Plan, Span};
use super::range::Resolved;
use crate::domain::Money;

/// One hour's sales.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HourSales {
    /// Start of the UTC hour. The first and last hour are clipped to the range.
    #[serde(serialize_with = "crate::domain::rfc3339::serialize")]
    pub hour: DateTime<Utc>,
    pub orders: i64,
    pub revenue: Money,
}

/// Sales by hour, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourlySales {
    /// Hours without sales are left out.
    pub data: Vec<HourSales>,
}

/// Whole UTC hours from the rollup and partial hours from the orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourPlan {
    pub hours: Option<Span<DateTime<Utc>>>,
    pub edges: [Option<Span<DateTime<Utc>>>; 2],
}

impl HourPlan {
    /// Splits `[lo, hi)` of a resolved range at whole hours.
    pub fn new(range: &Resolved) -> HourPlan {
        let h0 = range.lo.map(|lo| {
            let floor = floor_hour(lo);
            if floor == lo {
                lo
            } else {
                floor + TimeDelta::hours(1)
            }
        });
        let h1 = range.hi.map(floor_hour);
        let span = |lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>| match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi => Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }),
            _ => None,
        };
        if let (Some(h0), Some(h1)) = (h0, h1)
            && h0 >= h1
        {
            return HourPlan {
                hours: None,
                edges: [span(range.lo, range.hi), None],
            };
        }
        HourPlan {
            hours: Some(Span { lo: h0, hi: h1 }),
            edges: [span(range.lo, h0), span(h1, range.hi)],
        }
    }
}

/// Keeps the hours of the rollup that had sales, after `group by hour` (an
/// hour whose shards cancel out, an order folded into one and its removal in
/// another, has no sales).
const HOURS_WITH_SALES: &str = "having sum(orders) <> 0 or sum(revenue) <> 0";

/// Midnight UTC at the start of `day`.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn floor_hour(time: DateTime<Utc>) -> DateTime<Utc> {
    const HOUR: i64 = 3_600_000_000;
    let micros = time.timestamp_micros();
    DateTime::from_timestamp_micros(micros - micros.rem_euclid(HOUR)).unwrap_or(time)
}

/// Sales by hour in `store` over `plan`, all read from PostgreSQL (see
/// [`super::kept::hours`] for the kept months), in no set order.
pub async fn read_hours(db: &PgPool, store: &str, plan: &HourPlan) -> sqlx::Result<Vec<HourSales>> {
    // The whole hours and the partial hours at the ends are disjoint.
    let mut query = QueryBuilder::new(
        "select hour, sum(orders)::bigint as orders, sum(revenue) as revenue
         from analytics_hourly_sales where store_id = ",
    );
    query.push_bind(store.to_string());
    match plan.hours {
        Some(span) => {
            query.push(" and ");
            span.push(&mut query, "hour");
        }
        None => {
            query.push(" and false");
        }
    }
    query.push(format_args!(
        " group by hour {HOURS_WITH_SALES}
         union all
         select date_trunc('hour', created_at, 'UTC'), count(*), sum(total) from orders
         where analytics_sells(status, deleted_at is not null) and store_id = "
    ));
    query.push_bind(store.to_string());
    query.push(" and ");
    let edges = Plan {
        periods: Vec::new(),
        edges: plan.edges.iter().flatten().copied().collect(),
    };
    edges.push_edges(&mut query, "created_at");
    query.push(" group by 1");
    query.build_query_as().fetch_all(db).await
}

/// Sales by hour in each of the UTC `months` (by first day), from the
/// rollup alone, oldest first.
pub async fn read_months(
    db: &PgPool,
    store: &str,
    months: &[NaiveDate],
) -> sqlx::Result<Vec<HourSales>> {
    let los: Vec<DateTime<Utc>> = months.iter().map(|month| start_of(*month)).collect();
    let his: Vec<DateTime<Utc>> = months
        .iter()
        .map(|month| start_of(*month + Months::new(1)))
        .collect();
    let mut query = QueryBuilder::new(
        "select h.hour, sum(h.orders)::bigint as orders, sum(h.revenue) as revenue
         from unnest(",
    );
    query.push_bind(los).push("::timestamptz[], ");
    query.push_bind(his).push(
        "::timestamptz[]) as m(lo, hi)
              join analytics_hourly_sales h
                on h.hour >= m.lo and h.hour < m.hi and h.store_id = ",
    );
    query.push_bind(store.to_string());
    query.push(format_args!(
        " group by h.hour {HOURS_WITH_SALES} order by h.hour"
    ));
    query.build_query_as().fetch_all(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(text.parse().unwrap())
    }

    fn range(lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>) -> Resolved {
        Resolved {
            lo,
            hi,
            d0: None,
            d1: None,
            s0: None,
            s1: None,
        }
    }

    #[test]
    fn partial_hours_are_edges_and_whole_hours_are_rollups() {
        let plan = HourPlan::new(&range(
            at("2026-03-01T10:30:00Z"),
            at("2026-03-01T13:15:00Z"),
        ));
        assert_eq!(
            plan.hours,
            Some(Span {
                lo: at("2026-03-01T11:00:00Z"),
                hi: at("2026-03-01T13:00:00Z")
            })
        );
        assert_eq!(
            plan.edges[0],
            Some(Span {
                lo: at("2026-03-01T10:30:00Z"),
                hi: at("2026-03-01T11:00:00Z")
            })
        );
        assert_eq!(
            plan.edges[1],
            Some(Span {
                lo: at("2026-03-01T13:00:00Z"),
                hi: at("2026-03-01T13:15:00Z")
            })
        );
    }

    #[test]
    fn a_range_inside_one_hour_reads_only_orders() {
        let plan = HourPlan::new(&range(
            at("2026-03-01T10:30:00Z"),
            at("2026-03-01T10:45:00Z"),
        ));
        assert_eq!(plan.hours, None);
        assert_eq!(
            plan.edges[0],
            Some(Span {
                lo: at("2026-03-01T10:30:00Z"),
                hi: at("2026-03-01T10:45:00Z")
            })
        );
    }

    #[test]
    fn no_bounds_read_every_hour() {
        let plan = HourPlan::new(&range(None, None));
        assert_eq!(plan.hours, Some(Span { lo: None, hi: None }));
        assert_eq!(plan.edges, [None, None]);
    }
}
