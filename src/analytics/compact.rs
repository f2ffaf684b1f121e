//! Folding the shard rows of closed periods into shard 0 (migration 0007).
//!
//! Sharded rollup rows (category, hour, status) spare concurrent writers a hot
//! row while a period takes orders; once it is over they only multiply the rows
//! a range reads, up to 16 per key. [`compact`] moves the figures of every shard
//! row of a closed period into the key's shard-0 row and deletes it. Sums never
//! change, so a range reads the same figures before, during and after; a
//! later change to a folded period lands in its own shard row again (negative
//! if it removes an order) and is folded next time. `serve` runs it every
//! [`COMPACT_INTERVAL`].
//!
//! Races: the rows to fold are taken `for update skip locked`, so the compactor
//! never waits for an order write holding one; shard-0 rows are then locked in
//! primary-key order, the order every writer locks its rows in, so the two never
//! deadlock. A shard-0 row that folds to zero is deleted in the same
//! transaction: no committed row is ever zero, as with live maintenance.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// How often `serve` folds closed periods.
pub const COMPACT_INTERVAL: Duration = Duration::from_secs(60);
/// Shard rows folded per transaction.
const BATCH: i64 = 5_000;

/// A sharded rollup table.
struct Sharded {
    table: &'static str,
    /// The primary key without `shard`.
    key: &'static str,
    /// The columns that are sums.
    sums: &'static [&'static str],
    /// Rows whose period ended before `$1` (with a day's margin for the stores'
    /// time zones: days are local, `$1` is an instant).
    closed: &'static str,
}

const CLOSED_PERIODS: &str = "(grain = 'day' and period < ($1 at time zone 'UTC')::date - 1)
    or (grain = 'block' and period < ($1 at time zone 'UTC')::date - 9)
    or (grain = 'month' and period < ($1 at time zone 'UTC')::date - 32)";

const TABLES: [Sharded; 3] = [
    Sharded {
        table: "analytics_category_sales",
        key: "store_id, grain, period, category",
        sums: &["revenue", "quantity", "orders"],
        closed: CLOSED_PERIODS,
    },
    Sharded {
        table: "analytics_hourly_sales",
        key: "store_id, hour",
        sums: &["orders", "revenue"],
        closed: "hour < $1 - interval '1 hour'",
    },
    Sharded {
        table: "analytics_status_counts",
        key: "store_id, grain, period, status",
        sums: &["orders", "revenue", "processing_seconds"],
        closed: CLOSED_PERIODS,
    },
];

impl Sharded {
    /// True (in SQL) for a row whose every sum is zero.
    fn zero(&self) -> String {
        self.sums
            .iter()
            .map(|column| format!("{column} = 0"))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Folds up to `$2` shard rows closed before `$1`; returns one row per
    /// shard-0 row written: its `ctid` as text and whether every sum is now zero.
    fn fold_statement(&self) -> String {
        let Sharded {
            table,
            key,
            sums,
            closed,
        } = self;
        let summed = sums
            .iter()
            .map(|column| format!("sum({column})"))
            .collect::<Vec<_>>()
            .join(", ");
        let added = sums
            .iter()
            .map(|column| format!("{column} = t.{column} + excluded.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let columns = sums.join(", ");
        format!(
            "with victims as (
                select ctid from {table} where shard <> 0 and ({closed})
                limit $2 for update skip locked
             ), folded as (
                delete from {table} where ctid = any(array(select ctid from victims))
                returning {key}, {columns}
             )
             insert into {table} as t ({key}, shard, {columns})
             select {key}, 0, {summed} from folded group by {key} order by {key}
             on conflict ({key}, shard) do update set {added}
             returning ctid::text, {zero}",
            zero = self.zero()
        )
    }

    /// Deletes the shard-0 rows (by `ctid`, locked by this transaction) that
    /// folded to zero.
    fn delete_zero_statement(&self) -> String {
        format!(
            "delete from {} where ctid = any($1::text[]::tid[]) and {}",
            self.table,
            self.zero()
        )
    }
}

/// What a compaction folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Shard-0 rows that received folded figures.
    pub folded_into: u64,
    /// Shard-0 rows deleted because they folded to zero.
    pub emptied: u64,
    /// Tables left for the next round because a writer held a row too long.
    pub gave_way: u64,
}

/// Folds every shard row of the periods closed before `now` (see the module
/// docs); `now` is a parameter so tests can close every period.
pub async fn compact(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<CompactReport> {
    let mut report = CompactReport::default();
    for sharded in &TABLES {
        let statements = (sharded.fold_statement(), sharded.delete_zero_statement());
        loop {
            match fold_batch(pool, &statements, now).await {
                Ok((0, _)) => break,
                Ok((folded_into, emptied)) => {
                    report.folded_into += folded_into;
                    report.emptied += emptied;
                }
                Err(sqlx::Error::Database(error))
                    if error.code().as_deref() == Some(LOCK_TIMEOUT) =>
                {
                    report.gave_way += 1;
                    break;
                }
                Err(error) => return Err(error),
            }
        }
    }
    Ok(report)
}

/// SQLSTATE `lock_not_available`, what `lock_timeout` raises.
const LOCK_TIMEOUT: &str = "55P03";

/// One transaction: folds up to [`BATCH`] shard rows and deletes the shard-0
/// rows that folded to zero, with a table's (fold, delete-zero) statements.
/// Returns (shard-0 rows written, rows deleted).
async fn fold_batch(
    pool: &PgPool,
    (fold, delete_zero): &(String, String),
    now: DateTime<Utc>,
) -> sqlx::Result<(u64, u64)> {
    let mut tx = pool.begin().await?;
    // A writer holding a shard-0 row for long makes the compactor give way,
    // never the writer.
    sqlx::query("set local lock_timeout = '2s'")
        .execute(&mut *tx)
        .await?;
    let written: Vec<(String, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(fold.as_str()))
        .bind(now)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
    let zero: Vec<&str> = written
        .iter()
        .filter(|(_, zero)| *zero)
        .map(|(ctid, _)| ctid.as_str())
        .collect();
    let mut emptied = 0;
    if !zero.is_empty() {
        emptied = sqlx::query(sqlx::AssertSqlSafe(delete_zero.as_str()))
            .bind(&zero)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok((written.len() as u64, emptied))
}
