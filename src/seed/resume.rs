//! What earlier runs of a seed already wrote (tables `seed_runs` and
//! `seed_chunks`), so a re-run writes only what is missing.

use anyhow::{Context, bail};
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

/// The parameters a seed's data depends on, besides the seed itself.
pub struct RunParams<'a> {
    pub seed: u64,
    pub stores: &'a [String],
    pub products: usize,
    pub until: Option<NaiveDate>,
}

/// Registers the run, or checks it matches the earlier one; returns the
/// `until` date every chunk of this seed uses.
pub async fn start_run(pool: &PgPool, params: &RunParams<'_>) -> anyhow::Result<NaiveDate> {
    let seed = params.seed as i64;
    let products = i32::try_from(params.products).context("--products is too large")?;
    let today = chrono::Utc::now().date_naive();
    sqlx::query(
        "insert into seed_runs (seed, stores, products, until) values ($1, $2, $3, $4)
         on conflict (seed) do nothing",
    )
    .bind(seed)
    .bind(params.stores)
    .bind(products)
    .bind(params.until.unwrap_or(today))
    .execute(pool)
    .await
    .context("registering the seed run")?;
    let (stores, earlier_products, until): (Vec<String>, i32, NaiveDate) =
        sqlx::query_as("select stores, products, until from seed_runs where seed = $1")
            .bind(seed)
            .fetch_one(pool)
            .await
            .context("reading the seed run")?;
    let seed = params.seed;
    if stores != params.stores {
        bail!(
            "seed {seed} was started with --stores {}; use the same stores or another --seed",
            stores.join(",")
        );
    }
    if earlier_products != products {
        bail!(
            "seed {seed} was started with --products {earlier_products}; use the same or another --seed"
        );
    }
    if params.until.is_some_and(|asked| asked != until) {
        bail!("seed {seed} was started with --until {until}; use the same or another --seed");
    }
    Ok(until)
}

/// Ordinals already written for the seed, as sorted `(first, count)` ranges.
pub async fn written(pool: &PgPool, seed: u64) -> anyhow::Result<Vec<(u64, u64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "select first_ordinal, orders from seed_chunks where seed = $1 order by first_ordinal",
    )
    .bind(seed as i64)
    .fetch_all(pool)
    .await
    .context("reading the written chunks")?;
    Ok(rows
        .into_iter()
        .map(|(first, count)| (first as u64, count as u64))
        .collect())
}

/// The chunks still to write so that ordinals `0..orders` all exist: the gaps
/// between written ranges, cut to at most `chunk` orders each.
pub fn missing(written: &[(u64, u64)], orders: u64, chunk: u64) -> Vec<(u64, u64)> {
    let chunk = chunk.max(1);
    let mut gaps = Vec::new();
    let mut next = 0;
    for &(first, count) in written.iter().chain([(orders, 0)].iter()) {
        let gap_end = first.min(orders);
        let mut start = next;
        while start < gap_end {
            let count = chunk.min(gap_end - start);
            gaps.push((start, count));
            start += count;
        }
        next = next.max(first + count);
    }
    gaps
}

/// Records a chunk as written; call inside the chunk's transaction.
pub async fn record_chunk(
    conn: &mut PgConnection,
    seed: u64,
    first: u64,
    count: u64,
) -> anyhow::Result<()> {
    sqlx::query("insert into seed_chunks (seed, first_ordinal, orders) values ($1, $2, $3)")
        .bind(seed as i64)
        .bind(first as i64)
        .bind(count as i64)
        .execute(conn)
        .await
        .context("recording the chunk")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn missing_chunks_fill_the_gaps_only() {
        assert_eq!(missing(&[], 25, 10), vec![(0, 10), (10, 10), (20, 5)]);
        assert_eq!(missing(&[(0, 10), (10, 10)], 20, 10), vec![]);
        assert_eq!(
            missing(&[(0, 10), (20, 10)], 35, 10),
            vec![(10, 10), (30, 5)]
        );
        assert_eq!(missing(&[(0, 10)], 5, 10), vec![]);
        assert_eq!(missing(&[(0, 7)], 20, 10), vec![(7, 10), (17, 3)]);
    }
}
