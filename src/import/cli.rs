//! `ordersearch import file|http|status`. Running the same command again
//! resumes its unfinished run (or name one with `--resume RUN`); Ctrl-C stops
//! after the batch in flight is rolled back, and the next run goes on there.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::ImportOptions;
use super::engine::{self, BATCHES_AHEAD, Context, Reporter, RunReport};
use super::http_source::{self, HttpSource};
use super::input::{self, FileInput, Format};
use super::mapping::Mapping;
use super::rejects::RejectsFile;
use super::run::{self, ImportRun, NewRun};
use crate::db::{Database, DatabaseConfig};

/// Arguments of `ordersearch import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(subcommand)]
    pub action: ImportAction,
}

#[derive(Debug, Subcommand)]
pub enum ImportAction {
    /// Import orders from files (NDJSON, JSON array or CSV; `.gz`; `-` is stdin).
    File(FileArgs),
    /// Import orders from a paged HTTP feed (json-server style).
    Http(HttpArgs),
    /// Show recent import runs, or one run.
    Status {
        /// A run's id.
        run: Option<Uuid>,
    },
}

/// Options every source takes.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// The store for orders that name none.
    #[arg(long, default_value = "default")]
    pub store: String,
    /// Validate everything and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop the run once more than this many orders were rejected.
    #[arg(long)]
    pub max_errors: Option<u64>,
    /// Go on with this run (by default, the same command resumes its unfinished run).
    #[arg(long)]
    pub resume: Option<Uuid>,
    /// Add unknown SKUs given inline (name, category, unit_price) as inactive products.
    #[arg(long)]
    pub create_products: bool,
    /// A JSON field mapping, e.g. {"external_id": "id", "items[].quantity": "amount"}.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Reserve stock for orders that are still open (history never touches stock otherwise).
    #[arg(long)]
    pub reserve_stock: bool,
    /// Where rejected records go (default: beside the input, `*.rejects.*`).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Orders per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// Files to read, in order; `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The format, when the file name does not say (`.ndjson`, `.json`, `.csv`, each maybe `.gz`).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, clap::Args)]
