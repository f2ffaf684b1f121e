//! When a store's yesterday is closed: no write may still add to it unseen.
//!
//! A write that changes an order of a past local day bumps the versions of its
//! periods (`rollups::record_transition`); it decides "past" by the clock at
//! the moment it writes the rollups, so only a write that ran before the
//! store's midnight skips the bump for yesterday. Such a transaction held a
//! transaction id by then (the order row is written before its rollups). So
//! yesterday is closed once every transaction that held an id when the service
//! first saw the new day has ended: the service notes the snapshot's `xmax` at
//! that first sighting, and each later request compares its snapshot's `xmin`
//! with it. Until then yesterday is read from the rollups like today.
//!
//! The snapshot counts the transactions of the whole cluster, so a long one in
//! another database only keeps yesterday open longer.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;

/// Per store, the day it was first seen as today and the snapshot `xmax` then.
#[derive(Debug, Default)]
pub struct DayHorizons {
    first_seen: Mutex<HashMap<String, (NaiveDate, i64)>>,
}

/// What one request's snapshot says: the store's local today and the oldest
/// transaction id still running (`xmin`) and the next one to be assigned (`xmax`).
#[derive(Debug, Clone, Copy)]
pub struct Sighting {
    pub today: NaiveDate,
    pub xmin: i64,
    pub xmax: i64,
}

impl DayHorizons {
    /// Whether the day before `sighting.today` is closed for `store`.
    pub fn yesterday_closed(&self, store: &str, sighting: Sighting) -> bool {
        let Ok(mut first_seen) = self.first_seen.lock() else {
            return false;
        };
        let horizon = match first_seen.get(store) {
            Some(&(day, horizon)) if day == sighting.today => horizon,
            Some(&(day, _)) if day > sighting.today => return false,
            _ => {
                first_seen.insert(store.to_string(), (sighting.today, sighting.xmax));
                sighting.xmax
            }
        };
        sighting.xmin >= horizon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(day: u32, xmin: i64, xmax: i64) -> Sighting {
        Sighting {
            today: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            xmin,
            xmax,
        }
    }

    #[test]
    fn yesterday_closes_once_the_transactions_running_at_the_first_sighting_have_ended() {
        let horizons = DayHorizons::default();
        // Transaction 90 was running when the day was first seen (xmax 100).
        assert!(!horizons.yesterday_closed("eu", seen(2, 90, 100)));
        // Newer transactions do not matter, 90 still does.
        assert!(!horizons.yesterday_closed("eu", seen(2, 90, 130)));
        assert!(horizons.yesterday_closed("eu", seen(2, 100, 130)));
        assert!(horizons.yesterday_closed("eu", seen(2, 120, 140)));
        // Another store has its own first sighting.
        assert!(!horizons.yesterday_closed("us", seen(2, 120, 140)));
        assert!(horizons.yesterday_closed("us", seen(2, 140, 150)));
    }

    #[test]
    fn a_new_day_starts_a_new_horizon_and_an_older_day_is_never_closed_early() {
        let horizons = DayHorizons::default();
        assert!(horizons.yesterday_closed("eu", seen(2, 100, 100)));
        assert!(!horizons.yesterday_closed("eu", seen(3, 110, 120)));
        // A request whose snapshot began before the new day (a slow one).
        assert!(!horizons.yesterday_closed("eu", seen(2, 120, 120)));
        assert!(horizons.yesterday_closed("eu", seen(3, 120, 125)));
        // Nothing running at the first sighting: closed at once.
        assert!(horizons.yesterday_closed("eu", seen(4, 130, 130)));
    }
}
