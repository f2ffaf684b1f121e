//! Hourly sales with each UTC month's hours kept in memory, rendered (see
//! [`super`] for when a kept month is used).
//!
//! Hourly sales over a year are ~8 760 rollup rows; reading, decoding and
//! writing them as JSON takes longer than the whole answer may. So a month's
//! hours are kept already written as the JSON elements of the answer; each
//! request reads the stamps of the months in its range, the months whose
//! stamp moved and the partial hours at the range's ends, and copies the
//! kept months' elements that lie in the range.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgPool;

use super::Kept;
use crate::analytics::hourly::{self, HourPlan, HourSales};
use crate::analytics::period::{Grain, Period};
use crate::analytics::plan::Span;

/// One UTC month's hours with sales, as JSON array elements.
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

/// Each UTC month's hours with sales, by month.
pub type KeptHours = Kept<RenderedMonth>;

/// Sales by hour in `store` over `plan`, oldest first, as the JSON of
/// [`hourly::HourlySales`]: the whole hours month by month, from `kept` where
/// a month's stamp has not moved, the partial hours from the orders.
pub async fn hourly_sales(
    db: &PgPool,
    kept: &KeptHours,
    store: &str,
    plan: &HourPlan,
) -> sqlx::Result<String> {
    let edges = HourPlan {
        hours: None,
        edges: plan.edges,
    };
    let rest = if plan.edges.iter().any(Option::is_some) {
        hourly::read_hours(db, store, &edges).await?
    } else {
        Vec::new()
    };
    let Some(hours) = plan.hours else {
        return Ok(rendered(&[], rest, None));
    };
    // The months that overlap the whole hours (one more at the end when the
    // hours end on a month's first midnight: it adds nothing).
    let months = Span {
        lo: hours.lo.map(|lo| Grain::UtcMonth.start_of(lo.date_naive())),
        hi: hours.hi.map(|hi| hi.date_naive() + Days::new(1)),
    };
    let mut stamps: Vec<(Period, i64)> = super::stamps_in(db, store, Grain::UtcMonth, months)
        .await?
        .into_iter()
        .collect();
    stamps.sort_unstable();
    let mut by_month: HashMap<Period, Arc<RenderedMonth>> = HashMap::new();
    let mut missing = Vec::new();
    for (month, stamp) in &stamps {
        match kept.get(store, *month, *stamp) {
            Some(rendered) => {
                by_month.insert(*month, rendered);
            }
            None => missing.extend(month.start),
        }
    }
    if !missing.is_empty() {
        let mut read: HashMap<Period, Vec<HourSales>> = missing
            .iter()
            .map(|month| (utc_month(*month), Vec::new()))
            .collect();
        for sales in hourly::read_months(db, store, &missing).await? {
            if let Some(hours) = read.get_mut(&Period::utc_month_of(sales.hour)) {
                hours.push(sales);
            }
        }
        let stamp_of: HashMap<Period, i64> = stamps.iter().copied().collect();
        for (month, sales) in read {
            let rendered = Arc::new(RenderedMonth::new(&sales));
            kept.keep(store, month, stamp_of[&month], rendered.clone());
            by_month.insert(month, rendered);
        }
    }
    let elements: Vec<&str> = stamps
        .iter()
        .filter_map(|(month, _)| by_month.get(month))
        .map(|month| month.elements(hours.lo, hours.hi))
        .collect();
    Ok(rendered(&elements, rest, hours.lo))
}

fn utc_month(start: NaiveDate) -> Period {
    Period {
        grain: Grain::UtcMonth,
        start: Some(start),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
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
