//! The run loop: a reader (file thread or HTTP task) sends batches; each is
//! checked record by record, resolved against the catalog, and written in one
//! transaction together with the run's new position. A batch that fails as a
//! whole is written again order by order, each in a savepoint, so one order
//! the database refuses is rejected alone and the rest go in: an order is in,
//! whole, or not at all.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::{Acquire, PgConnection, PgPool};
use tokio::sync::mpsc;

use super::catalog::{self, Catalogs};
use super::input::{Batch, Record};
use super::mapping::Mapping;
use super::order::{self, external_id_of};
use super::rejects::RejectsFile;
use super::run::{self, ImportRun};
use super::write::{self, Outcome, Prepared};
use super::{Counts, ImportOptions, RejectedOrder};

/// Batches read ahead of the writer.
pub const BATCHES_AHEAD: usize = 2;

/// What a finished (or stopped) run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run: uuid::Uuid,
    /// This call's work (a resumed run's earlier work not included).
    pub counts: Counts,
    pub elapsed: Duration,
    /// Why the run stopped early, if it did.
    pub failure: Option<String>,
}

impl RunReport {
    pub fn orders_per_second(&self) -> f64 {
        self.counts.read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// `read 10, created 8, updated 1, unchanged 0, rejected 1 in 0.4 s (25 orders/s)`.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        format!(
            "read {}, created {}, updated {}, unchanged {}, rejected {} in {:.1} s ({:.0} orders/s)",
            c.read,
            c.created,
            c.updated,
            c.unchanged,
            c.rejected,
            self.elapsed.as_secs_f64(),
            self.orders_per_second()
        )
    }
}

/// How progress is shown: a bar on a terminal, a log line every few
/// seconds otherwise, or nothing (API runs, tests).
pub enum Reporter {
    Bar(ProgressBar),
    Lines { last: Instant },
    Quiet,
}

impl Reporter {
    /// A bar when standard error is a terminal, plain lines otherwise.
    pub fn for_terminal(total_bytes: Option<u64>) -> Reporter {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Reporter::Lines {
                last: Instant::now(),
            };
        }
        let bar = ProgressBar::new(total_bytes.unwrap_or(0));
        let template = "{spinner} [{elapsed_precise}] {wide_bar} {percent}% {msg} ETA {eta}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Reporter::Bar(bar)
    }

    fn update(&mut self, counts: &Counts, batch: &Batch, started: Instant) {
        let rate = counts.read as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let line = format!(
            "{} read, {} created, {} updated, {} unchanged, {} rejected, {rate:.0} orders/s",
            counts.read, counts.created, counts.updated, counts.unchanged, counts.rejected
        );
        match self {
            Reporter::Bar(bar) => {
                match batch.total {
                    Some(total) => {
                        bar.set_length(total);
                        bar.set_position(counts.read);
                    }
                    None if bar.length().unwrap_or(0) > 0 => bar.set_position(batch.bytes),
                    None => bar.tick(),
                }
                bar.set_message(line);
            }
            Reporter::Lines { last } => {
                if last.elapsed() >= Duration::from_secs(5) {
                    eprintln!("import: {line}");
                    *last = Instant::now();
                }
            }
            Reporter::Quiet => {}
        }
    }

    fn finish(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Everything a run needs besides its source.
pub struct Context<'a> {
    pub pool: &'a PgPool,
    pub run: &'a ImportRun,
    pub options: &'a ImportOptions,
    pub mapping: &'a Mapping,
    pub rejects: Option<RejectsFile>,
    pub reporter: Reporter,
}

/// Works through the batches `receiver` gets until the source ends, fails,
/// or more than `max_errors` orders are rejected; finishes the run.
pub async fn execute(
    mut context: Context<'_>,
    mut receiver: mpsc::Receiver<anyhow::Result<Batch>>,
) -> anyhow::Result<RunReport> {
    let started = Instant::now();
    let pool = context.pool;
    let run_id = context.run.id;
    let Some(lock) = crate::db::try_lead(pool, run::lock_key(run_id)).await? else {
        anyhow::bail!("import run {run_id} is being worked on by another process");
    };
    let mut catalogs = Catalogs::default();
    let mut counts = Counts::default();
    let mut failure = None;
    let mut prior_rejected = context.run.counts().rejected;
    while let Some(batch) = receiver.recv().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                failure = Some(format!("{error:#}"));
                break;
            }
        };
        let done = write_one(&mut context, &mut catalogs, &batch).await?;
        counts.add(&done);
        context.reporter.update(&counts, &batch, started);
        if let Some(max) = context.options.max_errors {
            prior_rejected += done.rejected;
            if prior_rejected > max {
                failure = Some(format!(
                    "stopped: {prior_rejected} orders rejected, more than --max-errors {max}"
                ));
                break;
            }
        }
    }
    drop(receiver);
    context.reporter.finish();
    run::finish(pool, run_id, failure.as_deref()).await?;
    let _ = sqlx::Connection::close(lock).await;
    Ok(RunReport {
        run: run_id,
        counts,
        elapsed: started.elapsed(),
        failure,
    })
}

