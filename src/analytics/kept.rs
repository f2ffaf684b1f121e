//! Figures of closed periods kept in the service's memory, each with the
//! rollup epoch and the period version it was read at (see
//! `analytics_period_versions`, migrations 0009 and 0010). A kept figure is
//! handed out only at the epoch and version a request has just read, so
//! answers built from it stay exact; the least recently used period goes first
//! when the store is full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

/// Store, grain, period (its first day).
pub type PeriodKey = (String, &'static str, NaiveDate);

struct Entry<V> {
    epoch: i64,
    version: i64,
    figures: Arc<V>,
    last_used: u64,
}

/// Figures of type `V` per closed period.
pub struct KeptPeriods<V> {
    kept: Mutex<(HashMap<PeriodKey, Entry<V>>, u64)>,
}

impl<V> Default for KeptPeriods<V> {
    fn default() -> Self {
        KeptPeriods {
            kept: Mutex::new((HashMap::new(), 0)),
        }
    }
}

impl<V> KeptPeriods<V> {
    /// Periods kept at most: a year's range needs ~20 product periods or 12
    /// months of hours, and each holds at most a few tens of kilobytes.
    const CAPACITY: usize = 256;

    /// The kept figures of `key` if they are at `epoch` and `version`.
    pub fn get(&self, key: &PeriodKey, epoch: i64, version: i64) -> Option<Arc<V>> {
        let mut guard = self.kept.lock().ok()?;
        let (kept, clock) = &mut *guard;
        *clock += 1;
        let entry = kept.get_mut(key)?;
        if entry.epoch != epoch || entry.version != version {
            return None;
        }
        entry.last_used = *clock;
        Some(entry.figures.clone())
    }

    /// Keeps `figures` of `key`, as read at `epoch` and `version`.
    pub fn keep(&self, key: PeriodKey, epoch: i64, version: i64, figures: Arc<V>) {
        let Ok(mut guard) = self.kept.lock() else {
            return;
        };
        let (kept, clock) = &mut *guard;
        *clock += 1;
        if kept.len() >= Self::CAPACITY && !kept.contains_key(&key) {
            let oldest = kept
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                kept.remove(&oldest);
            }
        }
        let last_used = *clock;
        kept.insert(
            key,
            Entry {
                epoch,
                version,
                figures,
                last_used,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: u32) -> PeriodKey {
        let period = NaiveDate::from_ymd_opt(2026, 1, day).unwrap();
        ("eu".to_string(), "day", period)
    }

    #[test]
    fn a_period_is_handed_out_only_at_the_epoch_and_version_it_was_read_at() {
        let kept = KeptPeriods::default();
        kept.keep(key(1), 3, 7, Arc::new(42));
        assert_eq!(kept.get(&key(1), 3, 7).as_deref(), Some(&42));
        assert_eq!(kept.get(&key(1), 3, 8), None);
        assert_eq!(kept.get(&key(1), 4, 7), None);
        assert_eq!(kept.get(&key(2), 3, 7), None);
    }

    #[test]
    fn the_least_recently_used_period_goes_first() {
        let kept = KeptPeriods::default();
        let capacity = KeptPeriods::<u32>::CAPACITY;
        for day in 0..capacity {
            let period =
                NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(day as u64);
            kept.keep(("eu".to_string(), "day", period), 0, 0, Arc::new(day));
        }
        let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        assert!(kept.get(&("eu".to_string(), "day", first), 0, 0).is_some());
        kept.keep(key(1), 0, 0, Arc::new(0));
        // The first period was used last, so the second one made room.
        assert!(kept.get(&("eu".to_string(), "day", first), 0, 0).is_some());
        let second = first + chrono::Days::new(1);
        assert!(kept.get(&("eu".to_string(), "day", second), 0, 0).is_none());
    }
}
