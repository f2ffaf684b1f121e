//! `ordersearch seed`: deterministic, realistic demo orders written fast.
//!
//! Order `i` of seed `s` is generated from its own RNG, seeded from `(s, i)`
//! alone, so the data never depends on chunk size, on how often a run was
//! interrupted, or on `--orders` (a larger N only adds orders). Orders are
//! written in the order they were placed, in chunks, each chunk one COPY
//! transaction; a re-run finds what exists by `external_id`
//! (`seed-<seed>-<ordinal>`) and writes only the rest.
//!
//! - [`catalog`]: the products each store sells;
//! - [`people`] and [`names`]: customers, phones, addresses;
//! - [`clock`]: when orders happen;
//! - [`orders`]: one order with its lines and timeline;
//! - [`copy`]: COPY text encoding and writing;
//! - [`resume`]: what earlier runs of the seed did;
//! - [`pipeline`]: the run, generating chunks while others are written;
//! - [`verify`]: the API's rules checked over the whole database.

pub mod catalog;
pub mod clock;
pub mod copy;
pub mod names;
pub mod orders;
pub mod people;
pub mod pipeline;
pub mod resume;
pub mod verify;

use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, PgPool};

pub use self::pipeline::seed;
pub use self::verify::verify;
use crate::db::{Database, DatabaseConfig};

/// Arguments of `ordersearch seed`.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    /// How many orders the seed should have in total (already written ones are kept).
    #[arg(long, required_unless_present = "verify_only")]
    pub orders: Option<u64>,
    /// Stores to spread orders over; `default`, `eu` and `us` are created if missing.
    #[arg(long, value_delimiter = ',', default_value = "default")]
    pub stores: Vec<String>,
    /// The RNG seed: the same seed and arguments always give the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Products per store.
    #[arg(long, default_value_t = 1000)]
    pub products: usize,
    /// Orders per COPY transaction (resumable unit).
    #[arg(long, default_value_t = 10_000)]
    pub chunk: u64,
    /// Connections writing chunks at once.
    #[arg(long, default_value_t = 2)]
    pub writers: usize,
    /// Orders fall in the two years before this date (default: today UTC, or
    /// the date an earlier run of this seed used).
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Only check the database against the API's rules.
    #[arg(long)]
    pub verify_only: bool,
    /// Skip the checks after seeding.
    #[arg(long)]
    pub no_verify: bool,
}

/// What to seed, for [`seed`].
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Orders the seed should have in total; earlier runs' orders count.
    pub orders: u64,
    /// Stores to spread them over (order and duplicates do not matter).
    pub stores: Vec<String>,
    /// The RNG seed.
    pub seed: u64,
    /// Products per store.
    pub products: usize,
    /// Orders per COPY transaction.
    pub chunk: u64,
    /// Connections writing chunks at once.
    pub writers: usize,
    pub until: Option<NaiveDate>,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            orders: 0,
            stores: vec!["default".into()],
            seed: 42,
            products: 1000,
            chunk: 10_000,
            writers: 2,
            until: None,
        }
    }
}

/// What a [`seed`] call did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Orders written by this call.
    pub written: u64,
    /// Orders of this seed that earlier runs had written.
    pub already_written: u64,
    /// Transactions this call committed.
    pub chunks: u64,
    /// The end of the two-year window the orders fall in.
    pub until: NaiveDate,
    /// Time taken to write the orders.
    pub elapsed: Duration,
    /// Time taken afterwards to rebuild the analytics rollups, if anything was written.
    pub rollups: Option<Duration>,
}

impl SeedReport {
    /// The write rate of this call (the rollup rebuild not included).
    pub fn orders_per_second(&self) -> f64 {
        self.written as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `ordersearch seed`.
pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let db = Database::open(&args.db).await?;
    let result = run_on(&db, &args).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn run_on(db: &Database, args: &SeedArgs) -> anyhow::Result<()> {
    db.migrate().await?;
    if let Some(orders) = args.orders.filter(|_| !args.verify_only) {
        let options = SeedOptions {
            orders,
            stores: args.stores.clone(),
            seed: args.seed,
            products: args.products,
            chunk: args.chunk,
            writers: args.writers,
            until: args.until,
        };
        let report = seed(&db.pool, &options, true).await?;
        if report.written == 0 {
            println!(
                "nothing to seed: all {orders} orders of seed {} were already written",
                args.seed
            );
        } else {
            println!(
                "seeded {} orders in {:.1} s ({:.0} orders/s); {} were already there",
                report.written,
                report.elapsed.as_secs_f64(),
                report.orders_per_second(),
                report.already_written
            );
            if let Some(rollups) = report.rollups {
                println!(
                    "analytics rollups rebuilt in {:.1} s",
                    rollups.as_secs_f64()
                );
            }
        }
        if args.no_verify {
            return Ok(());
        }
    }
    let results = verify(&db.pool).await?;
    let width = results
        .iter()
        .map(|(rule, _)| rule.len())
        .max()
        .unwrap_or(0);
    for (rule, violations) in &results {
        println!("{rule:width$}  {violations}");
    }
    let failed = results.iter().filter(|(_, count)| *count > 0).count();
    anyhow::ensure!(failed == 0, "{failed} rule(s) have violations");
    println!("all {} rules hold", results.len());
    Ok(())
}

/// A few connections to `pool`'s database for statements that are long by
/// design (COPY of a chunk, a check scanning every order): not logged, so
/// they do not print "slow statement" warnings over the progress bar.
pub(crate) async fn bulk_pool(pool: &PgPool, connections: u32) -> anyhow::Result<PgPool> {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .application_name("ordersearch seed");
    PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options.disable_statement_logging())
        .await
        .context("connecting for bulk statements")
}

/// Independent random streams, so adding one kind of draw never shifts another.
#[derive(Clone, Copy)]
pub(crate) enum Domain {
    Order = 1,
    Customer = 2,
    Catalog = 3,
}

/// The RNG for item `index` of a domain of a seed.
pub(crate) fn rng_for(seed: u64, domain: Domain, index: u64) -> StdRng {
    StdRng::seed_from_u64(splitmix(splitmix(splitmix(seed) ^ domain as u64) ^ index))
}

/// SplitMix64's finalizer: neighbouring inputs give unrelated outputs (a plain
/// `seed ^ index` would make seed 42's chunk 1 equal seed 43's chunk 0).
fn splitmix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, a stable hash of a store id (std's hashers may change between releases).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
