//! How a resolved range is read: the fewest rollup rows plus exact order rows at
//! the edges.
//!
//! `[lo, hi)` splits into partial edge days (read from the order rows, exact to
//! the microsecond) and whole local days `[d0, d1)`. Whole days split again into
//! whole months (month rows); the days left over into whole 8-day blocks (days
//! 1-8, 9-16, 17-24, 25-end of a month: block rows) and single days (day
//! rows). No bound at all reads the single all-time row. So any range reads per
//! key at most its months, 6 block rows, 14 day rows and two partial days.
//!
//! Every query binds the same parameters (`$1` the store, `$2..$17` below), and
//! selects rows with [`periods!`] and [`edges!`]; an unused piece is an empty
//! span, so the SQL text never changes and its plan is cached.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
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
    /// Whole blocks outside those months, by first day (always bounded).
    pub blocks: [Option<Span<NaiveDate>>; 2],
    /// Whole days outside those blocks (always bounded).
    pub days: [Option<Span<NaiveDate>>; 2],
    /// Partial days, read from the orders (always bounded).
    pub edges: [Option<Span<DateTime<Utc>>>; 2],
}

/// The rollup rows of a plan, on a table with `grain` and `period` columns
/// (`$2..$13`).
macro_rules! periods {
    () => {
        "((grain = 'all' and period >= coalesce($2, '-infinity'::date) and period < coalesce($3, 'infinity'::date))
          or (grain = 'month' and period >= coalesce($4, '-infinity'::date) and period < coalesce($5, 'infinity'::date))
          or (grain = 'block' and period >= $6 and period < $7)
          or (grain = 'block' and period >= $8 and period < $9)
          or (grain = 'day' and period >= $10 and period < $11)
          or (grain = 'day' and period >= $12 and period < $13))"
    };
}

/// The same rows on a table of day rows only (`day` column): every piece of the
/// plan as a range of days.
macro_rules! period_days {
    () => {
        "((day >= coalesce($2, '-infinity'::date) and day < coalesce($3, 'infinity'::date))
          or (day >= coalesce($4, '-infinity'::date) and day < coalesce($5, 'infinity'::date))
          or (day >= $6 and day < $7) or (day >= $8 and day < $9)
          or (day >= $10 and day < $11) or (day >= $12 and day < $13))"
    };
}

/// The order rows of a plan's partial days (`$14..$17`), on `$column`.
macro_rules! edges {
    ($column:literal) => {
        concat!(
            "((",
            $column,
            " >= $14 and ",
            $column,
            " < $15) or (",
            $column,
            " >= $16 and ",
            $column,
            " < $17))"
        )
    };
}

/// A rollup period of a `day`, `block` or `month` grain: the grain and the
/// period's first day.
pub type Period = (&'static str, NaiveDate);

/// A day that selects nothing when used as both ends of an unused span.
const NOWHERE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");

/// A bounded, non-empty span, if `lo < hi`.
fn span<T: PartialOrd>(lo: Option<T>, hi: Option<T>) -> Option<Span<T>> {
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo < hi => Some(Span {
            lo: Some(lo),
            hi: Some(hi),
        }),
        _ => None,
    }
}

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
                edges: [span(range.lo, range.hi), None],
                ..Plan::default()
            };
        }
        let mut plan = Plan {
            edges: [span(range.lo, range.s0), span(range.s1, range.hi)],
            ..Plan::default()
        };
        let m0 = range.d0.map(month_at_or_after);
        let m1 = range.d1.map(month_at_or_before);
        let months_exist = match (m0, m1) {
            (Some(m0), Some(m1)) => m0 < m1,
            _ => true,
        };
        // Whole days outside whole months: one run without months, else one
        // before and one after them (either may be empty).
        let runs = if months_exist {
            plan.months = Some(Span { lo: m0, hi: m1 });
            [(range.d0, m0), (m1, range.d1)]
        } else {
            [(range.d0, range.d1), (None, None)]
        };
        let mut days = Vec::new();
        for (slot, (lo, hi)) in runs.into_iter().enumerate() {
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let b0 = block_at_or_after(lo);
            let b1 = block_at_or_before(hi);
            if b0 < b1 {
                plan.blocks[slot] = span(Some(b0), Some(b1));
                days.extend([span(Some(lo), Some(b0)), span(Some(b1), Some(hi))]);
            } else {
                days.push(span(Some(lo), Some(hi)));
            }
        }
        // Month and block ends are block starts, so at most two runs of days
        // remain: before the first block and after the last.
        let days: Vec<Span<NaiveDate>> = days.into_iter().flatten().collect();
        debug_assert!(days.len() <= 2, "{days:?}");
        for (slot, run) in days.into_iter().take(2).enumerate() {
            plan.days[slot] = Some(run);
        }
        plan
    }

    /// Binds `$2..$17` after the store (`$1`) has been bound.
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
            dates(self.blocks[0]),
            dates(self.blocks[1]),
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

