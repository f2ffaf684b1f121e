//! Rollup figures kept in the service's memory, per store and period, with
//! one rule: a kept period is used only while its stamp has not moved.
//!
//! The projector is the rollups' one writer; in the transaction that changes
//! a period's rows it stamps the period with its own transaction id, and a
//! rebuild stamps every period it writes (`analytics_period_stamps`,
//! migration 0017). So a request reads the stamps of the periods it needs
//! (one small query), takes the kept figures whose stamp is unchanged, and
//! reads the others from the rollups, after the stamps: rows read after a
//! stamp are at least as new as it, so a figure is never kept under a stamp
//! newer than its rows. A period without a stamp has no rows.
//!
//! [`products`] keeps every product's figures per local period for top-N
//! lists; [`hours`] keeps each UTC month's hours, rendered, for hourly sales.
//! The least recently used period goes first when the store is full.

pub mod hours;
pub mod products;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::period::{Grain, Period};
use super::plan::Span;

/// Store and period.
type Key = (String, Period);

struct Entry<V> {
    stamp: i64,
    figures: Arc<V>,
    last_used: u64,
}

/// Figures of type `V` per store and period.
pub struct Kept<V> {
    kept: Mutex<(HashMap<Key, Entry<V>>, u64)>,
}

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Kept {
            kept: Mutex::new((HashMap::new(), 0)),
        }
    }
}

impl<V> Kept<V> {
    /// Periods kept at most: a year's range needs ~20 product periods or 12
    /// months of hours, and each holds at most a few tens of kilobytes.
    const CAPACITY: usize = 256;

    /// The map, even after a panic while it was held: every change to it is
    /// one insert or one removal, so it is never left half-changed.
    fn lock(&self) -> MutexGuard<'_, (HashMap<Key, Entry<V>>, u64)> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The kept figures of `period` if they were read at `stamp`.
    pub fn get(&self, store: &str, period: Period, stamp: i64) -> Option<Arc<V>> {
        let mut guard = self.lock();
        let (kept, clock) = &mut *guard;
        *clock += 1;
        let entry = kept.get_mut(&(store.to_string(), period))?;
        if entry.stamp != stamp {
            return None;
        }
        entry.last_used = *clock;
        Some(entry.figures.clone())
    }

    /// Keeps `figures` of `period`, read at `stamp`.
    pub fn keep(&self, store: &str, period: Period, stamp: i64, figures: Arc<V>) {
        let mut guard = self.lock();
        let (kept, clock) = &mut *guard;
        *clock += 1;
        let key = (store.to_string(), period);
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
                stamp,
                figures,
                last_used,
            },
        );
    }
}

/// The stamps of those of `periods` that `store` has rows in.
pub async fn stamps_of(
    db: &PgPool,
    store: &str,
    periods: &[Period],
) -> sqlx::Result<HashMap<Period, i64>> {
    let grains: Vec<&str> = periods.iter().map(|p| p.grain.as_str()).collect();
    let starts: Vec<Option<NaiveDate>> = periods.iter().map(|p| p.start).collect();
    let mut query = stamps_query(store);
    query.push(" and (grain, period) in (select g, coalesce(p, '-infinity') from unnest(");
    query.push_bind(grains).push("::text[], ");
    query.push_bind(starts).push("::date[]) as u(g, p))");
    read_stamps(db, query).await
}

/// The stamps of `store`'s periods of `grain` whose first day lies in `span`
/// (the periods it has rows in).
pub async fn stamps_in(
    db: &PgPool,
    store: &str,
    grain: Grain,
    span: Span<NaiveDate>,
) -> sqlx::Result<HashMap<Period, i64>> {
    let mut query = stamps_query(store);
    query.push(format_args!(" and grain = '{}' and ", grain.as_str()));
    span.push(&mut query, "period");
    read_stamps(db, query).await
}

fn stamps_query(store: &str) -> QueryBuilder<Postgres> {
    let mut query = QueryBuilder::new(
        "select grain, nullif(period, '-infinity'), stamp from analytics_period_stamps
         where store_id = ",
    );
    query.push_bind(store.to_string());
    query
}

async fn read_stamps(
    db: &PgPool,
    mut query: QueryBuilder<Postgres>,
) -> sqlx::Result<HashMap<Period, i64>> {
    let rows: Vec<(String, Option<NaiveDate>, i64)> = query.build_query_as().fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(grain, start, stamp)| {
            let period = Period {
                grain: Grain::parse(&grain)?,
                start,
            };
            Some((period, stamp))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: u32) -> Period {
        Period {
            grain: Grain::Day,
            start: NaiveDate::from_ymd_opt(2026, 1, day),
        }
    }

    #[test]
    fn a_period_is_handed_out_only_at_the_stamp_it_was_read_at() {
        let kept = Kept::default();
        kept.keep("eu", day(1), 7, Arc::new(42));
        assert_eq!(kept.get("eu", day(1), 7).as_deref(), Some(&42));
        assert_eq!(kept.get("eu", day(1), 8), None);
        assert_eq!(kept.get("us", day(1), 7), None);
        assert_eq!(kept.get("eu", day(2), 7), None);
    }

    #[test]
    fn the_least_recently_used_period_goes_first() {
        let kept = Kept::default();
        let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let nth = |n: usize| Period {
            grain: Grain::Day,
            start: Some(first + chrono::Days::new(n as u64)),
        };
        for n in 0..Kept::<usize>::CAPACITY {
            kept.keep("eu", nth(n), 0, Arc::new(n));
        }
        assert!(kept.get("eu", nth(0), 0).is_some());
        kept.keep("eu", day(1), 0, Arc::new(0));
        // The first period was used last, so the second one made room.
        assert!(kept.get("eu", nth(0), 0).is_some());
        assert!(kept.get("eu", nth(1), 0).is_none());
    }
}
