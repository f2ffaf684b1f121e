//! The command line: `serve`, `migrate`, `keys`, and the data tools.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::db::{Database, DatabaseConfig};
use crate::http::auth::Role;
use crate::keys::NewApiKey;
use crate::search::config::SearchConfig;

/// Order service with staff search and analytics.
#[derive(Debug, Parser)]
#[command(name = "ordersearch", version, about)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "ORDERSEARCH_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (migrates first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage API keys.
    Keys(KeysArgs),
    /// Bring order history in from files or a paged HTTP feed.
    Import(crate::import::cli::ImportArgs),
    /// Write deterministic, realistic demo data.
    Seed(crate::seed::SeedArgs),
    /// Run the search indexer alone (one per deployment; others stand by).
    Indexer(SearchArgs),
    /// Rebuild the search index into a fresh one and swap it in.
    Reindex(SearchArgs),
    /// Compare the search index with the database and repair differences.
    Reconcile(SearchArgs),
    /// Run the RabbitMQ event relay alone (one per deployment; others stand by).
    Relay(RelayArgs),
    /// Maintain the analytics rollups (`rollups rebuild`).
    Rollups(crate::analytics::cli::RollupsArgs),
    /// Run the analytics projector alone (one per deployment; others stand by).
    Analytics(DbArgs),
}

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(flatten)]
    pub search: SearchConfig,
}

/// Where the event relay publishes. The URL may hold credentials: never logged.
#[derive(Clone, clap::Args)]
pub struct AmqpArgs {
    /// AMQP broker URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`; when set, the
    /// relay publishes every event to the topic exchange `ordersearch.events`.
    #[arg(
        long = "amqp-url",
        env = "ORDERSEARCH_AMQP_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

impl std::fmt::Debug for AmqpArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpArgs")
            .field("url", &self.url.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(flatten)]
    pub amqp: AmqpArgs,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(flatten)]
    pub search: SearchConfig,
    /// Do not run the search indexer in this process (run `ordersearch indexer`).
    #[arg(long, env = "ORDERSEARCH_NO_INDEXER")]
    pub no_indexer: bool,
    /// Address to listen on.
    #[arg(long, env = "ORDERSEARCH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The admin API key to accept; when unset and no admin key exists, one is
    /// generated and printed once.
    #[arg(long, env = "ORDERSEARCH_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Days events are kept in the log before housekeeping prunes them (never
    /// past a reader's position); an older feed cursor answers 410.
    #[arg(long, env = "ORDERSEARCH_EVENT_RETENTION_DAYS", default_value_t = crate::startup::DEFAULT_EVENT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub event_retention_days: u32,
    #[command(flatten)]
    pub amqp: AmqpArgs,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("db", &self.db)
            .field("search", &self.search)
            .field("no_indexer", &self.no_indexer)
            .field("bind", &self.bind)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "***"))
            .field("event_retention_days", &self.event_retention_days)
            .field("amqp", &self.amqp)
            .finish()
    }
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a key and print its secret once.
    Create {
        #[arg(long)]
        name: String,
        /// admin, writer, support or analyst.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Scope the key to one store.
        #[arg(long)]
        store: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: uuid::Uuid },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected admin, writer, support or analyst".to_string())
}

/// Runs the chosen command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    crate::telemetry::init_logging(cli.log_json);
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let db = Database::open(&args.db).await?;
            let migrated = db.migrate().await;
            db.close().await?;
            migrated?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys(args) => keys(args).await,
        Command::Import(args) => crate::import::cli::run(args).await,
        Command::Seed(args) => crate::seed::run(args).await,
        Command::Rollups(args) => crate::analytics::cli::run(args).await,
        Command::Indexer(args) => with_search(args, SearchTask::Indexer).await,
        Command::Reindex(args) => with_search(args, SearchTask::Reindex).await,
        Command::Reconcile(args) => with_search(args, SearchTask::Reconcile).await,
        Command::Relay(args) => relay(args).await,
        Command::Analytics(args) => crate::analytics::cli::project(&args.db).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing::info!(config = ?args, "starting");
    let db = Database::open_for_requests(&args.db).await?;
    let result = serve_on(&db, &args).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn serve_on(db: &Database, args: &ServeArgs) -> anyhow::Result<()> {
    db.migrate().await?;
    if let Some(secret) = crate::keys::bootstrap_admin(&db.pool, args.admin_key.as_deref()).await? {
        println!("Created an admin API key; it is shown only this once:\n\n    {secret}\n");
    }
    let engine = args.search.open(&args.db.data_dir).await?;
    let app =
        crate::startup::Application::build(db.pool.clone(), engine, args.bind, !args.no_indexer)
            .await?
            .with_event_retention(args.event_retention_days)
            .with_relay(args.amqp.url.clone());
    tracing::info!(address = %app.local_addr()?, "listening");
    app.run_until(crate::startup::shutdown_signal()).await
}

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let url = args
        .amqp
        .url
        .context("set ORDERSEARCH_AMQP_URL (or --amqp-url) to the broker to publish to")?;
    let db = Database::open(&args.db).await?;
    let result = async {
        db.migrate().await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let relay = tokio::spawn(crate::events::relay::run(db.pool.clone(), url, stopped));
        crate::startup::shutdown_signal().await;
        let _ = stop.send(true);
        relay.await?;
        anyhow::Ok(())
    }
    .await;
    let closed = db.close().await;
    result.and(closed)
}

async fn keys(args: KeysArgs) -> anyhow::Result<()> {
    let db = Database::open(&args.db).await?;
    let result = keys_on(&db, args.action).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn keys_on(db: &Database, action: KeysAction) -> anyhow::Result<()> {
    db.migrate().await?;
    match action {
        KeysAction::Create { name, role, store } => {
            let new = NewApiKey { name, role, store };
            let mut conn = db.pool.acquire().await?;
            let created = crate::keys::insert(&mut conn, &new, None)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("{}", created.key);
        }
        KeysAction::List => {
            let keys = crate::keys::list(&db.pool, None, i64::from(i32::MAX))
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            for key in keys {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let store = key.store.as_deref().unwrap_or("*");
                println!("{}\t{}\t{}\t{}\t{state}", key.id, key.role, store, key.name);
            }
        }
        KeysAction::Revoke { id } => {
            crate::keys::revoke(&db.pool, id)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))
                .context("revoking the key")?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

/// The search maintenance commands.
enum SearchTask {
    Indexer,
    Reindex,
    Reconcile,
}

async fn with_search(args: SearchArgs, task: SearchTask) -> anyhow::Result<()> {
    let db = Database::open(&args.db).await?;
    let result = run_search_task(&db, &args, task).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn run_search_task(db: &Database, args: &SearchArgs, task: SearchTask) -> anyhow::Result<()> {
    db.migrate().await?;
    let engine = args.search.open(&args.db.data_dir).await?;
    match task {
        SearchTask::Indexer => {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let indexer = tokio::spawn(crate::search::indexer::run(
                db.pool.clone(),
                engine,
                stopped,
            ));
            crate::startup::shutdown_signal().await;
            let _ = stop.send(true);
            indexer.await?;
        }
        SearchTask::Reindex => {
            let progress = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} orders  {per_sec}  eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = crate::search::reindex::reindex(&db.pool, &engine, &progress).await?;
            println!(
                "reindexed {} orders in {:.1} s ({:.0} docs/s); {} changed meanwhile and were queued again",
                report.documents, report.seconds, report.documents_per_second, report.requeued
            );
        }
        SearchTask::Reconcile => {
            let report = crate::search::reconcile::reconcile(&db.pool, &engine).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}
