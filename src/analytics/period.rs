//! The time grains of the rollups and the periods they are bucketed in.
//!
//! Local periods (`day`, `block`, `month`, `all`) are of the store's own
//! calendar: a day is a local day in the store's time zone (migration 0017's
//! `analytics_local_day`, the one place that rule is written), a block is
//! days 1-8, 9-16, 17-24 or 25-end of a month, a month is a calendar month,
//! and `all` is everything. Hourly sales are by UTC hour, so their period is
//! a UTC month (`utc_month`). A period is named by its grain and its first
//! day (`all` by no day: `-infinity` in SQL).

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

/// A time grain, in the order of the names (so rows sort as the rollups'
/// primary keys do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    /// Every local day.
    All,
    /// Days 1-8, 9-16, 17-24 or 25-end of a local month.
    Block,
    /// One local day.
    Day,
    /// One local calendar month.
    Month,
    /// One UTC calendar month of hourly sales.
    UtcMonth,
}

impl Grain {
    /// The grain as the rollups' `grain` column (and the period stamps) name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::All => "all",
            Grain::Block => "block",
            Grain::Day => "day",
            Grain::Month => "month",
            Grain::UtcMonth => "utc_month",
        }
    }

    /// The grain a `grain` column names.
    pub fn parse(name: &str) -> Option<Grain> {
        [
            Grain::All,
            Grain::Block,
            Grain::Day,
            Grain::Month,
            Grain::UtcMonth,
        ]
        .into_iter()
        .find(|grain| grain.as_str() == name)
    }

    /// The first day of the period of this grain that `day` falls in
    /// (`day` itself for `all`, which has no first day).
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Grain::All | Grain::Day => day,
            Grain::Block => day - Days::new(u64::from(day.day0() % 8)),
            Grain::Month | Grain::UtcMonth => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the next period after the one starting on `start`
    /// (the 25th's block runs to the month's end).
    pub fn next_start(self, start: NaiveDate) -> NaiveDate {
        let next_month = |day: NaiveDate| {
            let first = day.with_day(1).unwrap_or(day);
            first.checked_add_months(Months::new(1)).unwrap_or(first)
        };
        match self {
            Grain::All => NaiveDate::MAX,
            Grain::Day => start + Days::new(1),
            Grain::Block if start.day() >= 25 => next_month(start),
            Grain::Block => start + Days::new(8),
            Grain::Month | Grain::UtcMonth => next_month(start),
        }
    }

    /// `day` if a period of this grain starts on it, else the next start.
    pub fn start_at_or_after(self, day: NaiveDate) -> NaiveDate {
        let start = self.start_of(day);
        if start == day {
            day
        } else {
            self.next_start(start)
        }
    }
}

/// One rollup period: a grain and its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub grain: Grain,
    /// The first day; `None` for `all`.
    pub start: Option<NaiveDate>,
}

impl Period {
    /// The local periods a local `day` falls in: its day, block, month, and all.
    pub fn local_periods_of(day: NaiveDate) -> [Period; 4] {
        [Grain::Day, Grain::Block, Grain::Month, Grain::All].map(|grain| Period {
            grain,
            start: (grain != Grain::All).then(|| grain.start_of(day)),
        })
    }

    /// The UTC month of hourly sales an hour falls in.
    pub fn utc_month_of(hour: DateTime<Utc>) -> Period {
        Period {
            grain: Grain::UtcMonth,
            start: Some(Grain::UtcMonth.start_of(hour.date_naive())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
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
            assert_eq!(Grain::Block.start_of(date(day)), date(before), "{day}");
            assert_eq!(
                Grain::Block.start_at_or_after(date(day)),
                date(after),
                "{day}"
            );
        }
    }

    #[test]
    fn a_day_falls_in_its_day_block_month_and_all() {
        let periods = Period::local_periods_of(date("2026-03-24"));
        let starts: Vec<_> = periods.iter().map(|p| (p.grain, p.start)).collect();
        assert_eq!(
            starts,
            [
                (Grain::Day, Some(date("2026-03-24"))),
                (Grain::Block, Some(date("2026-03-17"))),
                (Grain::Month, Some(date("2026-03-01"))),
                (Grain::All, None),
            ]
        );
    }
}
