//! How a resolved range is read: the fewest rollup rows plus exact order rows at
//! the edges.
//!
//! `[lo, hi)` splits into partial edge days (read from the order rows, exact to
//! the microsecond) and whole local days `[d0, d1)`. Whole days split again into
//! whole months (month rows); the days left over into whole 8-day blocks (block
//! rows, see [`Grain::Block`]) and single days (day rows). No bound at all
//! reads the single all-time row. So any range reads per key at most its
//! months, 6 block rows, 14 day rows and two partial days.
//!
//! A plan writes its own SQL conditions ([`Plan::push_periods`],
//! [`Plan::push_days`], [`Plan::push_edges`]) into a [`QueryBuilder`], each
//! bound value where it is used; pieces the plan does not need are left out.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::period::{Grain, Period};
use super::range::Resolved;

/// `[lo, hi)`; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<T> {
    pub lo: Option<T>,
    pub hi: Option<T>,
}

impl<T: PartialOrd> Span<T> {
    /// A bounded, non-empty span, if `lo < hi`.
    fn bounded(lo: Option<T>, hi: Option<T>) -> Option<Span<T>> {
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi => Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }),
            _ => None,
        }
    }
}

impl<T> Span<T> {
    /// `column >= lo and column < hi`, each bound only where there is one.
    pub(super) fn push(&self, query: &mut QueryBuilder<Postgres>, column: &str)
    where
        T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Copy,
    {
        query.push("true");
        if let Some(lo) = self.lo {
            query.push(format_args!(" and {column} >= ")).push_bind(lo);
        }
        if let Some(hi) = self.hi {
            query.push(format_args!(" and {column} < ")).push_bind(hi);
        }
    }
}

/// Which rollup rows and which order rows answer a range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Rollup rows: for each piece, the periods of a grain whose first days
    /// lie in a span (the all-time row's piece is unbounded).
    pub periods: Vec<(Grain, Span<NaiveDate>)>,
    /// Partial days, read from the orders (always bounded).
    pub edges: Vec<Span<DateTime<Utc>>>,
}

impl Plan {
    /// Splits a resolved range.
    pub fn new(range: &Resolved) -> Plan {
        let mut plan = Plan::default();
        if range.lo.is_none() && range.hi.is_none() {
            plan.periods.push((Grain::All, Span { lo: None, hi: None }));
            return plan;
        }
        if let (Some(d0), Some(d1)) = (range.d0, range.d1)
            && d0 >= d1
        {
            plan.edges.extend(Span::bounded(range.lo, range.hi));
            return plan;
        }
        plan.edges.extend(Span::bounded(range.lo, range.s0));
        plan.edges.extend(Span::bounded(range.s1, range.hi));
        let m0 = range.d0.map(|day| Grain::Month.start_at_or_after(day));
        let m1 = range.d1.map(|day| Grain::Month.start_of(day));
        let months_exist = match (m0, m1) {
            (Some(m0), Some(m1)) => m0 < m1,
            _ => true,
        };
        // Whole days outside whole months: one run without months, else one
        // before and one after them (either may be empty).
        let runs = if months_exist {
            plan.periods.push((Grain::Month, Span { lo: m0, hi: m1 }));
            [(range.d0, m0), (m1, range.d1)]
        } else {
            [(range.d0, range.d1), (None, None)]
        };
        for (lo, hi) in runs {
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let b0 = Grain::Block.start_at_or_after(lo);
            let b1 = Grain::Block.start_of(hi);
            if b0 < b1 {
                let days = [
                    Span::bounded(Some(lo), Some(b0)),
                    Span::bounded(Some(b1), Some(hi)),
                ];
                plan.periods
                    .extend(Span::bounded(Some(b0), Some(b1)).map(|s| (Grain::Block, s)));
                plan.periods
                    .extend(days.into_iter().flatten().map(|s| (Grain::Day, s)));
            } else {
                plan.periods
                    .extend(Span::bounded(Some(lo), Some(hi)).map(|s| (Grain::Day, s)));
            }
        }
        plan
    }

    /// Every rollup period the plan reads, or `None` when a piece other than
    /// the all-time row is unbounded (months without an end).
    pub fn every_period(&self) -> Option<Vec<Period>> {
        let mut periods = Vec::new();
        for (grain, span) in &self.periods {
            if *grain == Grain::All {
                periods.push(Period {
                    grain: Grain::All,
                    start: None,
                });
                continue;
            }
            let (Some(lo), Some(hi)) = (span.lo, span.hi) else {
                return None;
            };
            let mut start = lo;
            while start < hi {
                periods.push(Period {
                    grain: *grain,
                    start: Some(start),
                });
                start = grain.next_start(start);
            }
        }
        Some(periods)
    }

    /// The plan's partial days alone.
    pub fn edges_only(&self) -> Plan {
        Plan {
            periods: Vec::new(),
            edges: self.edges.clone(),
        }
    }

    /// The plan's rollup rows on a table with `grain` and `period` columns,
    /// as one condition (`false` when it reads none).
    pub fn push_periods(&self, query: &mut QueryBuilder<Postgres>) {
        query.push("(false");
        for (grain, span) in &self.periods {
            query.push(format_args!(" or (grain = '{}' and ", grain.as_str()));
            span.push(query, "period");
            query.push(")");
        }
        query.push(")");
    }

