//! The time range of an analytics query: `from` / `to` as the client wrote them,
//! resolved to instants, and split into what the rollups can answer.
//!
//! `from` and `to` are each a `YYYY-MM-DD` date (a local day in the store's time
//! zone, or `tz`; `to` includes its whole day) or an RFC 3339 time (`to`
//! excluded). Every local-time computation happens in PostgreSQL, with the same
//! time zone rules the rollups were bucketed with, so the pieces always fit.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use crate::http::error::{ApiError, FieldError};

/// One end of a range as the client gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// A local calendar day.
    Date(NaiveDate),
    /// An instant.
    Time(DateTime<Utc>),
}

/// What the client asked for, checked: 422 naming every bad field.
#[derive(Debug, Clone, Default)]
pub struct RangeRequest {
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    /// Time zone for interpreting dates; the store's when `None`.
    pub tz: Option<String>,
    /// The local day before today, instead of `from` / `to`.
    pub yesterday: bool,
}

impl RangeRequest {
    /// Parses the `from`, `to` and `tz` query parameters.
    pub fn parse(from: Option<&str>, to: Option<&str>, tz: Option<&str>) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let mut bound = |field: &str, text: Option<&str>| match text.map(parse_bound) {
            Some(Err(message)) => {
                errors.push(FieldError::new(field, message));
                None
            }
            Some(Ok(bound)) => Some(bound),
            None => None,
        };
        let from = bound("from", from);
        let to = bound("to", to);
        let reversed = match (from, to) {
            (Some(Bound::Date(from)), Some(Bound::Date(to))) => from > to,
            (Some(Bound::Time(from)), Some(Bound::Time(to))) => from > to,
            // Mixed: compared once the date is an instant (see `resolve`).
            _ => false,
        };
        if reversed {
            errors.push(FieldError::new("from", "must not be after `to`"));
        }
        if let Some(tz) = tz
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            errors.push(FieldError::new(
                "tz",
                "must be an IANA time zone such as \"Europe/Warsaw\"",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self {
            from,
            to,
            tz: tz.map(str::to_string),
            yesterday: false,
        })
    }

    /// The store's local yesterday (in `tz` when given).
    pub fn yesterday(tz: Option<&str>) -> Result<Self, ApiError> {
        let mut request = Self::parse(None, None, tz)?;
        request.yesterday = true;
        Ok(request)
    }
}

/// Years a date or time may have: what every layer below handles exactly.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

fn parse_bound(text: &str) -> Result<Bound, &'static str> {
    const WRONG: &str = "must be a YYYY-MM-DD date or an RFC 3339 time";
    let bound = if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        Bound::Time(time.with_timezone(&Utc))
    } else {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| WRONG)?;
        // `%Y` also takes signs and long years; only the plain form is a date here.
        if text.len() != 10 {
            return Err(WRONG);
        }
        Bound::Date(date)
    };
    let year = match bound {
        Bound::Date(date) => chrono::Datelike::year(&date),
        Bound::Time(time) => chrono::Datelike::year(&time),
    };
    if !YEARS.contains(&year) {
        return Err("must be between the years 1 and 9999");
    }
    Ok(bound)
}

/// A range resolved against the store's calendar: `[lo, hi)` (`None` is
/// unbounded), the whole local days `[d0, d1)` inside it and their starts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Resolved {
    pub lo: Option<DateTime<Utc>>,
    pub hi: Option<DateTime<Utc>>,
    pub d0: Option<NaiveDate>,
    pub d1: Option<NaiveDate>,
    pub s0: Option<DateTime<Utc>>,
    pub s1: Option<DateTime<Utc>>,
}

/// Ranges already resolved, by store and request. Resolving is a function of
/// the store's time zone (which never changes), `tz` and the bounds alone, so
/// asking PostgreSQL again would repeat a round trip and the same answer.
/// `yesterday` follows the clock: it is kept until the next local midnight,
/// which PostgreSQL computes with it (against this host's clock, which is
/// assumed to agree with the database's). Only successes are kept (an unknown
/// store is asked about again), and the maps are emptied when full.
#[derive(Debug, Default)]
pub struct ResolvedRanges {
    known: Mutex<HashMap<RangeKey, Resolved>>,
    yesterdays: Mutex<HashMap<(String, Option<String>), KeptYesterday>>,
}

/// A resolved yesterday and the instant it stops being yesterday.
type KeptYesterday = (Resolved, DateTime<Utc>);

/// Store, `tz`, `from`, `to`.
type RangeKey = (String, Option<String>, Option<Bound>, Option<Bound>);

/// A resolved range and, for `yesterday`, when it stops being yesterday.
#[derive(sqlx::FromRow)]
struct ResolvedRow {
    #[sqlx(flatten)]
    range: Resolved,
    renews_at: Option<DateTime<Utc>>,
}

impl ResolvedRanges {
    /// Ranges kept at most (a few hundred bytes each).
    const CAPACITY: usize = 10_000;

    fn get(&self, key: &RangeKey) -> Option<Resolved> {
        self.known.lock().ok()?.get(key).cloned()
    }

    fn keep(&self, key: RangeKey, resolved: &Resolved) {
        if let Ok(mut known) = self.known.lock() {
            insert_bounded(&mut known, key, resolved.clone());
        }
    }
}

