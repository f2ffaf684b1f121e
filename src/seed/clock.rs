//! Time for seeded orders: the two-year window, which days and local hours
//! orders fall on, random durations, and fast timestamp text for COPY.
//!
//! All instants are milliseconds since the Unix epoch (UTC).

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use rand::Rng;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// The window is the two years (730 days) before `--until`.
pub const WINDOW_DAYS: i64 = 730;
/// How many times busier the last day is than the first: the shop grows.
const GROWTH: f64 = 3.0;

/// Relative order volume by local hour: quiet nights, a lunch bump, an evening peak.
const HOUR_WEIGHTS: [u32; 24] = [
    20, 10, 6, 4, 4, 6, 12, 22, 32, 42, 48, 52, 56, 54, 50, 48, 49, 52, 58, 64, 68, 62, 46, 32,
];

/// The seeded period and how order volume is spread over its days.
pub struct Window {
    pub start_date: NaiveDate,
    /// Midnight UTC starting the first day.
    pub start_ms: i64,
    /// Midnight UTC starting `--until`: no seeded instant reaches it.
    pub end_ms: i64,
    /// Cumulative day weights, for sampling a day by binary search.
    day_cdf: Vec<f64>,
}

impl Window {
    pub fn new(until: NaiveDate) -> Self {
        let start_date = until - chrono::Days::new(WINDOW_DAYS as u64);
        let end_ms = date_ms(until);
        let mut day_cdf = Vec::with_capacity(WINDOW_DAYS as usize);
        let mut total = 0.0;
        for (day, date) in start_date
            .iter_days()
            .take(WINDOW_DAYS as usize)
            .enumerate()
        {
            let growth = GROWTH.powf(day as f64 / WINDOW_DAYS as f64);
            total += growth * weekday_factor(date.weekday()) * season_factor(date);
            day_cdf.push(total);
        }
        Self {
            start_date,
            start_ms: end_ms - WINDOW_DAYS * DAY_MS,
            end_ms,
            day_cdf,
        }
    }

    /// A day index in `0..WINDOW_DAYS`, busier days (recent, December) more likely.
    pub fn sample_day(&self, rng: &mut impl Rng) -> usize {
        let total = self.day_cdf.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        self.day_cdf
            .partition_point(|&c| c <= x)
            .min(self.day_cdf.len() - 1)
    }
}

/// Sunday evening and Monday shopping; quieter Saturdays.
fn weekday_factor(day: Weekday) -> f64 {
    match day {
        Weekday::Sun | Weekday::Mon => 1.1,
        Weekday::Sat => 0.85,
        _ => 1.0,
    }
}

/// Black Friday week, the December rush, the January lull.
fn season_factor(date: NaiveDate) -> f64 {
    match (date.month(), date.day()) {
        (11, 24..) => 2.0,
        (12, ..=20) => 1.5,
        (1, _) => 0.85,
        _ => 1.0,
    }
}

/// A store's local calendar over the window.
pub struct StoreClock {
    /// The UTC instant of each local midnight in the window.
    day_starts: Vec<i64>,
}

impl StoreClock {
    pub fn new(window: &Window, tz: chrono_tz::Tz) -> Self {
        let day_starts = window
            .start_date
            .iter_days()
            .take(WINDOW_DAYS as usize)
            .map(|date| {
                // A zone may skip midnight on a DST day; 01:00 exists then.
                (0..3)
                    .find_map(|hour| {
                        let local = date.and_hms_opt(hour, 0, 0)?;
                        tz.from_local_datetime(&local).earliest()
                    })
                    .map_or(date_ms(date), |start| start.timestamp_millis())
            })
            .collect();
        Self { day_starts }
    }

    /// When an order was placed: a busy day, a busy local hour, before the window ends.
    pub fn created_at(&self, window: &Window, rng: &mut impl Rng) -> i64 {
        let day = window.sample_day(rng);
        let hour = pick_weighted(rng, &HOUR_WEIGHTS) as i64;
        let at = self.day_starts[day] + hour * HOUR_MS + rng.random_range(0..HOUR_MS);
        if at >= window.end_ms {
            // West of UTC the last local day runs past the window: fold it back.
            window.end_ms - 1 - rng.random_range(0..6 * HOUR_MS)
        } else {
            at
        }
    }
}

fn date_ms(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
}

/// A duration between `low` and `high` ms, log-uniform: short waits are common,
/// long ones happen.
pub fn log_uniform(rng: &mut impl Rng, low: i64, high: i64) -> i64 {
    let (a, b) = ((low as f64).ln(), (high as f64).ln());
    rng.random_range(a..b).exp() as i64
}

/// An index into `weights`, chosen in proportion to its weight.
pub fn pick_weighted(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (index, &weight) in weights.iter().enumerate() {
        if x < weight {
            return index;
        }
        x -= weight;
    }
    weights.len() - 1
}

/// Appends `ms` as PostgreSQL timestamptz text: `2025-03-04 12:34:56.789+00`.
pub fn push_timestamp(out: &mut Vec<u8>, ms: i64) {
    let days = ms.div_euclid(DAY_MS);
    let of_day = ms.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    push_digits(out, year as u32, 4);
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    out.push(b' ');
    push_digits(out, (of_day / HOUR_MS) as u32, 2);
    out.push(b':');
    push_digits(out, (of_day / MINUTE_MS % 60) as u32, 2);
    out.push(b':');
    push_digits(out, (of_day / 1000 % 60) as u32, 2);
    out.push(b'.');
    push_digits(out, (of_day % 1000) as u32, 3);
    out.extend_from_slice(b"+00");
}

/// Zero-padded decimal digits of `value`, exactly `width` of them.
fn push_digits(out: &mut Vec<u8>, value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    crate::domain::rfc3339::write_digits(&mut out[start..], value);
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_like_chrono() {
        for ms in [0, 951_782_400_123, 1_709_251_199_999, 1_767_225_600_000] {
            let mut out = Vec::new();
            push_timestamp(&mut out, ms);
            let expected = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%Y-%m-%d %H:%M:%S%.3f+00")
                .to_string();
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