    /// The same rows on a table of day rows only (`day` column): every piece
    /// of the plan is a run of whole days.
    pub fn push_days(&self, query: &mut QueryBuilder<Postgres>) {
        query.push("(false");
        for (_, span) in &self.periods {
            query.push(" or (");
            span.push(query, "day");
            query.push(")");
        }
        query.push(")");
    }

    /// The order rows of the plan's partial days, by `column` (a creation time).
    pub fn push_edges(&self, query: &mut QueryBuilder<Postgres>, column: &str) {
        query.push("(false");
        for span in &self.edges {
            query.push(" or (");
            span.push(query, column);
            query.push(")");
        }
        query.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn time(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn dates(grain: Grain, lo: &str, hi: &str) -> (Grain, Span<NaiveDate>) {
        let span = Span {
            lo: Some(date(lo)),
            hi: Some(date(hi)),
        };
        (grain, span)
    }

    #[test]
    fn no_bounds_read_the_all_time_row() {
        let plan = Plan::new(&Resolved {
            lo: None,
            hi: None,
            d0: None,
            d1: None,
            s0: None,
            s1: None,
        });
        assert_eq!(plan.periods, [(Grain::All, Span { lo: None, hi: None })]);
        assert_eq!(plan.edges, []);
        let all = Period {
            grain: Grain::All,
            start: None,
        };
        assert_eq!(plan.every_period(), Some(vec![all]));
    }

    /// 10:00 on 15 January to 05:00 on 3 April 2026 (UTC days).
    fn long_range() -> Plan {
        Plan::new(&Resolved {
            lo: Some(time("2026-01-15T10:00:00Z")),
            hi: Some(time("2026-04-03T05:00:00Z")),
            d0: Some(date("2026-01-16")),
            d1: Some(date("2026-04-03")),
            s0: Some(time("2026-01-16T00:00:00Z")),
            s1: Some(time("2026-04-03T00:00:00Z")),
        })
    }

    #[test]
    fn a_long_range_is_edges_days_blocks_months_days_edges() {
        let plan = long_range();
        assert_eq!(
            plan.periods,
            [
                dates(Grain::Month, "2026-02-01", "2026-04-01"),
                dates(Grain::Block, "2026-01-17", "2026-02-01"),
                dates(Grain::Day, "2026-01-16", "2026-01-17"),
                dates(Grain::Day, "2026-04-01", "2026-04-03"),
            ]
        );
        assert_eq!(plan.edges[0].hi, Some(time("2026-01-16T00:00:00Z")));
        assert_eq!(plan.edges[1].lo, Some(time("2026-04-03T00:00:00Z")));
        let periods = plan.every_period().unwrap();
        assert_eq!(periods.len(), 2 + 2 + 1 + 2);
        assert_eq!(
            periods[2],
            Period {
                grain: Grain::Block,
                start: Some(date("2026-01-17"))
            }
        );
    }

    #[test]
    fn thirty_days_across_a_month_end_read_blocks_between_days() {
        let plan = Plan::new(&Resolved {
            lo: Some(time("2026-10-23T22:00:00Z")),
            hi: Some(time("2026-11-22T23:00:00Z")),
            d0: Some(date("2026-10-24")),
            d1: Some(date("2026-11-23")),
            s0: Some(time("2026-10-23T22:00:00Z")),
            s1: Some(time("2026-11-22T23:00:00Z")),
        });
        assert_eq!(
            plan.periods,
            [
                dates(Grain::Block, "2026-10-25", "2026-11-17"),
                dates(Grain::Day, "2026-10-24", "2026-10-25"),
                dates(Grain::Day, "2026-11-17", "2026-11-23"),
            ]
        );
        assert_eq!(plan.edges, []);
    }

    #[test]
    fn a_range_inside_one_day_reads_only_orders() {
        let lo = time("2026-01-15T10:00:00Z");
        let hi = time("2026-01-15T12:00:00Z");
        let plan = Plan::new(&Resolved {
            lo: Some(lo),
            hi: Some(hi),
            d0: Some(date("2026-01-16")),
            d1: Some(date("2026-01-15")),
            s0: None,
            s1: None,
        });
        let edge = Span {
            lo: Some(lo),
            hi: Some(hi),
        };
        assert_eq!(plan.edges, [edge]);
        assert_eq!(plan.periods, []);
    }

    #[test]
    fn an_open_end_reads_months_to_infinity() {
        let plan = Plan::new(&Resolved {
            lo: Some(time("2026-01-01T00:00:00Z")),
            hi: None,
            d0: Some(date("2026-01-01")),
            d1: None,
            s0: Some(time("2026-01-01T00:00:00Z")),
            s1: None,
        });
        let months = Span {
            lo: Some(date("2026-01-01")),
            hi: None,
        };
        assert_eq!(plan.periods, [(Grain::Month, months)]);
        assert_eq!(plan.edges, []);
        assert_eq!(plan.every_period(), None);
    }

    #[test]
    fn a_plan_writes_only_the_pieces_it_has() {
        let mut query = QueryBuilder::<Postgres>::new("");
        long_range().push_periods(&mut query);
        let sql = query.sql();
        let sql = sql.as_str();
        assert!(sql.contains("grain = 'month' and true and period >= $1 and period < $2"));
        assert_eq!(sql.matches("grain = 'day'").count(), 2);
        let mut query = QueryBuilder::<Postgres>::new("");
        Plan::default().push_edges(&mut query, "o.created_at");
        assert_eq!(query.sql().as_str(), "(false)");
    }
}
