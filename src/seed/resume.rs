//! What earlier runs of a seed did: the parameters they used (`seed_runs`)
//! and the orders they wrote (their `external_id`s), so a re-run writes only
//! what is missing, the same way.

use anyhow::{Context, bail};
use chrono::NaiveDate;
use sqlx::PgPool;

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

/// Ordinals of the seed's orders already in the database. A chunk's orders
/// commit together, so these are exactly the chunks earlier runs finished.
pub async fn written(pool: &PgPool, seed: u64, stores: &[String]) -> anyhow::Result<Vec<u64>> {
    let prefix = format!("seed-{seed}-");
    let ids: Vec<String> = sqlx::query_scalar(
        "select external_id from orders where store_id = any($1) and starts_with(external_id, $2)",
    )
    .bind(stores)
    .bind(&prefix)
    .fetch_all(pool)
    .await
    .context("reading which seeded orders exist")?;
    Ok(ids
        .iter()
        .filter_map(|id| id.strip_prefix(&prefix)?.parse().ok())
        .collect())
}

/// The ordinals in `0..orders` not yet written.
pub fn missing(written: &[u64], orders: u64) -> Vec<u64> {
    let mut done = vec![false; usize::try_from(orders).unwrap_or(usize::MAX)];
    for &ordinal in written {
        if let Some(slot) = usize::try_from(ordinal).ok().and_then(|i| done.get_mut(i)) {
            *slot = true;
        }
    }
    (0..orders)
        .filter(|&ordinal| !done[ordinal as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn missing_ordinals_are_the_gaps_below_the_target() {
        assert_eq!(missing(&[], 3), vec![0, 1, 2]);
        assert_eq!(missing(&[0, 2, 7], 4), vec![1, 3]);
        assert_eq!(missing(&[0, 1, 2, 3], 2), Vec::<u64>::new());
    }
}