pub struct HttpArgs {
    /// The feed's URL, e.g. http://old-shop.internal/orders.
    pub url: url::Url,
    #[arg(long, default_value = "_page")]
    pub page_param: String,
    #[arg(long, default_value = "_limit")]
    pub limit_param: String,
    /// Page size, sent as the limit parameter.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub limit: u64,
    /// A request header, `Name: value` (repeatable). Never stored or printed.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Attempts per page before giving up (429, 5xx, timeouts).
    #[arg(long, default_value_t = 6)]
    pub tries: u32,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl CommonArgs {
    fn options(&self) -> ImportOptions {
        ImportOptions {
            store: self.store.clone(),
            only_store: None,
            dry_run: self.dry_run,
            max_errors: self.max_errors,
            create_products: self.create_products,
            reserve_stock: self.reserve_stock,
            batch: self.batch as usize,
        }
    }

    fn mapping(&self) -> anyhow::Result<(Mapping, String)> {
        let Some(path) = &self.map else {
            return Ok((Mapping::default(), String::new()));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the mapping {}", path.display()))?;
        Ok((Mapping::parse(&text)?, text))
    }
}

/// Runs an `import` command.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let db = Database::open(&args.db).await?;
    let result = async {
        db.migrate().await?;
        match args.action {
            ImportAction::File(file) => import_file(&db, file).await,
            ImportAction::Http(http) => import_http(&db, http).await,
            ImportAction::Status { run } => status(&db, run).await,
        }
    }
    .await;
    let closed = db.close().await;
    result.and(closed)
}

async fn import_file(db: &Database, args: FileArgs) -> anyhow::Result<()> {
    let common = &args.common;
    let (mapping, map_text) = common.mapping()?;
    let paths: Vec<PathBuf> =
        args.paths
            .iter()
            .map(|path| match path.as_os_str() == "-" {
                true => Ok(path.clone()),
                false => std::fs::canonicalize(path)
                    .with_context(|| format!("reading {}", path.display())),
            })
            .collect::<anyhow::Result<_>>()?;
    let source = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let identity = json!({"kind": "file", "paths": source, "format": args.format,
                          "store": common.store, "map": map_text,
                          "create_products": common.create_products, "reserve_stock": common.reserve_stock});
    let run = open_run(db, common, "file", &source, &identity).await?;
    let format = args.format.unwrap_or_else(|| Format::from_path(&paths[0]));
    let rejects = common.rejects.clone().unwrap_or_else(|| {
        RejectsFile::default_path(paths.first().map(PathBuf::as_path), format, run.id)
    });
    let (sender, receiver) = mpsc::channel(BATCHES_AHEAD);
    let (start, batch, chosen) = (run.position(), common.batch as usize, args.format);
    let reporter = Reporter::for_terminal(input::plain_size(&paths));
    let reader = tokio::task::spawn_blocking(move || {
        input::read(FileInput::Paths(paths), chosen, start, batch, sender);
    });
    let rejects = RejectsFile::new(rejects, format);
    let report = execute(db, &run, common, &mapping, rejects, reporter, receiver).await;
    reader.abort();
    finish(db, common, report).await
}

async fn import_http(db: &Database, args: HttpArgs) -> anyhow::Result<()> {
    let common = &args.common;
    let (mapping, map_text) = common.mapping()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for header in &args.headers {
        let (name, value) = http_source::parse_header(header)?;
        headers.insert(name, value);
    }
    let identity = json!({"kind": "http", "url": args.url.as_str(), "page_param": args.page_param,
                          "limit_param": args.limit_param, "limit": args.limit, "store": common.store,
                          "map": map_text, "create_products": common.create_products,
                          "reserve_stock": common.reserve_stock});
    let run = open_run(db, common, "http", args.url.as_str(), &identity).await?;
    let source = HttpSource {
        url: args.url.clone(),
        page_param: args.page_param.clone(),
        limit_param: args.limit_param.clone(),
        limit: args.limit,
        headers,
        tries: args.tries,
        timeout: Duration::from_secs(args.timeout.max(1)),
        backoff: Duration::from_millis(500),
    };
    let rejects = common
        .rejects
        .clone()
        .unwrap_or_else(|| RejectsFile::default_path(None, Format::Ndjson, run.id));
    let (sender, receiver) = mpsc::channel(BATCHES_AHEAD);
    let reader = tokio::spawn(source.read(run.position(), sender));
    let rejects = RejectsFile::new(rejects, Format::Ndjson);
    let report = execute(
        db,
        &run,
        common,
        &mapping,
        rejects,
        Reporter::for_terminal(None),
        receiver,
    )
    .await;
    reader.abort();
    finish(db, common, report).await
}

/// The run to work on: the one named by `--resume`, the same command's
/// unfinished one, or a new one.
async fn open_run(
    db: &Database,
    common: &CommonArgs,
    kind: &str,
    source: &str,
    identity: &serde_json::Value,
) -> anyhow::Result<ImportRun> {
    let pool = &db.pool;
    let store_exists: bool =
        sqlx::query_scalar("select exists (select 1 from stores where id = $1)")
            .bind(&common.store)
            .fetch_one(pool)
            .await?;
    if !store_exists {
        bail!(
            "store `{}` does not exist; create it first or pass --store",
            common.store
        );
    }
    let fingerprint = run::fingerprint(identity);
    let found = match common.resume {
        Some(id) => {
            let found = run::get(pool, id)
                .await?
                .with_context(|| format!("no import run {id}"))?;
            if run::fingerprint_of(pool, id).await?.as_deref() != Some(fingerprint.as_str()) {
                bail!(
                    "run {id} was started with other inputs or options; give the same ones to resume it"
                );
            }
            if found.status == "done" {
                bail!("run {id} has already finished");
            }
            Some(found)
        }
        None if common.dry_run => None,
        None => run::resumable(pool, &fingerprint).await?,
    };
    if let Some(found) = found {
        run::reopen(pool, found.id).await?;
        eprintln!(
            "resuming import run {} at {} (read {} before)",
            found.id, found.position.0, found.read
        );
        return Ok(found);
    }
    let options = serde_json::to_value(common.options())?;
    let new = NewRun {
        kind,
        source,
        fingerprint: &fingerprint,
        store: &common.store,
        options,
        dry_run: common.dry_run,
    };
    let created = run::create(pool, &new).await?;
    eprintln!("import run {}", created.id);
    Ok(created)
}

async fn execute(
    db: &Database,
    run: &ImportRun,
    common: &CommonArgs,
    mapping: &Mapping,
    rejects: RejectsFile,
    reporter: Reporter,
    receiver: mpsc::Receiver<anyhow::Result<input::Batch>>,
) -> anyhow::Result<(RunReport, PathBuf, u64)> {
    let path = rejects.path().to_path_buf();
    let options = common.options();
    let context = Context {
        pool: &db.pool,
        run,
        options: &options,
        mapping,
        rejects: Some(rejects),
        reporter,
    };
    tokio::select! {
        report = engine::execute(context, receiver) => {
            let report = report?;
            Ok((report.clone(), path, report.counts.rejected))
        }
        _ = crate::startup::shutdown_signal() => {
            run::finish(&db.pool, run.id, Some("interrupted")).await?;
            bail!("interrupted; run the same command again (or add --resume {}) to go on", run.id)
        }
    }
}

async fn finish(
    db: &Database,
    common: &CommonArgs,
    report: anyhow::Result<(RunReport, PathBuf, u64)>,
) -> anyhow::Result<()> {
    let (report, rejects, rejected) = report?;
    println!("import run {}: {}", report.run, report.summary());
    if rejected > 0 {
        println!("rejected orders are in {}", rejects.display());
    }
    if !common.dry_run && report.counts.created >= REBUILD_ROLLUPS_AT {
        rebuild_rollups(&db.pool).await?;
    }
    match report.failure {
        Some(failure) => bail!("{failure}; fix the cause and run the same command again to go on"),
        None => Ok(()),
    }
}

/// Orders created by one call from which the rollups are recomputed at the
/// end rather than left to the projector (as `seed` does).
const REBUILD_ROLLUPS_AT: u64 = 10_000;

/// Recomputes the analytics rollups from the order rows and moves the
/// projector past the imported events in the same transaction: for a large
/// import several times faster than projecting its events one by one.
async fn rebuild_rollups(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    sqlx::query("analyze orders, order_items, order_events")
        .execute(pool)
        .await?;
    let bar = match Reporter::for_terminal(None) {
        Reporter::Bar(bar) => bar,
        _ => indicatif::ProgressBar::hidden(),
    };
    let rebuilding = crate::seed::bulk_pool(pool, 1).await?;
    let rebuilt = crate::analytics::rebuild(&rebuilding, &bar).await;
    rebuilding.close().await;
    bar.finish_and_clear();
    println!(
        "analytics rollups rebuilt in {:.1} s",
        rebuilt?.elapsed.as_secs_f64()
    );
    Ok(())
}

async fn status(db: &Database, id: Option<Uuid>) -> anyhow::Result<()> {
    if let Some(id) = id {
        let found = run::get(&db.pool, id)
            .await?
            .with_context(|| format!("no import run {id}"))?;
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    let runs = run::list(&db.pool, 20).await?;
    if runs.is_empty() {
        println!("no import runs yet");
    }
    for found in runs {
        println!(
            "{}  {:<7} {:<4} {}  read {} created {} updated {} unchanged {} rejected {}  at {}  {}",
            found.id,
            found.status,
            found.kind,
            found.started_at.format("%Y-%m-%d %H:%M:%S"),
            found.read,
            found.created,
            found.updated,
            found.unchanged,
            found.rejected,
            found.position.0,
            found.source
        );
    }
    Ok(())
}
