//! The seeding run: stores and catalogs first; then the missing orders in the
//! order they were placed, cut into chunks that a blocking thread generates
//! while `writers` connections copy earlier ones into PostgreSQL; then the
//! analytics rollups, recomputed.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::clock::{DAY_MS, StoreClock, Window};
use super::copy::{self, Chunk};
use super::orders::{Generator, StoreData};
use super::resume::{self, RunParams};
use super::{SeedOptions, SeedReport, catalog};

/// Stores the seed creates when they are named and missing: (id, name, currency, time zone).
const KNOWN_STORES: &[(&str, &str, &str, &str)] = &[
    ("default", "Default store", "USD", "UTC"),
    ("eu", "EU store", "EUR", "Europe/Warsaw"),
    ("us", "US store", "USD", "America/New_York"),
];

/// Chunks generated ahead of the writer: enough to keep it busy, little memory.
const CHUNKS_AHEAD: usize = 2;

/// Seeds `options.orders` orders (in total, counting earlier runs of the seed).
pub async fn seed(
    pool: &PgPool,
    options: &SeedOptions,
    progress: bool,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut stores: Vec<String> = options
        .stores
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    stores.sort();
    stores.dedup();
    stores.retain(|store| !store.is_empty());
    ensure!(!stores.is_empty(), "name at least one store");
    ensure!(options.products > 0, "--products must be at least 1");

    // Two runs of one seed at once would write the same chunks: one waits out.
    let mut lock = pool.acquire().await?.detach();
    let key = (super::fnv(b"ordersearch seed") ^ options.seed) as i64;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut lock)
        .await?;
    ensure!(
        locked,
        "another run of seed {} is writing to this database",
        options.seed
    );
    let result = seed_locked(pool, options, progress, &stores, started).await;
    // Unlock explicitly: a closed session releases its locks only once its
    // backend has exited, which a run started right after may not see yet.
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut lock)
        .await?;
    sqlx::Connection::close(lock).await?;
    result
}

async fn seed_locked(
    pool: &PgPool,
    options: &SeedOptions,
    progress: bool,
    stores: &[String],
    started: Instant,
) -> anyhow::Result<SeedReport> {
    let params = RunParams {
        seed: options.seed,
        stores,
        products: options.products,
        until: options.until,
    };
    let until = resume::start_run(pool, &params).await?;
    let window = Window::new(until);
    let mut data = Vec::with_capacity(stores.len());
    for id in stores {
        let (currency, timezone) = ensure_store(pool, id).await?;
        let tz: chrono_tz::Tz = timezone
            .parse()
            .map_err(|_| anyhow::anyhow!("store {id} has an unknown time zone {timezone}"))?;
        let created_ms = window.start_ms - 30 * DAY_MS;
        let catalog = catalog::ensure(pool, options.seed, id, options.products, created_ms).await?;
        data.push(StoreData {
            id: id.clone(),
            currency,
            clock: StoreClock::new(&window, tz),
            catalog,
        });
    }

    let written = resume::written(pool, options.seed, stores).await?;
    let already_written = written.iter().filter(|&&o| o < options.orders).count() as u64;
    let missing = resume::missing(&written, options.orders);
    let bar = progress_bar(missing.len() as u64, progress, ORDERS_BAR);
    let trusted = copy::may_skip_fk_checks(pool).await?;
    let generator = Arc::new(Generator {
        seed: options.seed,
        window,
        stores: data,
    });
    let writers = options.writers.max(1);
    let writing_pool = super::bulk_pool(pool, writers as u32).await?;
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..writers)
        .map(|_| mpsc::channel::<Chunk>(CHUNKS_AHEAD))
        .unzip();
    let chunk_size = options.chunk.max(1) as usize;
    let producer = tokio::task::spawn_blocking(move || {
        let plan = in_time_order(&generator, missing);
        for (index, ordinals) in plan.chunks(chunk_size).enumerate() {
            let mut chunk = Chunk::new(ordinals.len());
            for &ordinal in ordinals {
                chunk.push(generator.seed, &generator.order(ordinal));
            }
            if senders[index % senders.len()].blocking_send(chunk).is_err() {
                break;
            }
        }
    });
    let writing = receivers.into_iter().map(|mut receiver| {
        let (bar, writing_pool) = (bar.clone(), &writing_pool);
        async move {
            let (mut written, mut chunks) = (0, 0);
            while let Some(chunk) = receiver.recv().await {
                copy::write_chunk(writing_pool, &chunk, trusted).await?;
                written += chunk.count;
                chunks += 1;
                bar.inc(chunk.count);
            }
            anyhow::Ok((written, chunks))
        }
    });
    let totals = futures::future::try_join_all(writing).await;
    writing_pool.close().await;
    let totals = totals?;
    producer.await.context("generating orders")?;
    bar.finish_and_clear();
    let written = totals.iter().map(|t| t.0).sum();
    let elapsed = started.elapsed();
    // The analytics rollups follow the events of order writes; these wrote
    // none, so the rollups and the projector's state are recomputed
    // (invariant 6).
    let rollups = if written > 0 {
        // Planner statistics for what was just written (the rollup rebuild's
        // and the API's plans depend on them); autovacuum may be off or late.
        sqlx::query("analyze orders, order_items, order_events")
            .execute(pool)
            .await?;
        let bar = progress_bar(0, progress, ROLLUPS_BAR);
        let rebuilding = super::bulk_pool(pool, 1).await?;
        let rebuilt = crate::analytics::rebuild(&rebuilding, &bar).await;
        rebuilding.close().await;
        Some(rebuilt?.elapsed)
    } else {
        None
    };
    Ok(SeedReport {
        written,
        already_written,
        chunks: totals.iter().map(|t| t.1).sum(),
        until,
        elapsed,
        rollups,
    })
}

