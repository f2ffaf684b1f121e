//! Hourly sales with the hours of closed UTC months kept in memory, rendered.
//!
//! Hourly sales over a year are ~8 760 rollup rows; reading, decoding and
//! writing them as JSON takes longer than the whole answer may. A UTC month
//! that ended at least two days ago gets no new orders, and changes only when
//! one of its orders is cancelled or deleted, which bumps the month's
//! `utc_month` version in the same transaction (migration 0010). So its hours
//! are kept here, already written as the JSON elements of the answer, at the
//! version (and rollup epoch) they were read at; each request reads the
//! versions, the hours of the months still open and the partial hours at the
//! range's ends, and copies the kept months' elements that lie in the range.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;

use super::hourly::{self, HourPlan, HourSales, start_of};
use super::kept::KeptPeriods;
use super::plan::Span;

/// One closed month's hours with sales, as JSON array elements.
pub struct RenderedMonth {
    /// The hours, oldest first.
    hours: Vec<DateTime<Utc>>,
    /// Each hour's `{"hour":…,"orders":…,"revenue":…}` followed by a comma.
    json: String,
    /// Where each hour's element starts in `json`, and its length at the end.
    starts: Vec<usize>,
}

impl RenderedMonth {
    fn new(sales: &[HourSales]) -> RenderedMonth {
        let mut json = String::new();
        let mut starts = Vec::with_capacity(sales.len() + 1);
        for hour in sales {
            starts.push(json.len());
            push_element(&mut json, hour);
        }
        starts.push(json.len());
        RenderedMonth {
            hours: sales.iter().map(|sales| sales.hour).collect(),
            json,
            starts,
        }
    }

    /// The elements of the hours in `[lo, hi)`.
    fn elements(&self, lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>) -> &str {
        let first = lo.map_or(0, |lo| self.hours.partition_point(|hour| *hour < lo));
        let last = hi.map_or(self.hours.len(), |hi| {
            self.hours.partition_point(|hour| *hour < hi)
        });
        if first >= last {
            return "";
        }
        &self.json[self.starts[first]..self.starts[last]]
    }
}

/// Appends `sales` as a JSON object and a comma.
fn push_element(json: &mut String, sales: &HourSales) {
    // Writing a plain struct of numbers and strings to a String cannot fail.
    if let Ok(element) = serde_json::to_string(sales) {
        json.push_str(&element);
        json.push(',');
    }
}

/// The kept hours of closed UTC months, by month.
pub type ClosedHours = KeptPeriods<RenderedMonth>;

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

/// Sales by hour in `store` over `plan`, oldest first, as the JSON of
/// [`hourly::HourlySales`]: the closed months' hours from `kept` where they
/// are at their current version, the rest from PostgreSQL.
pub async fn hourly_sales(
    db: &PgPool,
    kept: &ClosedHours,
    store: &str,
    plan: &HourPlan,
) -> sqlx::Result<String> {
    let Some(hours) = plan.hours else {
        return Ok(rendered(
            &[],
            hourly::read_hours(db, store, plan).await?,
            None,
        ));
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
    let months = first_hour.map_or_else(Vec::new, |first| closed_months(hours, first, now));
    let Some(last) = months.last() else {
        return Ok(rendered(
            &[],
            hourly::read_hours(db, store, plan).await?,
            None,
        ));
    };
    let versions: HashMap<NaiveDate, i64> = periods.into_iter().zip(versions).collect();
    let version = |month: &NaiveDate| versions.get(month).copied().unwrap_or(0);
    let key = |month: NaiveDate| (store.to_string(), GRAIN, month);

    let mut by_month: HashMap<NaiveDate, Arc<RenderedMonth>> = HashMap::new();
    let mut missing = Vec::new();
    for month in &months {
        match kept.get(&key(*month), epoch, version(month)) {
            Some(rendered) => {
                by_month.insert(*month, rendered);
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
        for (month, sales) in read {
            let rendered = Arc::new(RenderedMonth::new(&sales));
            kept.keep(key(month), epoch, version(&month), rendered.clone());
            by_month.insert(month, rendered);
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
    let elements: Vec<&str> = months
        .iter()
        .filter_map(|month| by_month.get(month))
        .map(|month| month.elements(hours.lo, hours.hi))
        .collect();
    let rest = if open.hours.is_some() || open.edges.iter().any(Option::is_some) {
        hourly::read_hours(db, store, &open).await?
    } else {
        Vec::new()
    };
    Ok(rendered(&elements, rest, hours.lo))
}

/// `{"data":[…]}` of `rest` (read from PostgreSQL, in no set order) with the
/// kept `elements` of the whole hours from `whole_from` on in their place:
/// only the partial hour before `whole_from` comes before them.
fn rendered(
    elements: &[&str],
    mut rest: Vec<HourSales>,
    whole_from: Option<DateTime<Utc>>,
) -> String {
    rest.sort_by_key(|sales| sales.hour);
    let before = rest.partition_point(|sales| whole_from.is_some_and(|lo| sales.hour < lo));
    let length: usize = elements.iter().map(|part| part.len()).sum();
    let mut json = String::with_capacity(length + 64 * rest.len() + 16);
    json.push_str("{\"data\":[");
    for sales in &rest[..before] {
        push_element(&mut json, sales);
    }
    for part in elements {
        json.push_str(part);
    }
    for sales in &rest[before..] {
        push_element(&mut json, sales);
    }
    if json.ends_with(',') {
        json.pop();
    }
    json.push_str("]}");
    json
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

    fn sales(hour: &str, orders: i64) -> HourSales {
        HourSales {
            hour: at(hour),
            orders,
            revenue: crate::domain::Money::parse("1.50").unwrap(),
        }
    }

    #[test]
    fn a_kept_month_hands_out_the_elements_of_the_hours_in_range() {
        let month = RenderedMonth::new(&[
            sales("2026-01-01T00:00:00Z", 1),
            sales("2026-01-01T05:00:00Z", 2),
            sales("2026-01-31T23:00:00Z", 3),
        ]);
        let parsed = |elements: &str| -> Vec<serde_json::Value> {
            serde_json::from_str(&format!("[{}]", elements.trim_end_matches(','))).unwrap()
        };
        assert_eq!(parsed(month.elements(None, None)).len(), 3);
        let middle = parsed(month.elements(
            Some(at("2026-01-01T01:00:00Z")),
            Some(at("2026-01-31T23:00:00Z")),
        ));
        assert_eq!(
            middle,
            vec![
                serde_json::json!({"hour": "2026-01-01T05:00:00Z", "orders": 2, "revenue": "1.50"})
            ]
        );
        assert_eq!(month.elements(Some(at("2026-02-01T00:00:00Z")), None), "");
    }

    #[test]
    fn the_partial_hour_before_the_kept_months_comes_first_and_the_rest_after() {
        let month = RenderedMonth::new(&[sales("2026-01-05T10:00:00Z", 2)]);
        let rest = vec![
            sales("2026-03-01T00:00:00Z", 4),
            sales("2026-01-05T09:00:00Z", 1),
            sales("2026-02-10T00:00:00Z", 3),
        ];
        let json = rendered(
            &[month.elements(None, None)],
            rest,
            Some(at("2026-01-05T10:00:00Z")),
        );
        let answer: serde_json::Value = serde_json::from_str(&json).unwrap();
        let orders: Vec<i64> = answer["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hour| hour["orders"].as_i64().unwrap())
            .collect();
        assert_eq!(orders, vec![1, 2, 3, 4]);
        assert_eq!(rendered(&[], Vec::new(), None), r#"{"data":[]}"#);
    }
}
