//! Hourly sales with the hours of closed UTC months kept in memory.
//!
//! Hourly sales over a year are ~8 760 rollup rows; reading and decoding them
//! takes longer than the whole answer may. A UTC month that ended at least two
//! days ago gets no new orders, and changes only when one of its orders is
//! cancelled or deleted, which bumps the month's `utc_month` version in the
//! same transaction (migration 0010). So its hours are kept here at the
//! version (and rollup epoch) they were read at, and each request reads the
//! versions, the hours of the months still open and the partial hours at the
//! range's ends.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use sqlx::PgPool;

use super::hourly::{self, HourPlan, HourSales, HourlySales};
use super::kept::KeptPeriods;
use super::plan::Span;

/// The kept hours of closed UTC months, by month.
pub type ClosedHours = KeptPeriods<Vec<HourSales>>;

/// The version grain of a UTC month of hourly sales.
const GRAIN: &str = "utc_month";

/// How long after its end a month is taken as closed: longer than any write
/// transaction stays open, and than a local day is ahead of UTC.
const SETTLED: TimeDelta = TimeDelta::days(2);

/// The database's clock, the rollup epoch, the store's first rollup hour and
/// the versions of its UTC months that have one.
type Versions = (
    DateTime<Utc>,
    i64,
    Option<DateTime<Utc>>,
    Vec<NaiveDate>,
    Vec<i64>,
);

/// Sales by hour in `store` over `plan`, oldest first: the closed months'
/// hours from `kept` where they are at their current version, the rest from
/// PostgreSQL.
pub async fn hourly_sales(
    db: &PgPool,
    kept: &ClosedHours,
    store: &str,
    plan: &HourPlan,
) -> sqlx::Result<HourlySales> {
    let Some(hours) = plan.hours else {
        return Ok(in_order(hourly::read_hours(db, store, plan).await?));
    };
    let (now, epoch, first_hour, periods, versions): Versions = sqlx::query_as(
        "select now(), e.epoch,
                (select min(hour) from analytics_hourly_sales where store_id = $1),
                coalesce(v.periods, '{}'), coalesce(v.versions, '{}')
         from analytics_rollup_epoch e cross join lateral (
            select array_agg(period) as periods, array_agg(version) as versions
            from analytics_period_versions where store_id = $1 and grain = 'utc_month'
         ) v",
    )
    .bind(store)
    .fetch_one(db)
    .await?;
    let Some(first_hour) = first_hour else {
        return Ok(in_order(hourly::read_hours(db, store, plan).await?));
    };
    let months = closed_months(hours, first_hour, now);
    let Some(last) = months.last() else {
        return Ok(in_order(hourly::read_hours(db, store, plan).await?));
    };
    let versions: HashMap<NaiveDate, i64> = periods.into_iter().zip(versions).collect();
    let version = |month: &NaiveDate| versions.get(month).copied().unwrap_or(0);
    let key = |month: NaiveDate| (store.to_string(), GRAIN, month);

    let mut by_month: HashMap<NaiveDate, Arc<Vec<HourSales>>> = HashMap::new();
    let mut missing = Vec::new();
    for month in &months {
        match kept.get(&key(*month), epoch, version(month)) {
            Some(figures) => {
                by_month.insert(*month, figures);
            }
            None => missing.push(*month),
        }
    }
    if !missing.is_empty() {
        let mut read: HashMap<NaiveDate, Vec<HourSales>> =
            missing.iter().map(|month| (*month, Vec::new())).collect();
        for sales in hourly::read_months(db, store, &missing).await? {
            if let Some(hours) = read.get_mut(&month_of(sales.hour)) {
                hours.push(sales);
            }
        }
        for (month, figures) in read {
            let figures = Arc::new(figures);
            kept.keep(key(month), epoch, version(&month), figures.clone());
            by_month.insert(month, figures);
        }
    }

    let open_lo = start_of(*last + Months::new(1));
    let open = HourPlan {
        hours: match hours.hi {
            Some(hi) if hi <= open_lo => None,
            hi => Some(Span {
                lo: Some(hours.lo.map_or(open_lo, |lo| lo.max(open_lo))),
                hi,
            }),
        },
        edges: plan.edges,
    };
    let inside = |hour: DateTime<Utc>| {
        hours.lo.is_none_or(|lo| hour >= lo) && hours.hi.is_none_or(|hi| hour < hi)
    };
    let mut data: Vec<HourSales> = months
        .iter()
        .filter_map(|month| by_month.get(month))
        .flat_map(|figures| figures.iter().filter(|sales| inside(sales.hour)).cloned())
        .collect();
    if open.hours.is_some() || open.edges.iter().any(Option::is_some) {
        data.extend(hourly::read_hours(db, store, &open).await?);
    }
    Ok(in_order(data))
}

/// The closed UTC months (by first day) that overlap `hours`, from the month
/// of the store's first rollup hour on.
fn closed_months(
    hours: Span<DateTime<Utc>>,
    first_hour: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<NaiveDate> {
    let lo = hours.lo.map_or(first_hour, |lo| lo.max(first_hour));
    let mut months = Vec::new();
    let mut month = month_of(lo);
    loop {
        let end = start_of(month + Months::new(1));
        if end > now - SETTLED || hours.hi.is_some_and(|hi| start_of(month) >= hi) {
            return months;
        }
        months.push(month);
        month = month + Months::new(1);
    }
}

/// The first day of the UTC month of `time`.
fn month_of(time: DateTime<Utc>) -> NaiveDate {
    time.date_naive().with_day(1).unwrap_or(NaiveDate::MIN)
}

/// Midnight UTC at the start of `day`.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Hours oldest first (the parts are each in order, or nearly).
fn in_order(mut data: Vec<HourSales>) -> HourlySales {
    data.sort_by_key(|sales| sales.hour);
    HourlySales { data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn month(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn months_count_as_closed_two_days_after_their_end() {
        let hours = Span {
            lo: Some(at("2026-01-15T00:00:00Z")),
            hi: None,
        };
        let first = at("2025-06-01T00:00:00Z");
        assert_eq!(
            closed_months(hours, first, at("2026-04-02T23:00:00Z")),
            vec![month("2026-01-01"), month("2026-02-01")]
        );
        assert_eq!(
            closed_months(hours, first, at("2026-04-03T00:00:00Z")),
            vec![
                month("2026-01-01"),
                month("2026-02-01"),
                month("2026-03-01")
            ]
        );
    }

    #[test]
    fn months_start_at_the_first_sale_and_stop_at_the_range_end() {
        let hours = Span {
            lo: None,
            hi: Some(at("2026-03-01T00:00:00Z")),
        };
        assert_eq!(
            closed_months(
                hours,
                at("2025-12-31T23:00:00Z"),
                at("2026-11-01T00:00:00Z")
            ),
            vec![
                month("2025-12-01"),
                month("2026-01-01"),
                month("2026-02-01")
            ]
        );
    }
}
