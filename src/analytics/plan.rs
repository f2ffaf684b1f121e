//! How a resolved range is read: the fewest rollup rows plus exact order rows at
//! the edges.
//!
//! `[lo, hi)` splits into partial edge days (read from the order rows, exact to
//! the microsecond) and whole local days `[d0, d1)`. Whole days split again into
//! whole months (month rows) and the days before the first and after the last
//! whole month (day rows). No bound at all reads the single all-time row. So
//! a year is at most 12 month rows, 60 day rows and two partial days per key.
//!
//! Every query binds the same parameters (`$1` the store, `$2..$13` below), and
//! selects rows with [`periods!`] and [`edges!`]; an unused piece is an empty
//! span, so the SQL text never changes and its plan is cached.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;

use super::range::Resolved;

/// `[lo, hi)`; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<T> {
    pub lo: Option<T>,
    pub hi: Option<T>,
}

/// Which rollup rows and which order rows answer a range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The all-time row (only when the range is unbounded both ways).
    pub all: Option<Span<NaiveDate>>,
    /// Whole months, by first day.
    pub months: Option<Span<NaiveDate>>,
    /// Whole days outside those months (always bounded).
    pub days: [Option<Span<NaiveDate>>; 2],
    /// Partial days, read from the orders (always bounded).
    pub edges: [Option<Span<DateTime<Utc>>>; 2],
}

/// The rollup rows of a plan, on a table with `grain` and `period` columns
/// (`$2..$9`).
macro_rules! periods {
    () => {
        "((grain = 'all' and period >= coalesce($2, '-infinity'::date) and period < coalesce($3, 'infinity'::date))
          or (grain = 'month' and period >= coalesce($4, '-infinity'::date) and period < coalesce($5, 'infinity'::date))
          or (grain = 'day' and period >= $6 and period < $7)
          or (grain = 'day' and period >= $8 and period < $9))"
    };
}

/// The order rows of a plan's partial days (`$10..$13`), on `$column`.
macro_rules! edges {
    ($column:literal) => {
        concat!(
            "((",
            $column,
            " >= $10 and ",
            $column,
            " < $11) or (",
            $column,
            " >= $12 and ",
            $column,
            " < $13))"
        )
    };
}

/// A day that selects nothing when used as both ends of an unused span.
const NOWHERE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");

impl Plan {
    /// Splits a resolved range.
    pub fn new(range: &Resolved) -> Plan {
        if range.lo.is_none() && range.hi.is_none() {
            return Plan {
                all: Some(Span { lo: None, hi: None }),
                ..Plan::default()
            };
        }
        if let (Some(d0), Some(d1)) = (range.d0, range.d1)
            && d0 >= d1
        {
            return Plan {
                edges: [
                    Some(Span {
                        lo: range.lo,
                        hi: range.hi,
                    }),
                    None,
                ],
                ..Plan::default()
            };
        }
        let edge = |lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>| match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi => Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }),
            _ => None,
        };
        let edges = [edge(range.lo, range.s0), edge(range.s1, range.hi)];
        let m0 = range.d0.map(month_at_or_after);
        let m1 = range.d1.map(month_at_or_before);
        let days = |lo: Option<NaiveDate>, hi: Option<NaiveDate>| match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi => Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }),
            _ => None,
        };
        let months_exist = match (m0, m1) {
            (Some(m0), Some(m1)) => m0 < m1,
            _ => true,
        };
        if months_exist {
            Plan {
                all: None,
                months: Some(Span { lo: m0, hi: m1 }),
                days: [days(range.d0, m0), days(m1, range.d1)],
                edges,
            }
        } else {
            Plan {
                all: None,
                months: None,
                days: [days(range.d0, range.d1), None],
                edges,
            }
        }
    }

    /// Binds `$2..$13` after the store (`$1`) has been bound.
    pub fn bind<'q, O>(
        &self,
        query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        let dates = |span: Option<Span<NaiveDate>>| match span {
            Some(span) => (span.lo, span.hi),
            None => (Some(NOWHERE), Some(NOWHERE)),
        };
        let times = |span: Option<Span<DateTime<Utc>>>| match span {
            Some(span) => (span.lo, span.hi),
            None => (Some(DateTime::UNIX_EPOCH), Some(DateTime::UNIX_EPOCH)),
        };
        let mut query = query;
        for (lo, hi) in [
            dates(self.all),
            dates(self.months),
            dates(self.days[0]),
            dates(self.days[1]),
        ] {
            query = query.bind(lo).bind(hi);
        }
        for (lo, hi) in [times(self.edges[0]), times(self.edges[1])] {
            query = query.bind(lo).bind(hi);
        }
        query
    }
}

/// The first day of `day`'s month if `day` is one, else of the next month.
fn month_at_or_after(day: NaiveDate) -> NaiveDate {
    let start = month_at_or_before(day);
    if start == day {
        day
    } else {
        start.checked_add_months(Months::new(1)).unwrap_or(start)
    }
}

/// The first day of `day`'s month.
fn month_at_or_before(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
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
        assert_eq!(plan.all, Some(Span { lo: None, hi: None }));
        assert_eq!(
            (plan.months, plan.days, plan.edges),
            (None, [None, None], [None, None])
        );
    }

    #[test]
    fn a_long_range_is_edges_days_months_days_edges() {
        let plan = Plan::new(&Resolved {
            lo: Some(time("2026-01-15T10:00:00Z")),
            hi: Some(time("2026-04-03T05:00:00Z")),
            d0: Some(date("2026-01-16")),
            d1: Some(date("2026-04-03")),
            s0: Some(time("2026-01-16T00:00:00Z")),
            s1: Some(time("2026-04-03T00:00:00Z")),
        });
        assert_eq!(
            plan.months,
            Some(Span {
                lo: Some(date("2026-02-01")),
                hi: Some(date("2026-04-01"))
            })
        );
        assert_eq!(
            plan.days[0],
            Some(Span {
                lo: Some(date("2026-01-16")),
                hi: Some(date("2026-02-01"))
            })
        );
        assert_eq!(
            plan.days[1],
            Some(Span {
                lo: Some(date("2026-04-01")),
                hi: Some(date("2026-04-03"))
            })
        );
        assert_eq!(
            plan.edges[0].unwrap().hi,
            Some(time("2026-01-16T00:00:00Z"))
        );
        assert_eq!(
            plan.edges[1].unwrap().lo,
            Some(time("2026-04-03T00:00:00Z"))
        );
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
        assert_eq!(
            plan.edges,
            [
                Some(Span {
                    lo: Some(lo),
                    hi: Some(hi)
                }),
                None
            ]
        );
        assert_eq!(plan.months, None);
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
        assert_eq!(
            plan.months,
            Some(Span {
                lo: Some(date("2026-01-01")),
                hi: None
            })
        );
        assert_eq!((plan.days, plan.edges), ([None, None], [None, None]));
    }
}