/// Checks, resolves and writes one batch with the run's new position.
async fn write_one(
    context: &mut Context<'_>,
    catalogs: &mut Catalogs,
    batch: &Batch,
) -> anyhow::Result<Counts> {
    let options = context.options;
    let mut counts = Counts {
        read: batch.records.len() as u64,
        ..Counts::default()
    };
    let mut errors = Vec::new();
    let mut prepared = Vec::with_capacity(batch.records.len());
    let mut sources = Vec::with_capacity(batch.records.len());
    let now = Utc::now();
    for record in &batch.records {
        match prepare(
            context.pool,
            catalogs,
            options,
            context.mapping,
            record,
            now,
        )
        .await?
        {
            Ok(order) => {
                prepared.push(order);
                sources.push(record);
            }
            Err(reason) => reject(context, &mut errors, record, reason)?,
        }
    }
    let mut tx = context.pool.begin().await.context("starting a batch")?;
    let outcomes = write_all(&mut tx, &prepared, context.run.id, options).await?;
    for (outcome, record) in outcomes.into_iter().zip(sources) {
        match outcome {
            Outcome::Created => counts.created += 1,
            Outcome::Updated(_) => counts.updated += 1,
            Outcome::Unchanged => counts.unchanged += 1,
            Outcome::Rejected(reason) => reject(context, &mut errors, record, reason)?,
        }
    }
    counts.rejected = errors.len() as u64;
    run::advance(&mut tx, context.run.id, &batch.after, &counts, &errors).await?;
    if let Some(rejects) = &mut context.rejects {
        rejects.flush()?;
    }
    tx.commit().await.context("committing a batch")?;
    Ok(counts)
}

fn reject(
    context: &mut Context<'_>,
    errors: &mut Vec<RejectedOrder>,
    record: &Record,
    reason: String,
) -> anyhow::Result<()> {
    if let Some(rejects) = &mut context.rejects {
        rejects.write(record, &reason)?;
    }
    errors.push(RejectedOrder {
        line: record.line,
        external_id: record.value.as_ref().ok().and_then(external_id_of),
        error: reason,
    });
    Ok(())
}

/// The batch in one savepoint; if the database refuses it, order by order.
async fn write_all(
    conn: &mut PgConnection,
    prepared: &[Prepared],
    run: uuid::Uuid,
    options: &ImportOptions,
) -> anyhow::Result<Vec<Outcome>> {
    let (reserve, dry) = (options.reserve_stock, options.dry_run);
    let mut savepoint = conn.begin().await?;
    match write::write_batch(&mut savepoint, prepared, run, reserve, dry).await {
        Ok(outcomes) => {
            savepoint.commit().await?;
            return Ok(outcomes);
        }
        Err(error) => {
            savepoint.rollback().await?;
            tracing::debug!(
                error = format!("{error:#}"),
                "a batch failed; writing it order by order"
            );
        }
    }
    let mut outcomes = Vec::with_capacity(prepared.len());
    for one in prepared.chunks(1) {
        let mut savepoint = conn.begin().await?;
        match write::write_batch(&mut savepoint, one, run, reserve, dry).await {
            Ok(mut outcome) => {
                savepoint.commit().await?;
                outcomes.push(outcome.pop().unwrap_or(Outcome::Unchanged));
            }
            Err(error) => {
                savepoint.rollback().await?;
                outcomes.push(Outcome::Rejected(format!("{error:#}")));
            }
        }
    }
    Ok(outcomes)
}

/// One record as an order ready to write, or why it is rejected.
async fn prepare(
    pool: &PgPool,
    catalogs: &mut Catalogs,
    options: &ImportOptions,
    mapping: &Mapping,
    record: &Record,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Result<Prepared, String>> {
    let value = match &record.value {
        Ok(value) => mapping.apply(value.clone()),
        Err(reason) => return Ok(Err(reason.clone())),
    };
    let order = match order::parse(record.line, value, now) {
        Ok(order) => order,
        Err(reason) => return Ok(Err(reason)),
    };
    let store = order.store.clone().unwrap_or_else(|| options.store.clone());
    if options.only_store.as_ref().is_some_and(|own| *own != store) {
        return Ok(Err(format!("store: unknown store `{store}`")));
    }
    if catalogs.store(pool, &store).await?.is_none() {
        return Ok(Err(format!("store: unknown store `{store}`")));
    }
    if options.create_products {
        catalogs
            .create_missing(pool, &store, &order, options.dry_run)
            .await?;
    }
    let Some(catalog) = catalogs.store(pool, &store).await? else {
        return Ok(Err(format!("store: unknown store `{store}`")));
    };
    let lines = match catalog::resolve(&order, catalog) {
        Ok(lines) => lines,
        Err(reason) => return Ok(Err(reason)),
    };
    Ok(Ok(Prepared {
        currency: catalog.currency.clone(),
        store,
        order,
        lines,
    }))
}