/// The ordinals sorted by when their orders were placed. Written in this
/// order, every time-keyed index (ids are UUIDv7, items and events key on the
/// order id) grows at its right edge instead of taking random inserts, and
/// order numbers rise with time as a shop's do.
fn in_time_order(generator: &Generator, ordinals: Vec<u64>) -> Vec<u64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = ordinals.len().div_ceil(threads).max(1);
    let mut timed: Vec<(i64, u64)> = std::thread::scope(|scope| {
        let parts: Vec<_> = ordinals
            .chunks(part)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&ordinal| (generator.created_at(ordinal), ordinal))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("placing orders"))
            .collect()
    });
    timed.sort_unstable();
    timed.into_iter().map(|(_, ordinal)| ordinal).collect()
}

/// Creates a known store if it is missing; returns the store's currency and time zone.
async fn ensure_store(pool: &PgPool, id: &str) -> anyhow::Result<(String, String)> {
    if let Some((_, name, currency, timezone)) = KNOWN_STORES.iter().find(|known| known.0 == id) {
        sqlx::query(
            "insert into stores (id, name, currency, timezone) values ($1, $2, $3, $4)
             on conflict (id) do nothing",
        )
        .bind(id)
        .bind(name)
        .bind(currency)
        .bind(timezone)
        .execute(pool)
        .await
        .with_context(|| format!("creating store {id}"))?;
    }
    let found: Option<(String, String)> =
        sqlx::query_as("select currency, timezone from stores where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    match found {
        Some((currency, timezone)) => Ok((currency.trim().to_string(), timezone)),
        None => bail!("store {id} does not exist; create it first or seed default, eu or us"),
    }
}

const ORDERS_BAR: &str =
    "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} orders, {per_sec}, ETA {eta}";
const ROLLUPS_BAR: &str = "{spinner} [{elapsed_precise}] analytics rollups {pos}/{len}: {msg}";

/// A bar on stderr (drawn only on a terminal), or a hidden one.
fn progress_bar(length: u64, visible: bool, template: &str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
