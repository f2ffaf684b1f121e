//! The command line: `serve`, `migrate`, `keys`, and the data tools.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::db::{Database, DatabaseConfig};
use crate::http::auth::Role;
use crate::keys::NewApiKey;

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
    /// Write deterministic, realistic demo data.
    Seed(crate::seed::SeedArgs),
}

#[derive(Debug, clap::Args)]
pub struct DbArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    /// Address to listen on.
    #[arg(long, env = "ORDERSEARCH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The admin API key to accept; when unset and no admin key exists, one is
    /// generated and printed once.
    #[arg(long, env = "ORDERSEARCH_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("db", &self.db)
            .field("bind", &self.bind)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "***"))
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
        Command::Seed(args) => crate::seed::run(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing::info!(config = ?args, "starting");
    let db = Database::open(&args.db).await?;
    let result = serve_on(&db, &args).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn serve_on(db: &Database, args: &ServeArgs) -> anyhow::Result<()> {
    db.migrate().await?;
    if let Some(secret) = crate::keys::bootstrap_admin(&db.pool, args.admin_key.as_deref()).await? {
        println!("Created an admin API key; it is shown only this once:\n\n    {secret}\n");
    }
    let app = crate::startup::Application::build(db.pool.clone(), args.bind).await?;
    tracing::info!(address = %app.local_addr()?, "listening");
    app.run_until(crate::startup::shutdown_signal()).await
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