impl Plan {
    /// Splits off the day, block and month periods that end on or before
    /// `closed_before` (their figures can be kept, see [`super::closed`]), and
    /// returns them with the plan of the rest. `None` when the plan reads the
    /// all-time row or an unbounded run of months, which never close.
    pub fn split_closed(&self, closed_before: NaiveDate) -> Option<(Vec<Period>, Plan)> {
        if self.all.is_some() {
            return None;
        }
        let mut closed = Vec::new();
        let mut rest = Plan {
            edges: self.edges,
            ..Plan::default()
        };
        if let Some(months) = self.months {
            let (Some(lo), Some(hi)) = (months.lo, months.hi) else {
                return None;
            };
            rest.months = split_span("month", lo, hi, closed_before, &mut closed);
        }
        for slot in 0..2 {
            if let Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }) = self.blocks[slot]
            {
                rest.blocks[slot] = split_span("block", lo, hi, closed_before, &mut closed);
            }
            if let Some(Span {
                lo: Some(lo),
                hi: Some(hi),
            }) = self.days[slot]
            {
                rest.days[slot] = split_span("day", lo, hi, closed_before, &mut closed);
            }
        }
        Some((closed, rest))
    }
}

/// The periods of `grain` in `[lo, hi)` that end on or before `closed_before`
/// go to `closed`; the span of the others (always the later ones) is returned.
fn split_span(
    grain: &'static str,
    lo: NaiveDate,
    hi: NaiveDate,
    closed_before: NaiveDate,
    closed: &mut Vec<Period>,
) -> Option<Span<NaiveDate>> {
    let mut start = lo;
    while start < hi {
        let next = start + Days::new(1);
        let end = match grain {
            "day" => next,
            "block" => block_at_or_after(next),
            _ => month_at_or_after(next),
        };
        if end > closed_before {
            return span(Some(start), Some(hi));
        }
        closed.push((grain, start));
        start = end;
    }
    None
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

/// The first day of the 8-day block `day` is in (the 25th's runs to month end;
/// the same rule as the SQL `day - (extract(day from day) - 1) % 8`).
fn block_at_or_before(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.day0() % 8))
}

/// `day` if a block starts on it, else the start of the next block.
fn block_at_or_after(day: NaiveDate) -> NaiveDate {
    let start = block_at_or_before(day);
    if start == day {
        day
    } else if start.day() == 25 {
        month_at_or_after(day)
    } else {
        start + Days::new(8)
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

    fn dates(lo: &str, hi: &str) -> Option<Span<NaiveDate>> {
        Some(Span {
            lo: Some(date(lo)),
            hi: Some(date(hi)),
        })
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
        assert_eq!(plan.months, dates("2026-02-01", "2026-04-01"));
        assert_eq!(plan.blocks, [dates("2026-01-17", "2026-02-01"), None]);
        assert_eq!(
            plan.days,
            [
                dates("2026-01-16", "2026-01-17"),
                dates("2026-04-01", "2026-04-03")
            ]
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
    fn thirty_days_across_a_month_end_read_blocks_between_days() {
        let plan = Plan::new(&Resolved {
            lo: Some(time("2026-10-23T22:00:00Z")),
            hi: Some(time("2026-11-22T23:00:00Z")),
            d0: Some(date("2026-10-24")),
            d1: Some(date("2026-11-23")),
            s0: Some(time("2026-10-23T22:00:00Z")),
            s1: Some(time("2026-11-22T23:00:00Z")),
        });
        assert_eq!(plan.months, None);
        assert_eq!(plan.blocks, [dates("2026-10-25", "2026-11-17"), None]);
        assert_eq!(
            plan.days,
            [
                dates("2026-10-24", "2026-10-25"),
                dates("2026-11-17", "2026-11-23")
            ]
        );
        assert_eq!(plan.edges, [None, None]);
    }

    #[test]
    fn blocks_start_on_the_1st_9th_17th_and_25th() {
        for (day, before, after) in [
            ("2024-02-29", "2024-02-25", "2024-03-01"),
            ("2026-01-25", "2026-01-25", "2026-01-25"),
            ("2026-01-31", "2026-01-25", "2026-02-01"),
            ("2026-01-10", "2026-01-09", "2026-01-17"),
            ("2026-01-17", "2026-01-17", "2026-01-17"),
            ("2026-01-24", "2026-01-17", "2026-01-25"),
        ] {
            assert_eq!(block_at_or_before(date(day)), date(before), "{day}");
            assert_eq!(block_at_or_after(date(day)), date(after), "{day}");
        }
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
    fn periods_that_ended_are_split_off_and_the_rest_stays_a_plan() {
        let plan = long_range();
        let (closed, rest) = plan.split_closed(date("2026-03-10")).unwrap();
        assert_eq!(
            closed,
            [
                ("month", date("2026-02-01")),
                ("block", date("2026-01-17")),
                ("block", date("2026-01-25")),
                ("day", date("2026-01-16")),
            ]
        );
        assert_eq!(rest.months, dates("2026-03-01", "2026-04-01"));
        assert_eq!(rest.blocks, [None, None]);
        assert_eq!(rest.days, [None, dates("2026-04-01", "2026-04-03")]);
        assert_eq!(rest.edges, plan.edges);

        let (everything, nothing) = plan.split_closed(NaiveDate::MAX).unwrap();
        assert_eq!(everything.len(), 2 + 2 + 1 + 2);
        assert_eq!((nothing.months, nothing.days), (None, [None, None]));
        let all_time = Plan {
            all: Some(Span { lo: None, hi: None }),
            ..Plan::default()
        };
        assert_eq!(all_time.split_closed(NaiveDate::MAX), None);
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
