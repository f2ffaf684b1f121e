//! When a store's yesterday is closed: no write may still add to it unseen.
//!
//! This rule was made for rollups written inside the order transactions,
//! which bumped a period's version only for past local days. The projector
//! (`projector::write`) now bumps the version of every period it changes, in
//! the batch that changes it, so no write skips a bump and the rule only keeps
//! yesterday out of memory a little longer than needed; it stays until a
//! benchmark says whether the kept figures are worth keeping at all.
//!
//! The rule: a write decided "past" by the clock at the moment it wrote the
//! rollups, so only a write that ran before the store's midnight skipped the
//! bump for yesterday. Such a transaction held a transaction id by then. So
//! yesterday is closed once every transaction that held an id when the service
//! first saw the new day has ended.
//!
//! The horizon is a transaction id the service takes itself at that first
//! sighting (`pg_current_xact_id()`, once per store and day): every id below
//! it was assigned earlier. A snapshot's `xmax` would not do: it is one past
//! the latest *completed* id, and a transaction still running with a higher id
//! than any completed one lies at or above it. Each later request compares its
//! snapshot's `xmin` (the oldest id still running, or `xmax` if none below it
//! runs) with the horizon; once `xmin` is past it, every id up to the horizon
//! has ended. Until then yesterday is read from the rollups like today.
//!
//! The snapshot counts the transactions of the whole cluster, so a long one in
//! another database only keeps yesterday open longer.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use sqlx::PgPool;

/// Per store, the day it was first seen as today and the horizon taken then.
#[derive(Debug, Default)]
pub struct DayHorizons {
    first_seen: Mutex<HashMap<String, (NaiveDate, i64)>>,
}

impl DayHorizons {
    /// Whether the day before `today` is closed for `store`, given the oldest
    /// transaction id still running in the request's snapshot (`xmin`). On
    /// the first sighting of `today` the horizon is taken, and it is not.
    pub async fn yesterday_closed(
        &self,
        db: &PgPool,
        store: &str,
        today: NaiveDate,
        xmin: i64,
    ) -> sqlx::Result<bool> {
        if let Some(closed) = self.judge(store, today, xmin) {
            return Ok(closed);
        }
        let horizon: i64 = sqlx::query_scalar("select pg_current_xact_id()::text::bigint")
            .fetch_one(db)
            .await?;
        self.first_sighting(store, today, horizon);
        Ok(false)
    }

    /// The map, even after a panic while it was held: every write to it is
    /// one insert, so it is never left half-changed.
    fn first_seen(&self) -> MutexGuard<'_, HashMap<String, (NaiveDate, i64)>> {
        self.first_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `None` when `today` has not been seen for `store` yet.
    fn judge(&self, store: &str, today: NaiveDate, xmin: i64) -> Option<bool> {
        match self.first_seen().get(store) {
            Some(&(day, horizon)) if day == today => Some(xmin > horizon),
            // A request whose snapshot began before the new day (a slow one).
            Some(&(day, _)) if day > today => Some(false),
            _ => None,
        }
    }

    /// Notes `horizon`, an id taken after `today` was seen, unless a later
    /// day has been seen meanwhile (a racing request noting the same day keeps
    /// the lower, earlier horizon; either is past every id of yesterday).
    fn first_sighting(&self, store: &str, today: NaiveDate, horizon: i64) {
        let mut first_seen = self.first_seen();
        match first_seen.get(store) {
            Some(&(day, _)) if day > today => {}
            Some(&(day, kept)) if day == today && kept <= horizon => {}
            _ => {
                first_seen.insert(store.to_string(), (today, horizon));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    #[test]
    fn yesterday_closes_once_every_id_up_to_the_horizon_has_ended() {
        let horizons = DayHorizons::default();
        assert_eq!(horizons.judge("eu", day(2), 90), None);
        // The service took id 100 at the first sighting.
        horizons.first_sighting("eu", day(2), 100);
        assert_eq!(horizons.judge("eu", day(2), 90), Some(false));
        // 100 itself is the service's own, ended at once; xmin 100 would
        // still mean it runs.
        assert_eq!(horizons.judge("eu", day(2), 100), Some(false));
        assert_eq!(horizons.judge("eu", day(2), 101), Some(true));
        // Another store has its own first sighting.
        assert_eq!(horizons.judge("us", day(2), 120), None);
    }

    #[test]
    fn a_new_day_starts_a_new_horizon_and_an_older_day_is_never_closed_early() {
        let horizons = DayHorizons::default();
        horizons.first_sighting("eu", day(2), 100);
        assert_eq!(horizons.judge("eu", day(3), 150), None);
        horizons.first_sighting("eu", day(3), 160);
        // A request whose snapshot began before the new day (a slow one).
        assert_eq!(horizons.judge("eu", day(2), 200), Some(false));
        horizons.first_sighting("eu", day(2), 210);
        assert_eq!(horizons.judge("eu", day(3), 161), Some(true));
        // Two requests racing on the first sighting: the earlier id stays.
        horizons.first_sighting("eu", day(4), 300);
        horizons.first_sighting("eu", day(4), 290);
        horizons.first_sighting("eu", day(4), 310);
        assert_eq!(horizons.judge("eu", day(4), 295), Some(true));
    }
}