/// Inserts into a map of at most [`ResolvedRanges::CAPACITY`] entries,
/// emptied when full.
fn insert_bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= ResolvedRanges::CAPACITY {
        map.clear();
    }
    map.insert(key, value);
}

/// [`resolve`], answered from `known` when the same range was resolved before.
pub async fn resolve_cached(
    db: &PgPool,
    known: &ResolvedRanges,
    store: &str,
    request: &RangeRequest,
) -> Result<Resolved, ApiError> {
    if request.yesterday {
        return resolve_yesterday(db, known, store, request).await;
    }
    let key = (
        store.to_string(),
        request.tz.clone(),
        request.from,
        request.to,
    );
    if let Some(resolved) = known.get(&key) {
        return Ok(resolved);
    }
    let resolved = resolve(db, store, request).await?;
    known.keep(key, &resolved);
    Ok(resolved)
}

/// The store's (or `tz`'s) yesterday, kept until the next local midnight.
async fn resolve_yesterday(
    db: &PgPool,
    known: &ResolvedRanges,
    store: &str,
    request: &RangeRequest,
) -> Result<Resolved, ApiError> {
    let key = (store.to_string(), request.tz.clone());
    let now = Utc::now();
    if let Ok(yesterdays) = known.yesterdays.lock()
        && let Some((range, renews_at)) = yesterdays.get(&key)
        && now < *renews_at
    {
        return Ok(range.clone());
    }
    let row = resolve_row(db, store, request).await?;
    if let (Some(renews_at), Ok(mut yesterdays)) = (row.renews_at, known.yesterdays.lock()) {
        insert_bounded(&mut yesterdays, key, (row.range.clone(), renews_at));
    }
    Ok(row.range)
}

/// Resolves a request for `store`: dates become instants in `tz` or the
/// store's zone; whole days are the store's own (the rollups' days). An unknown
/// store is a 404, `from` after `to` a 422.
pub async fn resolve(
    db: &PgPool,
    store: &str,
    request: &RangeRequest,
) -> Result<Resolved, ApiError> {
    Ok(resolve_row(db, store, request).await?.range)
}

async fn resolve_row(
    db: &PgPool,
    store: &str,
    request: &RangeRequest,
) -> Result<ResolvedRow, ApiError> {
    let (from_time, from_date) = split(request.from);
    let (to_time, to_date) = split(request.to);
    let resolved: ResolvedRow = sqlx::query_as(
        "with zone as (
            select timezone as store_tz, coalesce($2, timezone) as tz from stores where id = $1
         ), bounds as (
            select store_tz,
                case when $7 then analytics_day_start(analytics_local_day(now(), tz) + 1, tz)
                end as renews_at,
                case when $7 then analytics_day_start(analytics_local_day(now(), tz) - 1, tz)
                     else coalesce($3, analytics_day_start($4, tz)) end as lo,
                case when $7 then analytics_day_start(analytics_local_day(now(), tz), tz)
                     else coalesce($5, analytics_day_start($6 + 1, tz)) end as hi
            from zone
         ), days as (
            select lo, hi, store_tz, renews_at,
                analytics_local_day(lo, store_tz)
                    + case when analytics_day_start(analytics_local_day(lo, store_tz), store_tz) = lo
                           then 0 else 1 end as d0,
                analytics_local_day(hi, store_tz) as d1
            from bounds
         )
         select lo, hi, d0, d1, analytics_day_start(d0, store_tz) as s0,
                analytics_day_start(d1, store_tz) as s1, renews_at
         from days",
    )
    .bind(store)
    .bind(&request.tz)
    .bind(from_time)
    .bind(from_date)
    .bind(to_time)
    .bind(to_date)
    .bind(request.yesterday)
    .fetch_optional(db)
    .await
    .map_err(|error| match &error {
        // A zone chrono knows but this server's time zone database does not.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("22023") => {
            ApiError::invalid("tz", "this time zone is not known to the database")
        }
        _ => ApiError::from(error),
    })?
    .ok_or(ApiError::NotFound("store"))?;
    if let (Some(lo), Some(hi)) = (resolved.range.lo, resolved.range.hi)
        && lo > hi
    {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    Ok(resolved)
}

fn split(bound: Option<Bound>) -> (Option<DateTime<Utc>>, Option<NaiveDate>) {
    match bound {
        Some(Bound::Time(time)) => (Some(time), None),
        Some(Bound::Date(date)) => (None, Some(date)),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_parse_and_nonsense_is_named() {
        let request =
            RangeRequest::parse(Some("2026-03-29"), Some("2026-03-30T12:00:00+02:00"), None)
                .unwrap();
        assert_eq!(
            request.from,
            Some(Bound::Date(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()))
        );
        assert_eq!(
            request.to,
            Some(Bound::Time("2026-03-30T10:00:00Z".parse().unwrap()))
        );
        let Err(ApiError::Validation(errors)) =
            RangeRequest::parse(Some("2026-02-30"), Some("+12026-01-01"), Some("Mars/Base"))
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["from", "to", "tz"]);
        assert!(RangeRequest::parse(Some("0000-01-01"), None, None).is_err());
    }
}
